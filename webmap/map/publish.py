"""Publish a workspace as a self-contained map file."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from layers.i18n import _
from pipelines.progress import Progress, no_progress
from pipelines.publish.views import leads_view
from pipelines.store.base import Workspace
from webmap.map.build import write_map

__all__ = ["lead_chip_paths", "publish_map"]

log = logging.getLogger(__name__)


def _resolve(ws: Workspace, value: str) -> Path:
    """A chip path as stored: absolute, or relative to the working or workspace folder."""
    path = Path(value)
    if path.is_absolute() or path.exists():
        return path
    home = getattr(ws, "path", None)
    return Path(home).parent / path if home is not None else path


def lead_chip_paths(
    ws: Workspace, lead_ids: Sequence[str] | None = None
) -> dict[str, dict[str, Path]]:
    """Return lead id -> {kind: PNG path} of the chips recorded in ``lead_chips``.

    Paths are as :mod:`pipelines.publish.chips` stored them, resolved against the working folder
    and then the workspace's folder; files that are gone are left to the caller (the map
    builder warns and leaves them out).

    Parameters
    ----------
    ws
        The workspace.
    lead_ids
        Only these leads; None for all.
    """
    if lead_ids is None:
        rows = ws.read_table("lead_chips")
    elif not lead_ids:
        return {}
    else:
        rows = ws.read_table_in("lead_chips", "lead_id", list(lead_ids))
    out: dict[str, dict[str, Path]] = {}
    for lead, kind, path in zip(rows["lead_id"], rows["kind"], rows["path"], strict=True):
        if isinstance(path, str) and path:
            out.setdefault(str(lead), {})[str(kind)] = _resolve(ws, path)
    return out


def publish_map(
    ws: Workspace,
    path: str | Path,
    *,
    title: str = "绿盾线索",
    tianditu_key: str | None = None,
    history: bool = True,
    chips: Mapping[str, Any] | bool = True,
    amap: bool = True,
    progress: Progress = no_progress,
) -> Path:
    """Write the workspace's leads, reserves, wetlands, mines and counties to one HTML file.

    Parameters
    ----------
    ws : Workspace
        The workspace (classified or not: unclassified leads show without zone).
    path : str or pathlib.Path
        The ``.html`` file to write.
    title : str
        Title shown on the map.
    tianditu_key : str or None
        天地图 key; adds the Tianditu vector and imagery basemaps.
    history : bool
        Show each lead's last status changes in its popup.
    chips : mapping or bool
        Before/after thumbnails in the popups: True for the chips the workspace records
        (``lvdun chips``, inlined into the file), False for none, or a mapping lead id ->
        before/after images (paths or data URIs, see :func:`webmap.map.popup.chip_cells`).
    amap : bool
        Offer the Amap basemaps (our layers are shifted to GCJ-02 while one is shown).
    progress : Progress
        Told of step ``读取图层`` (each of the six reads), then those of
        :func:`webmap.map.build.write_map`.
    """
    reads = {
        "leads": lambda: leads_view(ws),
        "reserves": lambda: ws.read_features("reserves"),
        "wetlands": lambda: ws.read_features("wetlands"),
        "mines": lambda: ws.read_features("mines"),
        "admin": lambda: ws.read_features("admin"),
        "history": lambda: ws.read_table("lead_history", order='"id"') if history else None,
    }
    step, layers = _("读取图层"), {}
    for done, (name, read) in enumerate(reads.items()):
        progress(step, done, len(reads))
        layers[name] = read()
    progress(step, len(reads), len(reads))
    return write_map(
        path,
        **layers,
        chips=lead_chip_paths(ws) if chips is True else (chips or None),
        title=title,
        tianditu_key=tianditu_key,
        amap=amap,
        progress=progress,
    )
