"""What the reserve, wetland and county features of the map say and how they are styled."""

from __future__ import annotations

import json

import geopandas as gpd
from shapely.geometry import Point, box

from tests.webmap.frames import CRS, make_reserves
from webmap.map import features
from webmap.map.style import LEVEL_OUTLINE, ZONE_FILL


def test_reserves_keyed_by_zone_and_level_strictest_on_top():
    data = json.loads(features.reserve_features(make_reserves()).geojson)
    props = [f["properties"] for f in data["features"]]
    keys = [p["k"] for p in props]
    assert keys[-2:] == ["core|national", "core_protection|provincial"]
    assert keys[0] == "unzoned|county"
    core = next(p for p in props if p["k"] == "core|national")
    assert core["v"] == ["长白山（合成）", "N1", "国家级", "核心区"]


def test_reserve_zone_given_as_label_or_missing():
    frame = gpd.GeoDataFrame(
        {
            "reserve_name": ["甲", "乙", "丙"],
            "level": ["国家级", None, "?"],
            "zone": ["缓冲区", None, "x"],
        },
        geometry=[box(0, 0, 1, 1), box(1, 1, 2, 2), box(2, 2, 3, 3)],
        crs=CRS,
    )
    keys = [
        f["properties"]["k"]
        for f in json.loads(features.reserve_features(frame).geojson)["features"]
    ]
    assert keys == ["unzoned|", "unzoned|", "buffer|national"]


def test_zone_fill_darkens_with_strictness():
    assert ZONE_FILL["core"] == ZONE_FILL["core_protection"] == "#8b0000"
    assert ZONE_FILL["experimental"] == ZONE_FILL["general_control"]
    assert LEVEL_OUTLINE["national"]["weight"] > LEVEL_OUTLINE["provincial"]["weight"]


def test_coordinates_rounded_and_2d():
    frame = gpd.GeoDataFrame(
        {"wetland_name": ["湖"]}, geometry=[Point(128.123456789, 42.987654321, 500)], crs=CRS
    )
    geometry = json.loads(features.wetland_features(frame).geojson)["features"][0]["geometry"]
    assert geometry["coordinates"] == [128.123457, 42.987654]
