from __future__ import annotations

import pytest

from layers.aliases import map_headers, normalize_level, normalize_status, normalize_zone
from layers.errors import FieldError
from layers.schema import Level, Status, Zone


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["线索编号", "经度", "纬度", "活动类型"], {"lead_id": "线索编号", "x": "经度",
                                                "y": "纬度", "activity_type": "活动类型"}),
        (["图斑编号", "lon", "lat", "变化类型"], {"lead_id": "图斑编号", "x": "lon", "y": "lat",
                                             "change_type": "变化类型"}),
        (["ID", "X", "Y", "面积(亩)"],
         {"lead_id": "ID", "x": "X", "y": "Y", "area_m2": "面积(亩)"}),
        ([" 线索 编号 ", "Longitude", "LATITUDE"], {"lead_id": " 线索 编号 ", "x": "Longitude",
                                                   "y": "LATITUDE"}),
    ],
)
def test_lead_headers_in_chinese_and_english(headers, expected):
    assert map_headers(headers, "leads") == expected


def test_reserve_headers_both_zone_spellings():
    assert map_headers(["保护区名称", "功能分区", "级别"], "reserves") == {
        "reserve_name": "保护区名称", "zone": "功能分区", "level": "级别"}
    assert map_headers(["保护区名称", "功能区"], "reserves")["zone"] == "功能区"


def test_field_override_wins_and_bad_override_is_named():
    found = map_headers(["编号", "序号", "经度", "纬度"], "leads", overrides={"lead_id": "序号"})
    assert found["lead_id"] == "序号"
    with pytest.raises(FieldError, match="文件中没有列 '不存在'"):
        map_headers(["编号"], "leads", overrides={"lead_id": "不存在"})
    with pytest.raises(FieldError, match="没有字段 'bogus'"):
        map_headers(["编号"], "leads", overrides={"bogus": "编号"})


@pytest.mark.parametrize(
    ("value", "zone"),
    [("核心区", Zone.CORE), ("核心保护区", Zone.CORE_PROTECTION), ("缓冲区", Zone.BUFFER),
     ("实验区", Zone.EXPERIMENTAL), ("试验区", Zone.EXPERIMENTAL),
     ("一般控制区", Zone.GENERAL_CONTROL), (" 一般控制区 ", Zone.GENERAL_CONTROL),
     ("Core", Zone.CORE), ("", Zone.UNZONED), (None, Zone.UNZONED), ("禁建区", None)],
)
def test_zone_values_of_both_systems(value, zone):
    assert normalize_zone(value) == zone


def test_levels_and_statuses():
    assert normalize_level("省级") == Level.PROVINCIAL
    assert normalize_level("国家级自然保护区") == Level.NATIONAL
    assert normalize_level("???") is None
    assert normalize_status("已销号") == Status.CLOSED
    assert normalize_status("not_problem") == Status.NOT_PROBLEM
    assert normalize_status("whatever") is None
