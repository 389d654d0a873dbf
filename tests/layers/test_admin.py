"""Administrative divisions: a name column, or the 省 / 市 / 县 hierarchy, or a refusal."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from layers.admin import prepare_admin
from layers.errors import FieldError
from layers.read import read_source


def _file(tmp_path: Path, columns: dict[str, list[object]]) -> Path:
    n = len(next(iter(columns.values())))
    path = tmp_path / "admin.gpkg"
    gpd.GeoDataFrame(columns, geometry=[shapely.box(126 + i, 43, 127 + i, 44) for i in range(n)],
                     crs=4490).to_file(path)
    return path


def test_province_city_county_columns_name_each_row_by_its_finest_unit(tmp_path):
    path = _file(tmp_path, {
        "行政区划代码": ["220000", "220100", "220102", "220122"],
        "省": ["吉林省"] * 4,
        "市": [None, "长春市", "长春市", "长春市"],
        "县": [None, None, "南关区", "农安县"],
    })
    prep = prepare_admin(read_source(path))
    frame = prep.frame.set_index("adcode")
    assert frame["admin_name"].to_dict() == {
        "220000": "吉林省", "220100": "长春市", "220102": "南关区", "220122": "农安县"}
    assert frame["admin_level"].to_dict() == {
        "220000": "province", "220100": "city", "220102": "county", "220122": "county"}
    assert any("按 省 / 市 / 县 各列的层级命名" in n for n in prep.notes)


def test_columns_naming_no_county_are_refused_with_the_columns_found(tmp_path):
    path = _file(tmp_path, {"行政区划代码": ["220102", "220122"], "省": ["吉林省"] * 2,
                            "市": ["长春市"] * 2})
    with pytest.raises(FieldError, match=r"没有列给出县的名称：文件中的列："
                                         r"行政区划代码、省、市.*--field admin_name=COLUMN"):
        prepare_admin(read_source(path))


def test_a_county_row_without_a_name_is_rejected_not_named_after_its_city(tmp_path):
    path = _file(tmp_path, {"adcode": ["220100", "220102"], "city": ["长春市", "长春市"],
                            "district": [None, None], "level": ["city", "county"]})
    prep = prepare_admin(read_source(path))
    assert prep.frame.set_index("adcode")["admin_name"].to_dict() == {"220100": "长春市"}
    assert [(r.row, r.field) for r in prep.rejects] == [(2, "district")]
