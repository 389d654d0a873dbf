"""Classify leads held in memory against reserves, wetlands, mines and counties.

The job (:mod:`pipelines.classify.job`) and the engines (:mod:`pipelines.classify.engines`)
both call :func:`classify_frames`: it is here so that neither imports the other for it.
Reserve zones become ranked polygons before they reach ``geo.overlay``: the rank orders
zone strictness first, then reserve level.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import overlay
from geo.crs import CGCS2000, CHINA_ALBERS
from geo.nearest import SegmentIndex
from layers.mines import mine_columns
from layers.schema import ZONE_LABELS, Zone, zone_priority
from layers.wetlands import WETLAND_LEVEL_RANK, match_geometries, match_label
from pipelines.classify.members import primary_reserves
from pipelines.errors import WorkspaceError

__all__ = ["LEAD_COLUMNS", "classify_frames", "outline_index"]

#: The columns of ``leads`` that :func:`classify_frames` reads (with the geometry).
LEAD_COLUMNS = ("lead_id", "batch")

log = logging.getLogger(__name__)


def classify_frames(
    leads: gpd.GeoDataFrame,
    reserves: gpd.GeoDataFrame,
    *,
    wetlands: gpd.GeoDataFrame | None = None,
    mines: gpd.GeoDataFrame | None = None,
    admin: gpd.GeoDataFrame | None = None,
    near_m: float = 1000.0,
    mine_margin_m: float = 500.0,
    reserve_pairs: tuple[np.ndarray, np.ndarray] | None = None,
    outlines: SegmentIndex | None = None,
) -> pd.DataFrame:
    """Return one classification row per lead (columns of ``lead_class``).

    All frames must be in EPSG:4490. Wetland list entries given as points are matched by
    the circle of their area (``wetland_match`` says ``radius≈N m (approximation)``); mine
    flags are those of :func:`pipelines.verify.mines.mine_columns`. ``reserve_pairs`` are the
    ``(lead, zone polygon)`` positions from another engine (:mod:`pipelines.classify.engines`),
    sorted as :func:`geo.overlay.intersects_pairs` sorts them; by default they are
    computed here. ``outlines`` is :func:`outline_index` of ``reserves``, when the caller
    classifies several frames against the same reserves (built here by default).

    Parameters
    ----------
    leads : geopandas.GeoDataFrame
        The leads, with :data:`LEAD_COLUMNS`.
    reserves : geopandas.GeoDataFrame
        Zone polygons with ``reserve_code``, ``reserve_name``, ``level`` and ``zone``.
    wetlands, mines, admin : geopandas.GeoDataFrame or None
        The other reference layers (None or empty: their columns stay empty).
    near_m : float
        Leads within this distance (metres) of a reserve outline get ``near_boundary``.
    mine_margin_m : float
        Leads this close to a valid mine's polygon but outside it are flagged.
    reserve_pairs : tuple of numpy.ndarray or None
        Lead / zone polygon pairs from another engine.
    outlines : SegmentIndex or None
        The outlines' segment index, built once by the caller.

    Returns
    -------
    pandas.DataFrame
        One row per lead, in the order of ``leads``.
    """
    for name, frame in (("leads", leads), ("reserves", reserves), ("wetlands", wetlands),
                        ("mines", mines), ("admin", admin)):
        if frame is not None and len(frame) and not frame.crs.equals(CGCS2000):
            raise WorkspaceError(f"{name} must be in EPSG:4490 for classification, "
                                 f"got {frame.crs}")
    geoms = np.asarray(leads.geometry.values, dtype=object)
    n = len(geoms)
    zones = np.asarray(reserves.geometry.values, dtype=object)
    prio = np.array([zone_priority(z, lv) for z, lv in zip(reserves["zone"], reserves["level"],
                                                           strict=True)])
    if reserve_pairs is None:
        left, right = overlay.intersects_pairs(geoms, zones)
    else:
        left, right = reserve_pairs
    _, share = overlay.area_shares(geoms, zones, left, right, crs=CGCS2000)
    # the primary reserve: zone, level, share, code (pipelines/classify/members.py)
    win = primary_reserves(n, left, right, share, prio, reserves["reserve_code"].to_numpy())

    out = pd.DataFrame({"lead_id": leads["lead_id"].to_numpy(),
                        "batch": leads["batch"].to_numpy()})
    has = win >= 0
    pick = np.where(has, win, 0)
    out["reserve_code"] = np.where(has, reserves["reserve_code"].to_numpy()[pick], None)
    out["reserve_name"] = np.where(has, reserves["reserve_name"].to_numpy()[pick], None)
    out["reserve_level"] = np.where(has, reserves["level"].to_numpy()[pick], None)
    zone = np.where(has, reserves["zone"].to_numpy()[pick], Zone.OUTSIDE.value)
    out["zone"] = zone
    labels, label_inv = np.unique(zone.astype(str), return_inverse=True)
    out["zone_label"] = np.array([ZONE_LABELS[Zone(z)] for z in labels.tolist()],
                                 dtype=object)[label_inv]
    out["overlaps"] = _overlaps(n, left, right, share, prio, reserves)

    is_patch = shapely.get_dimensions(geoms) == 2
    area = np.full(n, np.nan)  # patches only: points and lines are not projected
    if is_patch.any():
        area[is_patch] = shapely.area(overlay.project(geoms[is_patch], CGCS2000, CHINA_ALBERS))
    out["area_m2"] = area
    out["area_in_zone_m2"] = _area_in_zone(geoms, zones, left, right, prio, reserves, is_patch)

    if outlines is None:
        outlines = outline_index(reserves)
    dist = overlay.boundary_distance(geoms, outlines, crs=CGCS2000)
    out["dist_boundary_m"] = np.round(dist, 2)
    out["near_boundary"] = (dist <= near_m).astype(int)

    for column, values in _wetlands(geoms, wetlands, is_patch).items():
        out[column] = values
    for column, values in mine_columns(geoms, mines, margin_m=mine_margin_m).items():
        out[column] = values.to_numpy()
    out["county_adcode"], out["county_name"] = _county(geoms, admin)
    return out


def outline_index(reserves: gpd.GeoDataFrame) -> SegmentIndex:
    """The segment index of the reserves' outlines, that boundary distances are measured to.

    Parameters
    ----------
    reserves : geopandas.GeoDataFrame
        Zone polygons with ``reserve_code``, EPSG:4490.
    """
    return SegmentIndex(shapely.boundary(_outlines(reserves)))


def _outlines(reserves: gpd.GeoDataFrame) -> np.ndarray:
    """Each reserve's outline: the union of its zone polygons (one polygon: itself)."""
    codes = reserves["reserve_code"]
    known = codes.notna().to_numpy()
    geoms = np.asarray(reserves.geometry.values, dtype=object)[known]
    _, group, size = np.unique(codes[known].astype(str).to_numpy(), return_inverse=True,
                               return_counts=True)
    alone = size[group] == 1
    several = np.flatnonzero(~alone)
    order = several[np.argsort(group[several], kind="stable")]
    cuts = np.flatnonzero(np.diff(group[order])) + 1
    unions = [shapely.union_all(part) for part in np.split(geoms[order], cuts) if len(part)]
    return np.concatenate([geoms[alone], np.array(unions, dtype=object)])


def _overlaps(
    n: int, left: np.ndarray, right: np.ndarray, share: np.ndarray, prio: np.ndarray,
    reserves: gpd.GeoDataFrame,
) -> np.ndarray:
    """Each lead's overlaps as a JSON list, strictest first (ties in pair order).

    One JSON fragment per zone polygon and one text per distinct share are made in Python;
    the fragments of the pairs are then joined with array operations, one pass per rank
    within a lead (the most overlaps any lead has), not one per pair.
    """
    out = np.full(n, "[]", dtype=object)
    if not len(left):
        return out
    codes = reserves["reserve_code"].to_numpy()
    names = reserves["reserve_name"].to_numpy()
    zones = reserves["zone"].to_numpy()
    used, used_inv = np.unique(right, return_inverse=True)
    head = np.array([json.dumps({"reserve_code": codes[j], "reserve_name": names[j],
                                 "zone": zones[j]}, ensure_ascii=False)[:-1] + ', "share": '
                     for j in used.tolist()], dtype=object)
    values, value_inv = np.unique(share, return_inverse=True)
    text = np.array([repr(round(float(v), 6)) + "}" for v in values.tolist()], dtype=object)
    frag = head[used_inv] + text[value_inv]
    order = np.lexsort((np.arange(len(left)), -np.asarray(prio)[right], left))
    lead, frag = np.asarray(left)[order], frag[order]
    start = np.ones(len(lead), dtype=bool)
    start[1:] = lead[1:] != lead[:-1]
    first = np.flatnonzero(start)
    rank = np.arange(len(lead)) - np.repeat(first, np.diff(np.append(first, len(lead))))
    acc = np.empty(n, dtype=object)
    acc[lead[first]] = "[" + frag[first]
    for r in range(1, int(rank.max()) + 1):
        at = rank == r
        acc[lead[at]] = acc[lead[at]] + ", " + frag[at]
    out[lead[first]] = acc[lead[first]] + "]"
    return out


def _area_in_zone(
    geoms: np.ndarray, zones: np.ndarray, left: np.ndarray, right: np.ndarray,
    prio: np.ndarray, reserves: gpd.GeoDataFrame, is_patch: np.ndarray,
) -> list[str | None]:
    """Split each patch into disjoint parts, each counted in the strictest zone covering it."""
    out: list[str | None] = [None] * len(geoms)
    patches = np.flatnonzero(is_patch)
    if not len(patches):
        return out
    g_ea = overlay.project(geoms[patches], CGCS2000, CHINA_ALBERS)
    position = {int(p): k for k, p in enumerate(patches)}
    sel = np.flatnonzero(np.isin(left, patches))
    needed, z_inv = np.unique(right[sel], return_inverse=True)
    z_ea = overlay.project(zones[needed], CGCS2000, CHINA_ALBERS)
    # a zone holding the patch whole takes all that is left of it; for the others only
    # the zone's piece around the patch is cut
    g_pos = np.array([position[int(i)] for i in left[sel]], dtype=np.intp)
    inside, local = overlay.clip_pairs(g_ea, z_ea, g_pos, z_inv)
    zone_codes = reserves["zone"].to_numpy()
    matches: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for k, (i, j) in enumerate(zip(left[sel], right[sel], strict=True)):
        matches[int(i)].append((int(j), k))
    for i in patches:
        remaining = g_ea[position[int(i)]]
        areas: dict[str, float] = defaultdict(float)
        for j, k in sorted(matches.get(int(i), []), key=lambda jk: (-prio[jk[0]], jk[0])):
            if inside[k]:
                areas[zone_codes[j]] += float(shapely.area(remaining))
                remaining = None
                break
            part = shapely.intersection(remaining, local[k])
            areas[zone_codes[j]] += float(shapely.area(part))
            remaining = shapely.difference(remaining, local[k])
        if remaining is not None:
            areas[Zone.OUTSIDE.value] += float(shapely.area(remaining))
        out[int(i)] = json.dumps({k: round(v, 2) for k, v in areas.items() if round(v, 2) > 0})
    return out


def _wetlands(
    geoms: np.ndarray, wetlands: gpd.GeoDataFrame | None, is_patch: np.ndarray
) -> dict[str, list[Any]]:
    """Wetlands each lead touches, most important first, with how each was matched.

    ``wetland_area_m2`` is the patch area inside the union of those wetlands (China
    Albers); points have none.
    """
    n = len(geoms)
    out: dict[str, list[Any]] = {c: [None] * n for c in (
        "wetland_ids", "wetland_names", "wetland_levels", "wetland_match", "wetland_area_m2")}
    if wetlands is None or wetlands.empty:
        return out
    area = wetlands["area_m2"] if "area_m2" in wetlands else None
    shapes, kinds, radius = match_geometries(wetlands.geometry.values, area)
    usable = np.flatnonzero(np.array([s is not None for s in shapes], dtype=bool))
    left, right = overlay.intersects_pairs(geoms, shapes[usable])
    right = usable[right]
    ids = wetlands["wetland_id"].astype(str).to_numpy()
    names = wetlands["wetland_name"].astype(str).to_numpy()
    levels = wetlands["wetland_level"].to_numpy(dtype=object)
    matches: dict[int, list[int]] = defaultdict(list)
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        matches[i].append(j)
    for i, js in matches.items():
        js.sort(key=lambda j: (-WETLAND_LEVEL_RANK.get(str(levels[j]), 0), names[j]))
        out["wetland_ids"][i] = "; ".join(ids[js])
        out["wetland_names"][i] = "; ".join(names[js])
        out["wetland_levels"][i] = "; ".join(str(levels[j] or "") for j in js)
        out["wetland_match"][i] = "; ".join(str(match_label(kinds[j], radius[j])) for j in js)
        if is_patch[i]:
            union = shapely.union_all(overlay.project(shapes[js], CGCS2000, CHINA_ALBERS))
            patch = overlay.project(geoms[i : i + 1], CGCS2000, CHINA_ALBERS)[0]
            out["wetland_area_m2"][i] = round(float(shapely.area(
                shapely.intersection(patch, union))), 2)
    return out


def _county(
    geoms: np.ndarray, admin: gpd.GeoDataFrame | None
) -> tuple[list[str | None], list[str | None]]:
    n = len(geoms)
    if admin is None or admin.empty:
        return [None] * n, [None] * n
    counties = admin[admin["admin_level"] == "county"]
    if counties.empty:
        return [None] * n, [None] * n
    polys = np.asarray(counties.geometry.values, dtype=object)
    left, right = overlay.intersects_pairs(geoms, polys)
    _, share = overlay.area_shares(geoms, polys, left, right, crs=CGCS2000)
    # the county holding the largest share of the lead wins; ties by lower index
    win = overlay.winners(n, left, np.arange(len(left)), share)
    codes = counties["adcode"].to_numpy()
    names = counties["admin_name"].to_numpy()
    has = win >= 0
    pick = right[np.where(has, win, 0)] if len(right) else np.zeros(n, dtype=int)
    return (list(np.where(has, codes[pick], None)), list(np.where(has, names[pick], None)))
