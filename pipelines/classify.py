"""Classify every lead: reserve(s) and zone, wetland(s), mine(s), county, boundary distance.

Reserve zones become ranked polygons before they reach ``geo.overlay``: the rank orders
zone strictness first (核心区 = 核心保护区 > 缓冲区 > 实验区 = 一般控制区 > unzoned), then
reserve level. The strictest wins; every membership is kept in ``overlaps`` with its share.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import overlay
from geo.crs import CGCS2000, CHINA_ALBERS
from layers.schema import ZONE_LABELS, Zone, zone_priority
from pipelines.errors import WorkspaceError
from pipelines.store.base import Workspace, new_run_id, now_iso

__all__ = ["ClassifyReport", "classify", "classify_frames"]

log = logging.getLogger(__name__)

ENGINES = ("geos",)


@dataclass
class ClassifyReport:
    """What a classification run did."""

    run_id: str
    leads: int
    by_zone: dict[str, int] = field(default_factory=dict)
    near_boundary: int = 0
    boundary_version: str | None = None


def classify(ws: Workspace, *, near_m: float = 1000.0, engine: str = "geos") -> ClassifyReport:
    """Classify every lead of the workspace and replace ``lead_class``.

    Parameters
    ----------
    ws
        The workspace; it needs ``leads`` and ``reserves``.
    near_m
        Leads within this distance of a reserve boundary get ``near_boundary``.
    engine
        Overlay engine; ``geos`` runs in process.
    """
    if engine not in ENGINES:
        raise WorkspaceError(f"unknown engine {engine!r}; available: {', '.join(ENGINES)}")
    started = now_iso()
    leads = ws.read_features("leads")
    reserves = ws.read_features("reserves")
    if leads.empty:
        raise WorkspaceError("no leads in the workspace: run `lvdun ingest leads FILE` first")
    if reserves.empty:
        raise WorkspaceError("no reserves in the workspace: run `lvdun ingest reserves FILE`")
    runs = ws.runs()
    version = runs.loc[runs["command"] == "ingest reserves", "run_id"]
    boundary_version = str(version.iloc[-1]) if len(version) else None
    run_id = new_run_id()
    result = classify_frames(
        leads, reserves,
        wetlands=ws.read_features("wetlands"),
        mines=ws.read_features("mines"),
        admin=ws.read_features("admin"),
        near_m=near_m,
    )
    result["boundary_version"] = boundary_version
    result["classified_at"] = now_iso()
    result["run_id"] = run_id
    by_zone = result["zone"].value_counts().to_dict()
    with ws.transaction():
        ws.execute('DELETE FROM "lead_class"')
        ws.append_rows("lead_class", result)
        ws.record_run(
            run_id, "classify", started_at=started,
            params={"near_m": near_m, "engine": engine},
            counts={"leads": len(result), "by_zone": by_zone,
                    "near_boundary": int(result["near_boundary"].sum())},
            crs={"areas": CHINA_ALBERS.name, "distances": "CGCS2000 Gauss-Krüger 6° zone"},
        )
    return ClassifyReport(run_id=run_id, leads=len(result), by_zone=by_zone,
                          near_boundary=int(result["near_boundary"].sum()),
                          boundary_version=boundary_version)


def classify_frames(
    leads: gpd.GeoDataFrame,
    reserves: gpd.GeoDataFrame,
    *,
    wetlands: gpd.GeoDataFrame | None = None,
    mines: gpd.GeoDataFrame | None = None,
    admin: gpd.GeoDataFrame | None = None,
    near_m: float = 1000.0,
) -> pd.DataFrame:
    """Return one classification row per lead (columns of ``lead_class``).

    All frames must be in EPSG:4490.
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
    left, right = overlay.intersects_pairs(geoms, zones)
    _, share = overlay.area_shares(geoms, zones, left, right, crs=CGCS2000)
    win = overlay.winners(n, left, right, prio)

    out = pd.DataFrame({"lead_id": leads["lead_id"].to_numpy(),
                        "batch": leads["batch"].to_numpy()})
    has = win >= 0
    pick = np.where(has, win, 0)
    out["reserve_code"] = np.where(has, reserves["reserve_code"].to_numpy()[pick], None)
    out["reserve_name"] = np.where(has, reserves["reserve_name"].to_numpy()[pick], None)
    out["reserve_level"] = np.where(has, reserves["level"].to_numpy()[pick], None)
    zone = np.where(has, reserves["zone"].to_numpy()[pick], Zone.OUTSIDE.value)
    out["zone"] = zone
    out["zone_label"] = [ZONE_LABELS[Zone(z)] for z in zone]
    out["overlaps"] = _overlaps(n, left, right, share, prio, reserves)

    is_patch = shapely.get_dimensions(geoms) == 2
    out["area_m2"] = np.where(
        is_patch, shapely.area(overlay.project(geoms, CGCS2000, CHINA_ALBERS)), np.nan
    )
    out["area_in_zone_m2"] = _area_in_zone(geoms, zones, left, right, prio, reserves, is_patch)

    outlines = reserves.dissolve(by="reserve_code").geometry
    bounds = shapely.boundary(np.asarray(outlines.values, dtype=object))
    dist = overlay.boundary_distance(geoms, bounds, crs=CGCS2000)
    out["dist_boundary_m"] = np.round(dist, 2)
    out["near_boundary"] = (dist <= near_m).astype(int)

    ids, names = _names(geoms, wetlands, "wetland_id", "wetland_name")
    out["wetland_ids"], out["wetland_names"] = ids, names
    out["mine_ids"] = _names(geoms, mines, "mine_id", "mine_name")[0]
    out["county_adcode"], out["county_name"] = _county(geoms, admin)
    return out


def _overlaps(
    n: int, left: np.ndarray, right: np.ndarray, share: np.ndarray, prio: np.ndarray,
    reserves: gpd.GeoDataFrame,
) -> list[str]:
    codes = reserves["reserve_code"].to_numpy()
    names = reserves["reserve_name"].to_numpy()
    zones = reserves["zone"].to_numpy()
    items: dict[int, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for i, j, s in zip(left, right, share, strict=True):
        items[int(i)].append((int(prio[j]), {
            "reserve_code": codes[j], "reserve_name": names[j], "zone": zones[j],
            "share": round(float(s), 6),
        }))
    return [
        json.dumps([d for _, d in sorted(items[i], key=lambda t: -t[0])], ensure_ascii=False)
        if i in items else "[]"
        for i in range(n)
    ]


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
    sel = np.isin(left, patches)
    needed = np.unique(right[sel])
    z_ea = np.empty(len(zones), dtype=object)
    if len(needed):
        z_ea[needed] = overlay.project(zones[needed], CGCS2000, CHINA_ALBERS)
    zone_codes = reserves["zone"].to_numpy()
    matches: dict[int, list[int]] = defaultdict(list)
    for i, j in zip(left[sel], right[sel], strict=True):
        matches[int(i)].append(int(j))
    for i in patches:
        remaining = g_ea[position[int(i)]]
        areas: dict[str, float] = defaultdict(float)
        for j in sorted(matches.get(int(i), []), key=lambda j: (-prio[j], j)):
            part = shapely.intersection(remaining, z_ea[j])
            areas[zone_codes[j]] += float(shapely.area(part))
            remaining = shapely.difference(remaining, z_ea[j])
        areas[Zone.OUTSIDE.value] += float(shapely.area(remaining))
        out[int(i)] = json.dumps({k: round(v, 2) for k, v in areas.items() if v > 0})
    return out


def _names(
    geoms: np.ndarray, frame: gpd.GeoDataFrame | None, id_col: str, name_col: str
) -> tuple[list[str | None], list[str | None]]:
    n = len(geoms)
    if frame is None or frame.empty:
        return [None] * n, [None] * n
    left, right = overlay.intersects_pairs(geoms, np.asarray(frame.geometry.values,
                                                             dtype=object))
    ids = frame[id_col].to_numpy()
    names = frame[name_col].to_numpy()
    got_ids: dict[int, list[str]] = defaultdict(list)
    got_names: dict[int, list[str]] = defaultdict(list)
    for i, j in zip(left, right, strict=True):
        got_ids[int(i)].append(str(ids[j]))
        got_names[int(i)].append(str(names[j]))
    return (
        ["; ".join(got_ids[i]) if i in got_ids else None for i in range(n)],
        ["; ".join(got_names[i]) if i in got_names else None for i in range(n)],
    )


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
    return (
        [codes[p] if h else None for p, h in zip(pick, has, strict=True)],
        [names[p] if h else None for p, h in zip(pick, has, strict=True)],
    )
