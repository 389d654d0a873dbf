from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import shapely

from layers.errors import FieldError, InputError
from layers.mines import POINT_MINE_RADIUS_M, mine_columns, normalize_progress, prepare_mines
from layers.read import read_source


def _mines_csv(tmp_path: Path, money_header: str = "保证金(万元)") -> Path:
    path = tmp_path / "矿山.csv"
    lines = [
        f"许可证号,矿山名称,矿种,开采方式,矿山状态,关闭日期,责任主体,修复模式,治理进度,"
        f"{money_header},土地复垦费(元),经度,纬度,面积(公顷)",
        "C001,甲矿,石灰岩,露天,已关闭,2019-06-30,甲公司,自然修复,未开展,12.5,30000,126.5,43.5,4",
        "C002,乙矿,金,地下,在产,,乙公司,,治理中,5,,126.6,43.6,10",
        ",历史遗留丙矿,砂石,露天,历史遗留,,,生态重建,已验收,,,,,",
        "C004,丁矿,煤,地下,停产整顿,,,,,,,126.7,43.7,1",
        "C005,戊矿,煤,地下,关闭,,,,差不多,,,126.8,43.8,1",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_mine_records_normalised_and_money_in_yuan(tmp_path: Path):
    prep = prepare_mines(read_source(_mines_csv(tmp_path)), crs="EPSG:4490")
    frame = prep.frame.set_index("mine_id")
    a = frame.loc["C001"]
    assert (a["mine_status"], a["restoration_progress"], a["restoration_mode"]) == (
        "关闭", "未治理", "自然恢复")
    assert a["closed_year"] == 2019 and a["closed_date"] == "2019-06-30"
    assert a["deposit_yuan"] == pytest.approx(125_000.0)
    assert a["reclamation_fund_yuan"] == pytest.approx(30_000.0)
    assert a["responsible_party"] == "甲公司"
    assert a["match_radius_m"] > 0 and a["location_kind"] == "point"
    assert frame.loc["C002", "mine_status"] == "有效"
    # a historic mine without licence number or coordinates: keyed by name, stored
    c = frame.loc["历史遗留丙矿"]
    assert (c["mine_status"], c["restoration_progress"], c["location_kind"]) == (
        "历史遗留", "验收", "none")
    reasons = {r.row: r.reason for r in prep.rejects}
    assert set(reasons) == {5, 6}
    assert "未知的矿山状态" in reasons[5] and "关闭、历史遗留、有效" in reasons[5]
    assert "未知的治理进度" in reasons[6]
    assert prep.read == len(prep.frame) + prep.rejected_rows


def test_money_without_unit_is_yuan_with_a_note(tmp_path: Path):
    prep = prepare_mines(read_source(_mines_csv(tmp_path, "保证金")), crs="EPSG:4490")
    assert prep.frame.set_index("mine_id").loc["C001", "deposit_yuan"] == 12.5
    assert any("按 元 读取" in n for n in prep.notes)


def test_unknown_money_unit_is_refused(tmp_path: Path):
    with pytest.raises(FieldError, match="未知的金额单位 '美元'"):
        prepare_mines(read_source(_mines_csv(tmp_path, "保证金(美元)")), crs="EPSG:4490")


@pytest.mark.parametrize(("text", "expected"), [
    ("未治理", "未治理"), ("治理完成", "已治理"), ("通过验收", "验收"), ("", None), ("乱写", None)])
def test_normalize_progress(text, expected):
    assert normalize_progress(text) == expected


def _point_mines(tmp_path: Path) -> Path:
    path = tmp_path / "gem.csv"
    path.write_text("GEM Mine ID,Mine Name,矿山状态,经度,纬度,面积(公顷)\n"
                    "M1,甲煤矿,关闭,126.5,43.5,\n"
                    "M2,乙煤矿,关闭,126.6,43.6,4\n", encoding="utf-8")
    return path


def test_a_point_mine_without_area_gets_the_stated_radius(tmp_path: Path):
    prep = prepare_mines(read_source(_point_mines(tmp_path)), crs="EPSG:4490")
    frame = prep.frame.set_index("mine_id")
    assert frame.loc["M1", "match_radius_m"] == POINT_MINE_RADIUS_M == 500.0
    assert frame.loc["M2", "match_radius_m"] == pytest.approx((4e4 / math.pi) ** 0.5, abs=0.1)
    assert any("1 个矿山条目是没有面积的点：与距该点 500 米以内的线索匹配"
               in n for n in prep.notes)
    wider = prepare_mines(read_source(_point_mines(tmp_path)), crs="EPSG:4490",
                          point_radius_m=1200)
    assert wider.frame.set_index("mine_id").loc["M1", "match_radius_m"] == 1200.0
    with pytest.raises(InputError, match="--point-radius 0"):
        prepare_mines(read_source(_point_mines(tmp_path)), crs="EPSG:4490", point_radius_m=0)


def test_a_lead_on_a_point_mine_matches_it_within_the_radius(tmp_path: Path):
    mines = prepare_mines(read_source(_point_mines(tmp_path)), crs="EPSG:4490").frame
    leads = np.array([shapely.Point(126.5, 43.5),          # 0 m from 甲
                      shapely.Point(126.5, 43.5036),       # about 400 m north
                      shapely.Point(126.5, 43.5063)], dtype=object)  # about 700 m north
    out = mine_columns(leads, mines)
    assert _ids(out) == ["M1", "M1", None]
    assert "关闭矿山内（甲煤矿，点位500米范围内）" in out["mine_flag"].iloc[0]
    # a mine stored before radii were (no match_radius_m) takes the default radius
    legacy = mines.drop(columns="match_radius_m")
    assert _ids(mine_columns(leads, legacy)) == ["M1", "M1", None]


def _ids(out) -> list[str | None]:
    return [v if isinstance(v, str) else None for v in out["mine_ids"]]
