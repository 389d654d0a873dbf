"""Publish a workspace as a self-contained map file."""

from __future__ import annotations

import logging
from pathlib import Path

from pipelines.store.base import Workspace
from pipelines.views import leads_view
from webmap.map import build_map, write_map

__all__ = ["map_html", "publish_map"]

log = logging.getLogger(__name__)


def publish_map(
    ws: Workspace, path: str | Path, *, title: str = "绿盾线索", tianditu_key: str | None = None
) -> Path:
    """Write the workspace's leads, reserves, wetlands, mines and counties to one HTML file.

    Parameters
    ----------
    ws
        The workspace (classified or not: unclassified leads show without zone).
    path
        The ``.html`` file to write.
    title
        Title shown on the map.
    tianditu_key
        天地图 key; adds the Tianditu vector and imagery basemaps.
    """
    return write_map(
        path,
        leads=leads_view(ws),
        reserves=ws.read_features("reserves"),
        wetlands=ws.read_features("wetlands"),
        mines=ws.read_features("mines"),
        admin=ws.read_features("admin"),
        title=title,
        tianditu_key=tianditu_key,
    )


def map_html(ws: Workspace, *, title: str = "绿盾线索", tianditu_key: str | None = None) -> str:
    """Return the map of the workspace as one HTML page (the layers embedded)."""
    m = build_map(
        leads=leads_view(ws),
        reserves=ws.read_features("reserves"),
        wetlands=ws.read_features("wetlands"),
        mines=ws.read_features("mines"),
        admin=ws.read_features("admin"),
        title=title,
        tianditu_key=tianditu_key,
    )
    return m.get_root().render()
