"""Synthetic layer frames for the map tests, made in code (no public boundary files exist)."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
from shapely.geometry import Point, box

from layers.schema import Status

CRS = "EPSG:4490"
STATUSES = [s.value for s in Status]
XSS_NOTE = "<script>alert(1)</script>"


def _ring(x: float, y: float, outer: float, inner: float):
    return box(x - outer, y - outer, x + outer, y + outer).difference(
        box(x - inner, y - inner, x + inner, y + inner)
    )


def make_frames(n_leads: int = 200) -> dict[str, gpd.GeoDataFrame]:
    """All five layers, as keyword arguments of ``build_map``."""
    return {
        "leads": make_leads(n_leads),
        "reserves": make_reserves(),
        "wetlands": make_wetlands(),
        "mines": make_mines(),
        "admin": make_admin(),
    }


def make_reserves() -> gpd.GeoDataFrame:
    """A national reserve in old zoning, a provincial one in new zoning, an unzoned one."""
    x, y = 128.0, 42.0
    rows = [
        ("N1", "长白山（合成）", "national", "core", box(x - 0.05, y - 0.05, x + 0.05, y + 0.05)),
        ("N1", "长白山（合成）", "national", "buffer", _ring(x, y, 0.1, 0.05)),
        ("N1", "长白山（合成）", "national", "experimental", _ring(x, y, 0.16, 0.1)),
        ("P1", "左家（合成）", "provincial", "core_protection", box(128.2, 41.9, 128.28, 41.98)),
        ("P1", "左家（合成）", "provincial", "general_control", _ring(128.24, 41.94, 0.08, 0.04)),
        ("C1", "县级保护区（合成）", "county", "unzoned", box(127.8, 41.8, 127.86, 41.86)),
    ]
    return gpd.GeoDataFrame(
        rows, columns=["reserve_code", "reserve_name", "level", "zone", "geometry"], crs=CRS
    )


def make_leads(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """``n`` leads around the reserves: every status, points and small patches."""
    rng = np.random.default_rng(seed)
    xs = rng.uniform(127.78, 128.34, n)
    ys = rng.uniform(41.78, 42.18, n)
    geoms = [
        Point(x, y) if i % 4 else box(x, y, x + 0.004, y + 0.003)
        for i, (x, y) in enumerate(zip(xs, ys, strict=True))
    ]
    overlaps = json.dumps(
        [{"reserve_code": "N1", "reserve_name": "长白山（合成）", "zone": "core", "share": 0.75}],
        ensure_ascii=False,
    )
    frame = gpd.GeoDataFrame(
        {
            "lead_id": [f"C2112822009{i:08d}" for i in range(n)],
            "batch": ["2023-H1"] * n,
            "activity_type": ["矿产资源开发"] * n,
            "change_type": ["新增" if i % 2 else "扩大" for i in range(n)],
            "status": [STATUSES[i % len(STATUSES)] for i in range(n)],
            "reserve_name": ["长白山（合成）"] * n,
            "zone": ["core"] * n,
            "zone_label": ["核心区"] * n,
            "overlaps": [overlaps] * n,
            "wetland_names": ["圆池（合成）"] * n,
            "mine_ids": [None] * n,
            "county_name": ["安图县"] * n,
            "area_m2": rng.uniform(100, 20000, n),
            "dist_boundary_m": rng.uniform(0, 3000, n),
            "note": [XSS_NOTE if i == 0 else None for i in range(n)],
        },
        geometry=geoms,
        crs=CRS,
    )
    return frame


def make_wetlands() -> gpd.GeoDataFrame:
    """One round wetland north-east of the national reserve's core."""
    return gpd.GeoDataFrame(
        {"wetland_id": ["W1"], "wetland_name": ["圆池（合成）"], "wetland_level": ["省级重要湿地"]},
        geometry=[Point(128.1, 42.1).buffer(0.03)],
        crs=CRS,
    )


def make_mines() -> gpd.GeoDataFrame:
    """A closed mine as a polygon and a historic one as a point."""
    return gpd.GeoDataFrame(
        {
            "mine_id": ["M1", "M2"],
            "mine_name": ["采石场（合成）", "砂石矿（合成）"],
            "mine_status": ["关闭", "历史遗留"],
        },
        geometry=[box(127.9, 41.85, 127.93, 41.87), Point(128.3, 42.15)],
        crs=CRS,
    )


def make_admin() -> gpd.GeoDataFrame:
    """Two counties covering the reserves."""
    return gpd.GeoDataFrame(
        {
            "adcode": ["222426", "220623"],
            "admin_name": ["安图县", "长白县"],
            "admin_level": ["county", "county"],
        },
        geometry=[box(127.7, 41.95, 128.4, 42.25), box(127.7, 41.7, 128.4, 41.95)],
        crs=CRS,
    )
