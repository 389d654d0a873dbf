"""Synthetic demo inputs (合成演示数据): reserves, wetlands, mines, counties, two lead rounds.

Made by code from a seed. Reserves carry real Jilin names, places and areas, but their shapes
(noisy radial polygons, nested zone rings), the wetlands, mines, counties (Voronoi cells of
county seats) and leads are invented. Shapes are built in China Albers (equal-area, so areas
hit their targets, see :mod:`pipelines.demo.shapes`) and stored in CGCS2000 (EPSG:4490).
Every output says it is synthetic.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import CGCS2000, WGS84
from layers.schema import ACTIVITY_TYPES, SQM_PER_MU
from pipelines.demo.shapes import (
    TAU,
    Blob,
    county_index,
    ea_to_lonlat,
    equal_area_m2,
    lonlat_to_ea,
    make_blob,
    patch_polygons,
)
from pipelines.errors import DemoError

__all__ = ["COUNTY_SEATS", "RESERVES", "SYNTHETIC_LABEL", "ReserveSpec", "write_demo_inputs"]

log = logging.getLogger(__name__)

#: The label every demo file carries (synthetic demo data).
SYNTHETIC_LABEL = "合成演示数据"


class ReserveSpec(NamedTuple):
    """A demo reserve: real name and rough place, invented shape."""

    code: str
    name: str
    level: str
    area_km2: float
    zones: tuple[str, ...]
    lon: float
    lat: float
    straddles: str = ""  # name of a reserve whose edge this one is placed on (overlap demo)


_OLD = ("核心区", "缓冲区", "实验区")
_NEW = ("核心保护区", "一般控制区")

#: Demo reserves. 嫩江湾 is an invented provincial reserve on 查干湖's edge, so two overlap.
RESERVES: tuple[ReserveSpec, ...] = (
    ReserveSpec("JLG001", "吉林长白山国家级自然保护区", "国家级", 1964.65, _OLD, 128.10, 42.10),
    ReserveSpec("JLG002", "吉林松花江三湖国家级自然保护区", "国家级", 1150.0, _NEW, 126.90, 43.00),
    ReserveSpec("JLS001", "吉林左家省级自然保护区", "省级", 100.0, _OLD, 126.10, 44.05),
    ReserveSpec("JLS002", "吉林威虎岭省级自然保护区", "省级", 380.0, _NEW, 128.40, 43.60),
    ReserveSpec("JLG003", "吉林向海国家级自然保护区", "国家级", 1054.67, _OLD, 122.30, 44.95),
    ReserveSpec("JLG004", "吉林莫莫格国家级自然保护区", "国家级", 1440.0, _OLD, 123.90, 45.90),
    ReserveSpec("JLG005", "吉林查干湖国家级自然保护区", "国家级", 506.84, _NEW, 124.30, 45.25),
    ReserveSpec("JLG006", "吉林龙湾国家级自然保护区", "国家级", 150.61, _OLD, 126.40, 42.30),
    ReserveSpec("JLS003", "吉林嫩江湾省级自然保护区", "省级", 120.0, _OLD, 0.0, 0.0,
                straddles="吉林查干湖国家级自然保护区"),
)

#: County seats (approximate) -> (adcode, name, city, lon, lat); counties are their Voronoi cells.
COUNTY_SEATS: tuple[tuple[str, str, str, float, float], ...] = (
    ("222426", "安图县", "延边朝鲜族自治州", 128.90, 43.11),
    ("220621", "抚松县", "白山市", 127.28, 42.33),
    ("220623", "长白朝鲜族自治县", "白山市", 128.20, 41.42),
    ("222406", "和龙市", "延边朝鲜族自治州", 129.01, 42.55),
    ("222403", "敦化市", "延边朝鲜族自治州", 128.23, 43.37),
    ("222424", "汪清县", "延边朝鲜族自治州", 129.77, 43.31),
    ("220281", "蛟河市", "吉林市", 127.34, 43.72),
    ("220282", "桦甸市", "吉林市", 126.75, 42.97),
    ("220221", "永吉县", "吉林市", 126.50, 43.67),
    ("220283", "舒兰市", "吉林市", 126.97, 44.41),
    ("220284", "磐石市", "吉林市", 126.06, 42.95),
    ("220113", "九台区", "长春市", 125.84, 44.15),
    ("220822", "通榆县", "白城市", 123.09, 44.81),
    ("220821", "镇赉县", "白城市", 123.20, 45.85),
    ("220882", "大安市", "白城市", 124.29, 45.51),
    ("220881", "洮南市", "白城市", 122.79, 45.34),
    ("220721", "前郭尔罗斯蒙古族自治县", "松原市", 124.83, 45.12),
    ("220723", "乾安县", "松原市", 124.02, 45.00),
    ("220722", "长岭县", "松原市", 123.97, 44.28),
    ("220622", "靖宇县", "白山市", 126.81, 42.39),
    ("220681", "临江市", "白山市", 126.92, 41.81),
    ("220523", "辉南县", "通化市", 126.05, 42.68),
)

# Anchors: (lon, lat), or (reserve name fragment, angle in degrees counter-clockwise from east,
# fraction of the reserve's radius along that ray: > 1 is outside it).
_Anchor = tuple[float, float] | tuple[str, float, float]

#: 湿地名称, 湿地级别, 湿地类型, anchor, area (ha), 管护单位 (湿地编码 comes from the county).
_WETLANDS: tuple[tuple[str, str, str, _Anchor, float, str], ...] = (
    ("查干湖湿地", "国家重要湿地", "湖泊湿地", ("查干湖", 0, 0), 20000, "查干湖保护区管理局"),
    ("向海湿地", "国家重要湿地", "沼泽湿地", ("向海", 120, 0.3), 25000, "向海保护区管理局"),
    ("莫莫格湿地", "国家重要湿地", "沼泽湿地", ("莫莫格", 300, 0.25), 35000, "莫莫格管理局"),
    ("松花湖湿地", "省级重要湿地", "湖泊湿地", ("三湖", 60, 0.4), 15000, "松花湖管理局"),
    ("三角龙湾湿地", "省级重要湿地", "湖泊湿地", ("龙湾", 200, 0.5), 120, "龙湾保护区管理局"),
    ("长白山天池湿地", "国家重要湿地", "湖泊湿地", ("长白山", 0, 0), 980, "长白山管理局"),
    ("嫩江大安段湿地", "一般湿地", "河流湿地", (124.25, 45.55), 3000, "大安市林草局"),
    ("霍林河通榆段湿地", "省级重要湿地", "河流湿地", (123.05, 44.62), 4000, "通榆县林草局"),
    ("洮儿河湿地", "一般湿地", "河流湿地", (122.75, 45.42), 2500, "洮南市林业和草原局"),
    ("石头口门水库湿地", "一般湿地", "人工湿地", (125.75, 43.95), 5500, "九台区水利局"),
    ("牛心套保湿地", "省级重要湿地", "沼泽湿地", (123.75, 45.50), 6000, "大安市林草局"),
    ("新立城水库湿地", "一般湿地", "人工湿地", (125.35, 43.62), 2000, "新立城水库管理局"),
)

#: 矿山名称 (after the county name), 矿种, 开采方式, 矿山状态, 关闭年份 (0: none), 修复模式,
#: 治理进度, anchor, area (ha).
_MINES: tuple[tuple[str, str, str, str, int, str, str, _Anchor, float], ...] = (
    ("西坡灰岩矿", "石灰岩", "露天", "关闭", 2018, "生态重建", "治理中", ("长白山", 250, 0.92), 12),
    ("二道砂石场", "砂石", "露天", "关闭", 2019, "辅助再生", "已治理", ("长白山", 40, 1.08), 6),
    ("夹皮沟金矿", "金", "地下", "有效", 0, "", "治理中", (127.48, 42.88), 30),
    ("奶子山煤矿", "煤", "地下", "关闭", 2016, "自然恢复", "验收", (127.30, 43.78), 45),
    ("旺起砂场", "砂石", "露天", "历史遗留", 2012, "辅助再生", "未治理", ("三湖", 100, 0.8), 8),
    ("红旗岭镍矿", "镍", "地下", "有效", 0, "", "治理中", (126.25, 43.05), 25),
    ("金川灰岩矿", "石灰岩", "露天", "历史遗留", 2010, "自然恢复", "未治理", ("龙湾", 160, 0.9), 5),
    ("向阳膨润土矿", "膨润土", "露天", "关闭", 2020, "转型利用", "治理中", (122.95, 45.25), 20),
    ("嫩江采砂场", "砂石", "露天", "关闭", 2021, "辅助再生", "治理中", ("莫莫格", 200, 0.9), 10),
    ("黄泥河铁矿", "铁", "露天", "关闭", 2017, "生态重建", "已治理", ("威虎岭", 300, 0.85), 18),
    ("官地铁矿", "铁", "地下", "历史遗留", 2008, "转型利用", "验收", (129.00, 42.52), 35),
    ("查干湖南砂场", "砂石", "露天", "关闭", 2019, "自然恢复", "未治理", ("查干湖", 200, 1.1), 4),
)

_ACTIVITY = tuple(ACTIVITY_TYPES)
# Weights over _ACTIVITY (矿产, 工业, 能源, 旅游, 交通, 养殖, 农业, 居民点, 其他) by placement.
_ACTIVITY_WEIGHTS = {
    "reserve": (0.07, 0.05, 0.06, 0.15, 0.15, 0.10, 0.20, 0.12, 0.10),
    "mine": (0.70, 0.10, 0.0, 0.0, 0.05, 0.0, 0.0, 0.0, 0.15),
    "wetland": (0.0, 0.0, 0.02, 0.10, 0.08, 0.35, 0.30, 0.0, 0.15),
}
#: Share of leads per placement; the rest falls inside reserve zones.
_SHARES = {"boundary": 0.05, "outside": 0.15, "wetland": 0.05, "mine": 0.04}
_PATCH_BOUNDARY_SHARE = 0.03  # 2024 patches centred on a zone boundary vertex (straddling)
_ZONE_PROBS = {3: (0.06, 0.14, 0.80), 2: (0.12, 0.88)}  # denser in the outer (permissive) zone


@dataclass(frozen=True)
class _Scene:
    """What lead placement needs: reserve rings (lon/lat) and blobs, the areas to avoid."""

    rings: list[list[np.ndarray]]
    reserves: list[Blob]
    weights: np.ndarray
    union: shapely.Geometry  # all reserves, Albers
    inner: shapely.Geometry  # the province shrunk by 2 km, Albers
    wetlands: list[Blob]
    mines: list[Blob]


def _anchor(spec: _Anchor, blobs: dict[str, Blob]) -> np.ndarray:
    if isinstance(spec[0], str):
        blob = next(b for name, b in blobs.items() if spec[0] in name)
        return blob.point(np.array([np.deg2rad(spec[1])]), np.array([spec[2]]))[0]
    return lonlat_to_ea(spec[0], spec[1])[0]


def _build_reserves(rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, dict[str, Blob],
                                                       dict[str, list[np.ndarray]]]:
    """Zone polygons (one row per reserve and zone), blobs and zone rings in lon/lat."""
    blobs: dict[str, Blob] = {}
    rows: list[dict[str, object]] = []
    rings_ll: dict[str, list[np.ndarray]] = {}
    for spec in RESERVES:
        if spec.straddles:  # centre inside the other reserve's outer zone, near its edge
            centre = blobs[spec.straddles].point(np.array([np.pi / 4]), np.array([0.9]))[0]
        else:
            centre = lonlat_to_ea(spec.lon, spec.lat)[0]
        blob = make_blob(rng, centre, spec.area_km2 * 1e6, zones=len(spec.zones))
        blobs[spec.name] = blob
        rings = [ea_to_lonlat(blob.ring(f)) for f in (*blob.fractions, 1.0)]
        rings_ll[spec.name] = rings
        for j, zone in enumerate(spec.zones):
            poly = shapely.Polygon(rings[j], [rings[j - 1]] if j else None)
            rows.append({"保护区编码": spec.code, "保护区名称": spec.name, "级别": spec.level,
                         "功能区": zone, "数据说明": SYNTHETIC_LABEL, "geometry": poly})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CGCS2000), blobs, rings_ll


def _build_blob_layer(rng: np.random.Generator, anchors: list[_Anchor], areas_ha: list[float],
                      blobs: dict[str, Blob], *, kmax: int) -> tuple[np.ndarray, list[Blob]]:
    made = [make_blob(rng, _anchor(a, blobs), ha * 1e4, n=72, amp=0.35, kmax=kmax)
            for a, ha in zip(anchors, areas_ha, strict=True)]
    polys = shapely.polygons([ea_to_lonlat(b.ring()) for b in made])
    return polys, made


def _build_admin(reserve_blobs: dict[str, Blob], extra_ea: np.ndarray) -> tuple[
        gpd.GeoDataFrame, shapely.Geometry]:
    """Voronoi cells of the county seats clipped to a synthetic province (Albers hull + 30 km)."""
    seats = lonlat_to_ea([s[3] for s in COUNTY_SEATS], [s[4] for s in COUNTY_SEATS])
    pts = np.vstack([seats, extra_ea, *(b.ring() for b in reserve_blobs.values())])
    province = shapely.buffer(shapely.convex_hull(shapely.multipoints(pts)), 30_000, quad_segs=16)
    cells = shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(seats), extend_to=province, ordered=True))
    cells = shapely.transform(shapely.intersection(cells, province), ea_to_lonlat)
    admin = gpd.GeoDataFrame(
        {"行政区划代码": [s[0] for s in COUNTY_SEATS], "名称": [s[1] for s in COUNTY_SEATS],
         "级别": "county", "市": [s[2] for s in COUNTY_SEATS], "省": "吉林省",
         "数据说明": f"{SYNTHETIC_LABEL}：县驻地 Voronoi 划分，非真实行政界线"},
        geometry=cells, crs=CGCS2000)
    return admin, province


def _counts(n: int, shares: dict[str, float]) -> dict[str, int]:
    counts = {k: round(v * n) for k, v in shares.items()}
    counts["reserve"] = n - sum(counts.values())
    return counts


def _in_zones(rng: np.random.Generator, blobs: list[Blob], weights: np.ndarray,
              m: int) -> np.ndarray:
    """Points inside reserve zones, area-uniform within a zone, zone chosen by _ZONE_PROBS."""
    which = rng.choice(len(blobs), size=m, p=weights / weights.sum())
    theta = rng.uniform(0.0, TAU, m)
    u = rng.uniform(0.0, 1.0, m)
    out = np.empty((m, 2))
    for i, blob in enumerate(blobs):
        sel = np.flatnonzero(which == i)
        probs = _ZONE_PROBS[len(blob.fractions) + 1]
        zone = rng.choice(len(probs), size=sel.size, p=probs)
        lo, hi = np.zeros(sel.size), np.ones(sel.size)
        for z in range(len(probs)):
            in_z = zone == z
            lo[in_z] = blob.level(z, theta[sel][in_z])
            hi[in_z] = blob.level(z + 1, theta[sel][in_z])
        lo, hi = np.where(lo > 0, lo + 0.01, 0.0), hi - 0.01
        out[sel] = blob.point(theta[sel], np.sqrt(u[sel] * (hi**2 - lo**2) + lo**2))
    return out


def _in_blobs(rng: np.random.Generator, blobs: list[Blob], m: int) -> np.ndarray:
    """Points well inside the given blobs (wetlands, mines), bigger blobs more often."""
    w = np.array([np.sqrt(np.mean(b.radius**2)) for b in blobs])
    which = rng.choice(len(blobs), size=m, p=w / w.sum())
    theta = rng.uniform(0.0, TAU, m)
    frac = 0.85 * np.sqrt(rng.uniform(0.0, 1.0, m))
    out = np.empty((m, 2))
    for i, blob in enumerate(blobs):
        sel = which == i
        out[sel] = blob.point(theta[sel], frac[sel])
    return out


def _outside(rng: np.random.Generator, blobs: list[Blob], m: int,
             reserves_ea: shapely.Geometry, inner: shapely.Geometry) -> np.ndarray:
    """Points in the province outside every reserve: half near a reserve edge, half anywhere."""
    shapely.prepare(reserves_ea)
    shapely.prepare(inner)
    xmin, ymin, xmax, ymax = shapely.bounds(inner)
    found: list[np.ndarray] = []
    while sum(len(f) for f in found) < m:
        k = 4 * m + 10
        near = np.vstack([blobs[i].point(rng.uniform(0, TAU, 1), rng.uniform(1.03, 1.6, 1))
                          for i in rng.integers(0, len(blobs), k // 2)])
        far = np.column_stack([rng.uniform(xmin, xmax, k), rng.uniform(ymin, ymax, k)])
        cand = np.vstack([near, far])
        keep = shapely.contains_xy(inner, cand[:, 0], cand[:, 1]) & ~shapely.contains_xy(
            reserves_ea, cand[:, 0], cand[:, 1])
        found.append(cand[keep])
    pts = np.vstack(found)
    return pts[rng.permutation(len(pts))[:m]]


def _on_boundary(rng: np.random.Generator, rings: list[list[np.ndarray]], m: int,
                 midpoint_share: float) -> tuple[np.ndarray, int]:
    """Lon/lat points exactly on zone rings: ring vertices, or midpoints of ring edges."""
    out = np.empty((m, 2))
    mids = rng.uniform(0.0, 1.0, m) < midpoint_share
    for i in range(m):
        reserve = rings[rng.integers(len(rings))]
        ring = reserve[rng.integers(len(reserve))]
        v = rng.integers(len(ring))
        out[i] = (ring[v] + ring[(v + 1) % len(ring)]) / 2.0 if mids[i] else ring[v]
    return out, int(mids.sum())


def _dates(rng: np.random.Generator, start: str, days: int, m: int) -> np.ndarray:
    return np.datetime_as_string(np.datetime64(start) + rng.integers(0, days, m), unit="D")


def _attributes(rng: np.random.Generator, kinds: np.ndarray) -> tuple[list[str], list[str]]:
    """Activity type by placement kind, and a note 合成演示数据 (+ sub-type when there is one)."""
    activity, note = [], []
    for kind in kinds:
        w = np.array(_ACTIVITY_WEIGHTS.get(kind, _ACTIVITY_WEIGHTS["reserve"]))
        act = _ACTIVITY[rng.choice(len(_ACTIVITY), p=w / w.sum())]
        sub = ACTIVITY_TYPES[act]
        activity.append(act)
        note.append(f"{SYNTHETIC_LABEL}；{sub[rng.integers(len(sub))]}" if sub else SYNTHETIC_LABEL)
    return activity, note


def _place(rng: np.random.Generator, counts: dict[str, int], scene: _Scene,
           *, midpoint_share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Lead positions by placement kind: (lon/lat, Albers, kinds), shuffled; midpoints count."""
    parts_ea, parts_ll, kinds = [], [], []
    n_mid = 0
    for kind, m in counts.items():
        if m == 0:
            continue
        if kind == "boundary":
            ll, n_mid = _on_boundary(rng, scene.rings, m, midpoint_share)
            ea = lonlat_to_ea(ll[:, 0], ll[:, 1])
        else:
            if kind == "reserve":
                ea = _in_zones(rng, scene.reserves, scene.weights, m)
            elif kind == "outside":
                ea = _outside(rng, scene.reserves, m, scene.union, scene.inner)
            else:
                ea = _in_blobs(rng, scene.wetlands if kind == "wetland" else scene.mines, m)
            ll = ea_to_lonlat(ea)
        parts_ea.append(ea)
        parts_ll.append(ll)
        kinds += [kind] * m
    order = rng.permutation(len(kinds))
    return (np.vstack(parts_ll)[order], np.vstack(parts_ea)[order], np.array(kinds)[order],
            n_mid)


def _readme(seed: int, n_leads: int, stats: dict[str, object]) -> str:
    lines = [
        f"{SYNTHETIC_LABEL} — SYNTHETIC DEMO DATA (lvdun, pipelines/demo_data.py, seed={seed}, "
        f"n_leads={n_leads})",
        "",
        "本目录全部数据均由程序按随机种子生成，为合成演示数据，不是真实数据，不得用于执法、核查或任何正式用途。",
        "保护区名称取自吉林省真实自然保护区，位置在其真实位置附近、面积接近公开数字，但形状、功能分区界线均为虚构，"
        "不是真实边界；吉林嫩江湾省级自然保护区为虚构，用于演示保护区重叠。湿地、矿山、全部线索和图斑均为虚构；"
        "县级区划为县驻地的 Voronoi 划分，并非真实行政界线。",
        "",
        "All files in this folder were generated by code from a seed and are synthetic demo data, "
        "not real data: do not use them for enforcement, verification or any official purpose.",
        "Reserves carry the names of real Jilin nature reserves and sit near their real "
        "locations with realistic areas, but their shapes and zone boundaries are invented and "
        "are NOT real boundaries; 嫩江湾 is an invented provincial reserve placed to overlap "
        "查干湖. Wetlands, mines, leads and patches are invented; counties are Voronoi cells of "
        "approximate county seats, not real administrative boundaries.",
        "",
        "Files / 文件:",
        "  reserves.gpkg (layer reserves, EPSG:4490)  保护区功能分区",
        "  wetlands.geojson (EPSG:4326, RFC 7946)     湿地名录",
        "  mines.shp (EPSG:4490, .dbf in GBK)         关闭/历史遗留矿山",
        "  admin.gpkg (layer admin, EPSG:4490)        县级区划（合成）",
        "  leads_2023.csv (UTF-8 BOM; 经度/纬度 in CGCS2000, EPSG:4490) 2023 年线索点位",
        "  leads_2024h1.gpkg (layer leads, EPSG:4490) 2024 年上半年图斑",
        "",
        "Lead placement / 线索分布:",
        *(f"  {key}: {value}" for key, value in stats.items()),
        "",
    ]
    return "\n".join(lines)


def _wetlands_frame(polys: np.ndarray, admin: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    county = county_index(shapely.centroid(polys), admin.geometry.to_numpy())
    codes = admin["行政区划代码"].to_numpy()[county]
    columns = ("湿地名称", "湿地级别", "湿地类型")
    return gpd.GeoDataFrame(
        {"湿地编码": [f"{c}SD{i + 1:02d}" for i, c in enumerate(codes)],
         **{c: [w[i] for w in _WETLANDS] for i, c in enumerate(columns)},
         "面积(公顷)": np.round(equal_area_m2(polys) / 1e4, 1),
         "管护单位": [w[5] for w in _WETLANDS],
         "数据说明": SYNTHETIC_LABEL},
        geometry=polys, crs=CGCS2000)


def _mines_frame(rng: np.random.Generator, polys: np.ndarray,
                 admin: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Mines named after the county they fall in; 许可证号 of the usual 23-character form."""
    county = county_index(shapely.centroid(polys), admin.geometry.to_numpy())
    codes, names = admin["行政区划代码"].to_numpy()[county], admin["名称"].to_numpy()[county]
    issued = rng.integers(2003, 2016, len(_MINES))
    serial = rng.integers(0, 10**12, len(_MINES))
    ids = [f"历史遗留-{codes[i]}-{i + 1:03d}" if m[3] == "历史遗留"
           else f"C{codes[i]}{issued[i]}{serial[i]:012d}" for i, m in enumerate(_MINES)]
    columns = ("矿种", "开采方式", "矿山状态")
    return gpd.GeoDataFrame(
        {"许可证号": ids, "矿山名称": [n + m[0] for n, m in zip(names, _MINES, strict=True)],
         **{c: [m[i + 1] for m in _MINES] for i, c in enumerate(columns)},
         "关闭年份": pd.array([m[4] or None for m in _MINES], dtype="Int32"),
         "修复模式": [m[5] or None for m in _MINES], "治理进度": [m[6] for m in _MINES],
         "数据说明": SYNTHETIC_LABEL},
        geometry=polys, crs=CGCS2000)


def _round_2023(rng: np.random.Generator, scene: _Scene, admin: gpd.GeoDataFrame,
                n: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, dict[str, object]]:
    """Point leads of batch 2023: the table, Albers positions, placement kinds and counts."""
    counts = _counts(n, _SHARES)
    ll, ea, kinds, n_mid = _place(rng, counts, scene, midpoint_share=0.3)
    ll = np.where((kinds == "boundary")[:, None], ll, np.round(ll, 6))  # boundary: exact
    county = county_index(shapely.points(ll), admin.geometry.to_numpy())
    codes = admin["行政区划代码"].to_numpy()[county]
    activity, note = _attributes(rng, kinds)
    sent_county = np.where(rng.uniform(size=n) < 0.03, "", admin["名称"].to_numpy()[county])
    leads = pd.DataFrame({
        "线索编号": [f"C{c}2023{i + 1:06d}" for i, c in enumerate(codes)], "批次": "2023",
        "经度": ll[:, 0], "纬度": ll[:, 1], "活动类型": activity,
        "变化类型": np.where(rng.uniform(size=n) < 0.75, "新增", "扩大"),
        "面积(亩)": np.round(np.exp(rng.uniform(np.log(0.5), np.log(300.0), n)), 2),
        "前时相": _dates(rng, "2022-07-01", 100, n), "后时相": _dates(rng, "2023-07-01", 100, n),
        "所在县": sent_county, "备注": note})
    stats = {"leads_2023 points": n, **{f"leads_2023 {k}": v for k, v in counts.items()},
             "leads_2023 boundary vertices (exact)": counts["boundary"] - n_mid,
             "leads_2023 boundary edge midpoints": n_mid}
    return leads, ea, kinds, stats


def _round_2024(rng: np.random.Generator, scene: _Scene, admin: gpd.GeoDataFrame, n: int,
                leads23: pd.DataFrame, ea23: np.ndarray,
                kinds23: np.ndarray) -> tuple[gpd.GeoDataFrame, dict[str, object]]:
    """Patch leads of batch 2024-H1; about 10 % repeat a 2023 lead (same id, grown patch)."""
    n_rep = round(0.1 * n)
    rep = np.sort(rng.choice(np.flatnonzero(kinds23 != "outside"), size=n_rep, replace=False))
    counts = _counts(n - n_rep, {**_SHARES, "boundary": _PATCH_BOUNDARY_SHARE})
    _, ea, kinds, _ = _place(rng, counts, scene, midpoint_share=0.0)
    area_new = np.exp(rng.uniform(np.log(200.0), np.log(200_000.0), len(ea)))
    grown = rng.uniform(1.3, 3.0, n_rep)
    area_rep = np.clip(leads23["面积(亩)"].to_numpy()[rep] * SQM_PER_MU * grown, 200.0, 200_000.0)
    polys = patch_polygons(rng, np.vstack([ea23[rep], ea]), np.concatenate([area_rep, area_new]))
    codes = admin["行政区划代码"].to_numpy()[
        county_index(shapely.centroid(polys[n_rep:]), admin.geometry.to_numpy())]
    activity, note = _attributes(rng, kinds)
    change = np.where(rng.uniform(size=n) < 0.75, "新增", "扩大")
    change[:n_rep] = "扩大"
    leads = gpd.GeoDataFrame({
        "图斑编号": [*leads23["线索编号"].to_numpy()[rep],
                     *(f"C{c}2024{i + 1:06d}" for i, c in enumerate(codes))],
        "批次": "2024-H1", "活动类型": [*leads23["活动类型"].to_numpy()[rep], *activity],
        "变化类型": change, "面积": np.round(equal_area_m2(polys), 2),
        "前时相": _dates(rng, "2023-09-01", 75, n), "后时相": _dates(rng, "2024-04-01", 75, n),
        "备注": [f"{SYNTHETIC_LABEL}；2023年线索复现"] * n_rep + note},
        geometry=polys, crs=CGCS2000)
    stats = {"leads_2024h1 patches": n, "leads_2024h1 repeats of 2023 (same id, 扩大)": n_rep,
             **{f"leads_2024h1 {k}": v for k, v in counts.items()}}
    return leads.iloc[rng.permutation(n)].reset_index(drop=True), stats


def write_demo_inputs(out_dir: Path, *, seed: int = 2024, n_leads: int = 3000) -> dict[str, Path]:
    """Write a synthetic, seeded demo data set (合成演示数据) into ``out_dir``.

    The same seed gives the same data. Files: ``reserves.gpkg`` (layer ``reserves``),
    ``wetlands.geojson``, ``mines.shp`` (GBK ``.dbf``), ``admin.gpkg`` (layer ``admin``),
    ``leads_2023.csv`` (60 % of the leads, points), ``leads_2024h1.gpkg`` (layer ``leads``,
    the rest as patches, 10 % of them repeating a 2023 lead) and ``README.txt`` stating in
    Chinese and English that everything is synthetic.

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder to write into; created when missing, files of the same names overwritten.
    seed : int
        Seed of the :class:`numpy.random.Generator` that draws everything.
    n_leads : int
        Number of leads over both rounds (at least 10).

    Returns
    -------
    dict
        ``{"reserves", "wetlands", "mines", "admin", "leads_2023", "leads_2024h1", "readme"}``
        mapped to the written paths.

    Examples
    --------
    >>> import tempfile
    >>> paths = write_demo_inputs(Path(tempfile.mkdtemp()), n_leads=50)
    >>> sorted(paths)
    ['admin', 'leads_2023', 'leads_2024h1', 'mines', 'readme', 'reserves', 'wetlands']
    """
    if n_leads < 10:
        raise DemoError(f"n_leads={n_leads}: the demo needs at least 10 leads")
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {key: out_dir / name for key, name in (
        ("reserves", "reserves.gpkg"), ("wetlands", "wetlands.geojson"), ("mines", "mines.shp"),
        ("admin", "admin.gpkg"), ("leads_2023", "leads_2023.csv"),
        ("leads_2024h1", "leads_2024h1.gpkg"), ("readme", "README.txt"))}
    for stale in [*paths.values(), *(out_dir / f"mines.{s}" for s in ("dbf", "shx", "prj", "cpg"))]:
        stale.unlink(missing_ok=True)

    reserves, blobs, rings = _build_reserves(rng)
    wet_polys, wet_blobs = _build_blob_layer(rng, [w[3] for w in _WETLANDS],
                                             [w[4] for w in _WETLANDS], blobs, kmax=6)
    mine_polys, mine_blobs = _build_blob_layer(rng, [m[7] for m in _MINES],
                                               [m[8] for m in _MINES], blobs, kmax=4)
    admin, province = _build_admin(blobs, np.vstack([b.ring() for b in wet_blobs + mine_blobs]))
    mines = _mines_frame(rng, mine_polys, admin)
    scene = _Scene(
        rings=list(rings.values()), reserves=list(blobs.values()),
        weights=np.array([s.area_km2 for s in RESERVES]) ** 0.7,
        union=shapely.union_all(shapely.polygons([b.ring() for b in blobs.values()])),
        inner=shapely.buffer(province, -2_000), wetlands=wet_blobs, mines=mine_blobs)
    n23 = round(0.6 * n_leads)
    leads23, ea23, kinds23, stats23 = _round_2023(rng, scene, admin, n23)
    leads24, stats24 = _round_2024(rng, scene, admin, n_leads - n23, leads23, ea23, kinds23)
    stats = {**stats23, **stats24}

    reserves.to_file(paths["reserves"], layer="reserves", driver="GPKG", engine="pyogrio")
    _wetlands_frame(wet_polys, admin).to_crs(WGS84).to_file(
        paths["wetlands"], driver="GeoJSON", engine="pyogrio", layer="wetlands",
        layer_options={"RFC7946": "YES"})
    mines.to_file(paths["mines"], layer="mines", driver="ESRI Shapefile", engine="pyogrio",
                  encoding="GBK")
    admin.to_file(paths["admin"], layer="admin", driver="GPKG", engine="pyogrio")
    leads23.to_csv(paths["leads_2023"], index=False, encoding="utf-8-sig", lineterminator="\n")
    leads24.to_file(paths["leads_2024h1"], layer="leads", driver="GPKG", engine="pyogrio")
    paths["readme"].write_text(_readme(seed, n_leads, stats), encoding="utf-8")
    log.info("wrote synthetic demo inputs (seed %d) to %s: %s", seed, out_dir, stats)
    return paths
