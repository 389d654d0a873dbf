"""A lead's identity across monitoring rounds.

A lead keeps its id when a later round sends the same number. An unnumbered patch
(``id_source = generated``) is linked to an earlier lead when their
footprints overlap by at least ``threshold`` of the smaller one; the detection then
takes the earlier lead's id (and its status and history), and is recorded as 扩大 when
the footprint grew.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import overlay
from geo.crs import CGCS2000, CHINA_ALBERS
from layers.i18n import _

__all__ = ["GROWTH", "LINK_OVERLAP", "link_footprints"]

log = logging.getLogger(__name__)

#: Default overlap (of the smaller footprint) that makes two patches the same lead.
LINK_OVERLAP = 0.5
#: A linked footprint at least this much larger than before is recorded as 扩大.
GROWTH = 1.10


def link_footprints(
    frame: gpd.GeoDataFrame, existing: gpd.GeoDataFrame, *, threshold: float = LINK_OVERLAP
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Give generated-id patches of ``frame`` the id of an overlapping earlier lead.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        New leads (EPSG:4490) with ``lead_id``, ``batch``, ``id_source``.
    existing : geopandas.GeoDataFrame
        Leads already in the workspace.
    threshold : float
        Minimum intersection area over the smaller footprint's area.

    Returns
    -------
    (frame, notes)
        The frame with linked ids (``id_source = linked``) and one note per link.
    """
    notes: list[str] = []
    if "id_source" not in frame.columns or existing.empty:
        return frame, notes
    cand = np.flatnonzero((frame["id_source"] == "generated").to_numpy()
                          & ~frame["lead_id"].isin(existing["lead_id"]).to_numpy())
    old_polys = existing[shapely.get_dimensions(existing.geometry.values) == 2]
    if not len(cand) or old_polys.empty:
        return frame, notes
    new_geoms = np.asarray(frame.geometry.values, dtype=object)[cand]
    old_geoms = np.asarray(old_polys.geometry.values, dtype=object)
    left, right = overlay.intersects_pairs(new_geoms, old_geoms)
    if not len(left):
        return frame, notes
    inter, _shares = overlay.area_shares(new_geoms, old_geoms, left, right, crs=CGCS2000)
    new_area = shapely.area(overlay.project(new_geoms, CGCS2000, CHINA_ALBERS))
    old_area = shapely.area(overlay.project(old_geoms, CGCS2000, CHINA_ALBERS))
    smaller = np.minimum(new_area[left], old_area[right])
    overlap = np.where(smaller > 0, inter / np.where(smaller > 0, smaller, 1), 0)
    ok = overlap >= threshold  # same batch too: re-ingesting a file links to itself
    # best match per new patch, each earlier lead taken at most once (largest overlap first)
    frame = frame.copy()
    taken: set[int] = set()
    done: set[int] = set()
    for k in np.argsort(-overlap):
        if not ok[k] or int(left[k]) in done or int(right[k]) in taken:
            continue
        i, j = int(cand[left[k]]), int(right[k])
        done.add(int(left[k]))
        taken.add(j)
        old_id = old_polys["lead_id"].iloc[j]
        grew = new_area[left[k]] >= old_area[j] * GROWTH
        frame.loc[frame.index[i], "lead_id"] = old_id
        frame.loc[frame.index[i], "id_source"] = "linked"
        if grew:
            frame.loc[frame.index[i], "change_type"] = "扩大"
        elif pd.isna(frame["change_type"].iloc[i]):
            frame.loc[frame.index[i], "change_type"] = old_polys["change_type"].iloc[j]
        grown = _("，范围扩大：扩大") if grew else ""
        notes.append(_("第 {row} 行：无编号图斑关联到线索 {lead}（重叠 {share}{grown}）").format(
            row=int(frame["src_row"].iloc[i]), lead=old_id, share=f"{overlap[k]:.0%}",
            grown=grown))
    log.info("linked %d unnumbered patches to earlier leads", len(done))
    return frame, notes
