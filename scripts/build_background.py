"""Rebuild the offline background of the map (webmap/static/lvdun-background.json).

Country outlines of China and its neighbours with their names, from Natural Earth (public
domain) as packaged in the npm package ``world-atlas`` (ISC licence, TopoJSON of Natural
Earth's 1:50m countries). The outlines are clipped to the map's part of Asia, simplified
and rounded, so the file stays small; the licences are in webmap/static/LICENSES.txt.

Usage::

    python scripts/build_background.py [--package DIR]

Without ``--package``, ``npm pack world-atlas@2.0.2`` fetches the package into a temporary
folder (the npm registry only).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, box, mapping

PACKAGE = "world-atlas@2.0.2"
SOURCE = "countries-50m.json"
OUT = Path(__file__).resolve().parents[1] / "webmap" / "static" / "lvdun-background.json"
#: The part of Asia the map may show around China (lon/lat).
CLIP = (70.0, 15.0, 140.0, 56.0)
#: Douglas-Peucker tolerance in degrees (about 2 km), and decimals kept (about 100 m).
TOLERANCE = 0.02
DECIMALS = 3
PART_OF_CHINA = frozenset({"Taiwan", "Hong Kong", "Macao"})
#: Names shown on the map, in Chinese, by Natural Earth's English name.
NAMES_ZH = {
    "China": "中国", "Mongolia": "蒙古", "Russia": "俄罗斯", "North Korea": "朝鲜",
    "South Korea": "韩国", "Japan": "日本", "Kazakhstan": "哈萨克斯坦",
    "Kyrgyzstan": "吉尔吉斯斯坦",
    "Tajikistan": "塔吉克斯坦", "Afghanistan": "阿富汗", "Pakistan": "巴基斯坦", "India": "印度",
    "Nepal": "尼泊尔", "Bhutan": "不丹", "Myanmar": "缅甸", "Laos": "老挝", "Vietnam": "越南",
    "Philippines": "菲律宾", "Thailand": "泰国", "Bangladesh": "孟加拉国",
    "Uzbekistan": "乌兹别克斯坦", "Cambodia": "柬埔寨",
}


def _decode(topology: dict[str, Any]) -> list[tuple[str, Any]]:
    """(name, shapely geometry) of every country of a quantized TopoJSON topology."""
    scale = topology["transform"]["scale"]
    translate = topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * scale[0] + translate[0], y * scale[1] + translate[1]))
        arcs.append(points)

    def ring(indices: list[int]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for index in indices:
            points = arcs[index] if index >= 0 else arcs[~index][::-1]
            out.extend(points if not out else points[1:])
        return out

    def polygon(rings: list[list[int]]) -> Polygon:
        return Polygon(ring(rings[0]), [ring(r) for r in rings[1:]])

    countries = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        kind = geometry.get("type")
        if kind == "Polygon":
            shape = polygon(geometry["arcs"])
        elif kind == "MultiPolygon":
            shape = MultiPolygon([polygon(p) for p in geometry["arcs"]])
        else:
            continue
        countries.append((geometry.get("properties", {}).get("name", ""), shape))
    return countries


def build(package: Path) -> dict[str, Any]:
    """The background as a GeoJSON FeatureCollection (``name``: the Chinese name)."""
    topology = json.loads((package / SOURCE).read_text(encoding="utf-8"))
    clip = box(*CLIP)
    features = []
    countries = _decode(topology)
    # Taiwan, Hong Kong and Macao are part of China: one outline, one name. Pieces without
    # a Chinese name here (disputed slivers) are left out.
    parts = [shape for name, shape in countries if name in PART_OF_CHINA]
    countries = [(name, shapely.union_all([shape, *parts]) if name == "China" else shape)
                 for name, shape in countries if name in NAMES_ZH]
    for name, shape in countries:
        shape = shapely.make_valid(shape)
        if not shape.intersects(clip):
            continue
        part = shapely.simplify(shape.intersection(clip), TOLERANCE, preserve_topology=True)
        part = shapely.set_precision(part, 10.0 ** -DECIMALS)
        if part.is_empty or part.area < 0.05:
            continue
        point = part.representative_point() if name != "China" else shapely.Point(104.0, 35.0)
        features.append({
            "type": "Feature",
            "properties": {"name": NAMES_ZH.get(name, name), "china": name == "China",
                           "label": [round(point.x, 2), round(point.y, 2)]},
            "geometry": mapping(part),
        })
    return {"type": "FeatureCollection", "features": features}


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", type=Path, help="an unpacked world-atlas package")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lvdun-background-") as tmp:
        package = args.package
        if package is None:
            subprocess.run(["npm", "pack", PACKAGE, "--pack-destination", tmp], check=True)
            archive = next(Path(tmp).glob("world-atlas-*.tgz"))
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
            package = Path(tmp) / "package"
        collection = build(package)
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    OUT.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(text) / 1e3:.0f} kB, {len(collection['features'])} countries)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
