"""Publish a workspace as a self-contained map file."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipelines.store.base import Workspace
from pipelines.views import leads_view
from webmap.map import write_map

__all__ = ["publish_map"]

log = logging.getLogger(__name__)


def publish_map(
    ws: Workspace,
    path: str | Path,
    *,
    title: str = "绿盾线索",
    tianditu_key: str | None = None,
    history: bool = True,
    chips: Mapping[str, Any] | None = None,
    amap: bool = True,
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
    history
        Show each lead's last status changes in its popup.
    chips
        Lead id -> before/after images (paths or data URIs, see
        :func:`webmap.popup.chip_cells`), shown as thumbnails in the popups.
    amap
        Offer the Amap basemaps (our layers are shifted to GCJ-02 while one is shown).
    """
    return write_map(
        path,
        leads=leads_view(ws),
        reserves=ws.read_features("reserves"),
        wetlands=ws.read_features("wetlands"),
        mines=ws.read_features("mines"),
        admin=ws.read_features("admin"),
        history=ws.read_table("lead_history", order='"id"') if history else None,
        chips=chips,
        title=title,
        tianditu_key=tianditu_key,
        amap=amap,
    )
