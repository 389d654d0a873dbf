from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.crs import CGCS2000, CHINA_ALBERS
from geo.overlay import project
from layers.read import read_source
from layers.wetlands import match_geometries, match_label, prepare_wetlands


def _list_csv(tmp_path: Path) -> Path:
    """A wetland list as bureaus keep it: centre coordinates in one cell, or words only."""
    path = tmp_path / "湿地名录.csv"
    lines = [
        "名称,级别,类型,面积(公顷),范围,管护单位",
        "查干湖湿地,国家重要,湖泊湿地,100,\"124.30, 45.25\",查干湖管理局",
        "向海湿地,国家重要湿地,沼泽湿地,200,东经122°18′ 北纬44°57′,向海管理局",
        "牛心套保湿地,省级,沼泽湿地,50,大安市西北部牛心套保泡及周边沼泽,大安市林草局",
        "无面积湿地,一般,河流湿地,,\"123.5,45.0\",某局",
        "坏坐标湿地,一般,河流湿地,10,\"200.0,95.0\",某局",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def test_list_entries_with_centres_or_words_are_all_stored(tmp_path: Path):
    prep = prepare_wetlands(read_source(_list_csv(tmp_path)), crs="EPSG:4490")
    frame = prep.frame.set_index("wetland_name")
    # every row is stored (words-only and no-area rows too); nothing is silently dropped
    assert prep.read == len(prep.frame) + prep.rejected_rows == 5
    assert set(frame.index) == {
        "查干湖湿地", "向海湿地", "牛心套保湿地", "无面积湿地", "坏坐标湿地"}
    assert frame.loc["查干湖湿地", "location_kind"] == "point"
    assert frame.loc["查干湖湿地", "wetland_level"] == "国家重要湿地"
    assert frame.loc["查干湖湿地", "area_m2"] == pytest.approx(1e6)
    assert frame.loc["查干湖湿地", "match_radius_m"] == pytest.approx(math.sqrt(1e6 / math.pi),
                                                                    abs=0.1)
    assert frame.loc["向海湿地"].geometry.x == pytest.approx(122.3)
    words = frame.loc["牛心套保湿地"]
    assert words["location_kind"] == "none" and words.geometry is None
    assert words["extent_text"].startswith("大安市西北部")
    assert words["wetland_level"] == "省级重要湿地"
    assert frame.loc["无面积湿地", "location_kind"] == "point"
    assert np.isnan(frame.loc["无面积湿地", "match_radius_m"])
    notes = " ".join(prep.notes)
    assert "为近似" in notes and "只有文字描述" in notes and "没有面积的点" in notes


def test_a_cell_that_is_not_a_coordinate_pair_stays_words(tmp_path: Path):
    prep = prepare_wetlands(read_source(_list_csv(tmp_path)), crs="EPSG:4490")
    bad = prep.frame.set_index("wetland_name").loc["坏坐标湿地"]
    assert bad["location_kind"] == "none"  # 200, 95 is no place in China: kept as words


def test_a_table_without_any_coordinates_needs_no_crs(tmp_path: Path):
    path = tmp_path / "w.csv"
    path.write_text("湿地名称,湿地级别,范围\n甲湿地,一般湿地,甲河两岸\n乙湿地,国家重要,乙湖\n",
                    encoding="utf-8")
    prep = prepare_wetlands(read_source(path))
    assert list(prep.frame["location_kind"]) == ["none", "none"]
    assert prep.frame.crs.equals(CGCS2000)


def test_lon_lat_columns_with_blank_rows(tmp_path: Path):
    path = tmp_path / "w.csv"
    path.write_text("湿地名称,经度,纬度,面积(公顷)\n甲,126.5,43.5,10\n乙,,,5\n丙,126.6,,3\n",
                    encoding="utf-8")
    prep = prepare_wetlands(read_source(path), crs="EPSG:4490")
    assert list(prep.frame["wetland_name"]) == ["甲", "乙"]
    assert list(prep.frame["location_kind"]) == ["point", "none"]
    assert [(r.row, r.reason) for r in prep.rejects] == [(4, "缺少坐标：请填写")]


def test_polygons_get_their_equal_area_area(tmp_path: Path):
    poly = shapely.box(126.0, 43.0, 126.01, 43.01)
    gpd.GeoDataFrame({"湿地名称": ["甲"], "湿地级别": ["一般"]}, geometry=[poly],
                     crs=4490).to_file(tmp_path / "w.gpkg")
    frame = prepare_wetlands(read_source(tmp_path / "w.gpkg")).frame
    expected = shapely.area(project([poly], CGCS2000, CHINA_ALBERS))[0]
    assert frame["area_m2"].iloc[0] == pytest.approx(expected)
    assert frame["location_kind"].iloc[0] == "polygon"


def test_match_geometries_circle_has_the_listed_area():
    shapes, kinds, radius = match_geometries(
        [shapely.Point(126.5, 43.5), shapely.box(126, 43, 126.1, 43.1), None],
        [2e6, None, 5e5])
    assert list(kinds) == ["point", "polygon", "none"]
    area = shapely.area(project(shapes[:1], CGCS2000, CHINA_ALBERS))[0]
    assert area == pytest.approx(2e6, rel=0.005)
    assert shapes[2] is None and np.isnan(radius[1])
    assert match_label(kinds[0], radius[0]) == "radius≈798 m (approximation)"
    assert match_label("none", None) is None


