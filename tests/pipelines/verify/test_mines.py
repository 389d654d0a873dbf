from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from layers.mines import OUTSIDE_MARK, TRIAGE_MARK
from pipelines.classify.job import classify
from pipelines.errors import NotFoundError, TransitionError
from pipelines.ingest.files import ingest
from pipelines.verify.mines import (
    due_checks,
    mine_history,
    record_check,
    refusing,
    set_progress,
)

# 甲's centre (L001) lies in a closed mine; L003 (126.63, 43.50) lies 160 m east of a valid
# mine's licence polygon; L004 (126.75, 43.42) is inside a valid one; P1 sticks out of it.
_MINES = [
    ("C001", "甲关闭矿", "关闭", "2019-06-30", None, "未治理", "2025-01-10",
     shapely.box(126.495, 43.495, 126.505, 43.505)),
    ("C002", "乙有效矿", "有效", None, None, "治理中", "2024-12-01",
     shapely.box(126.622, 43.49, 126.628, 43.51)),
    ("C003", "丙有效矿", "有效", None, None, None, None,
     shapely.box(126.74, 43.41, 126.76, 43.43)),
    ("HIST-1", "丁历史遗留矿", "历史遗留", None, 2015, "未治理", None,
     shapely.box(127.0, 43.0, 127.01, 43.01)),
    ("C005", "戊关闭矿", "关闭", None, 2023, "未治理", None,
     shapely.box(127.1, 43.0, 127.11, 43.01)),
    ("C006", "己已验收矿", "关闭", None, 2016, "验收", "2020-01-01",
     shapely.box(127.2, 43.0, 127.21, 43.01)),
]


@pytest.fixture
def mines_ws(workspace, zones_file: Path, leads_csv: Path, tmp_path: Path):
    frame = gpd.GeoDataFrame(
        {"许可证号": [m[0] for m in _MINES], "矿山名称": [m[1] for m in _MINES],
         "矿山状态": [m[2] for m in _MINES], "关闭日期": [m[3] for m in _MINES],
         "关闭年份": [m[4] for m in _MINES], "治理进度": [m[5] for m in _MINES],
         "最近巡查日期": [m[6] for m in _MINES],
         "保证金(万元)": [10.0, None, None, None, 4.0, None],
         "土地复垦费(万元)": [2.0, None, None, None, None, None]},
        geometry=[m[7] for m in _MINES], crs=4490)
    frame.to_file(tmp_path / "mines.gpkg")
    gpd.GeoDataFrame({"图斑编号": ["P1"], "批次": ["2024-H1"]},
                     geometry=[shapely.box(126.755, 43.425, 126.765, 43.435)], crs=4490
                     ).to_file(tmp_path / "p.gpkg")
    ingest(workspace, "reserves", zones_file)
    ingest(workspace, "leads", leads_csv, crs="EPSG:4490")
    ingest(workspace, "leads", tmp_path / "p.gpkg")
    ingest(workspace, "mines", tmp_path / "mines.gpkg")
    return workspace


def _klass(ws) -> dict:
    return ws.read_table("lead_class").set_index("lead_id").to_dict("index")


def test_leads_in_closed_mines_and_beyond_valid_licences_are_flagged(mines_ws):
    classify(mines_ws)
    k = _klass(mines_ws)
    assert k["L001"]["mine_ids"] == "C001" and k["L001"]["mine_names"] == "甲关闭矿"
    assert k["L001"]["mine_flag"] == f"关闭矿山内（甲关闭矿）：{TRIAGE_MARK}"
    # 160 m outside a valid licence polygon: flagged, not a member
    assert pd.isna(k["L003"]["mine_ids"]) and k["L003"]["mine_near_ids"] == "C002"
    assert OUTSIDE_MARK in k["L003"]["mine_flag"] and "500米" in k["L003"]["mine_flag"]
    # inside a valid licence polygon: a member, no flag
    assert k["L004"]["mine_ids"] == "C003" and pd.isna(k["L004"]["mine_flag"])
    # a patch sticking out of the valid licence polygon: member and flagged
    assert k["P1"]["mine_ids"] == "C003" and k["P1"]["mine_near_ids"] == "C003"
    assert pd.isna(k["L005"]["mine_flag"])


def test_the_margin_is_a_parameter(mines_ws):
    classify(mines_ws, mine_margin_m=100.0)
    assert pd.isna(_klass(mines_ws)["L003"]["mine_flag"])


def test_point_mine_with_area_is_matched_by_an_approximate_circle(workspace, zones_file,
                                                                  leads_csv, tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("许可证号,矿山名称,矿山状态,经度,纬度,面积(公顷)\n"
                    "C9,点矿,历史遗留,126.501,43.501,4\n", encoding="utf-8")
    ingest(workspace, "reserves", zones_file)
    ingest(workspace, "leads", leads_csv, crs="EPSG:4490")
    ingest(workspace, "mines", path, crs="EPSG:4490")
    classify(workspace)
    flag = _klass(workspace)["L001"]["mine_flag"]  # 150 m away, radius 113 m... not inside
    assert pd.isna(flag)
    path.write_text("许可证号,矿山名称,矿山状态,经度,纬度,面积(公顷)\n"
                    "C9,点矿,历史遗留,126.501,43.501,40\n", encoding="utf-8")
    ingest(workspace, "mines", path, crs="EPSG:4490")
    classify(workspace)
    flag = _klass(workspace)["L001"]["mine_flag"]  # radius 357 m now: inside
    assert flag.startswith("历史遗留矿山内（点矿，范围按面积折算（radius≈357 m (approximation)）")


def test_progress_with_history_and_step_back_needs_a_note(mines_ws):
    change = set_progress(mines_ws, "C001", "治理中", by="张三", on="2025-03-01")
    assert (change.from_progress, change.to_progress, change.version) == ("未治理", "治理中", 1)
    set_progress(mines_ws, "甲关闭矿", "已验收", by="张三")  # by name, a known spelling
    with pytest.raises(TransitionError, match="需要说明原因"):
        set_progress(mines_ws, "C001", "治理中")
    set_progress(mines_ws, "C001", "治理中", note="验收未通过，返工")
    with pytest.raises(TransitionError, match="已是治理中"):
        set_progress(mines_ws, "C001", "治理中", note="x")
    with pytest.raises(TransitionError, match="未治理, 治理中, 已治理, 验收"):
        set_progress(mines_ws, "C001", "差不多")
    history = mine_history(mines_ws, "C001")
    assert list(history["to_progress"]) == ["治理中", "验收", "治理中"]
    assert list(history["version"]) == [1, 2, 3]
    assert history["on_date"].iloc[0] == "2025-03-01"
    mine = mines_ws.read_features("mines", where='"mine_id" = ?', params=["C001"]).iloc[0]
    assert mine["restoration_progress"] == "治理中"
    with pytest.raises(NotFoundError, match="没有矿山 'NOPE'"):
        set_progress(mines_ws, "NOPE", "治理中")


def test_due_monitoring_and_inspection(mines_ws):
    due = due_checks(mines_ws, today=date(2025, 6, 1)).set_index("mine_id")
    # never visited first; the accepted closed mine (验收) is left out
    assert "C006" not in due.index
    assert set(due.index) == {"C001", "C002", "C003", "HIST-1", "C005"}
    assert due.loc["C001", "kind"] == "inspection" and due.loc["C001", "due_date"] == "2025-04-10"
    assert due.loc["C001", "days_overdue"] == 52
    assert due.loc["C002", "kind"] == "monitoring" and due.loc["C002", "due_date"] == "2025-06-01"
    assert pd.isna(due.loc["C003", "last_date"])
    record_check(mines_ws, "C001", on="2025-05-20", by="李四")
    record_check(mines_ws, "C002", on="2025-05-30")
    due = due_checks(mines_ws, today=date(2025, 6, 1)).set_index("mine_id")
    assert "C001" not in due.index and "C002" not in due.index
    soon = due_checks(mines_ws, today=date(2025, 6, 1), within_days=90).set_index("mine_id")
    assert soon.loc["C001", "due_date"] == "2025-08-20" and soon.loc["C001", "days_overdue"] < 0
    checks = mines_ws.read_table("mine_checks")
    assert set(checks["kind"]) == {"inspection", "monitoring"}
    with pytest.raises(TransitionError, match="在今天之后"):
        record_check(mines_ws, "C001", on="2999-01-01")


def test_refusing_since_closing_date_or_year_end(mines_ws):
    late = refusing(mines_ws, months=12, today=date(2024, 12, 31)).set_index("mine_id")
    assert list(late.index) == ["C001"]  # 戊 closed 2023: counted from 2023-12-31
    row = late.loc["C001"]
    assert (row["since"], row["since_basis"], row["months_untreated"]) == (
        "2019-06-30", "关闭日期", 66)
    assert row["deposit_yuan"] == pytest.approx(100_000.0)
    assert row["deposit_left_yuan"] == pytest.approx(100_000.0)
    late = refusing(mines_ws, months=12, today=date(2025, 1, 2), include_historic=True)
    assert set(late["mine_id"]) == {"C001", "C005", "HIST-1"}
    set_progress(mines_ws, "C001", "治理中", on="2024-06-01")
    set_progress(mines_ws, "C001", "未治理", note="停工", on="2024-09-01")
    late = refusing(mines_ws, months=12, today=date(2024, 12, 31))
    assert late.empty  # 未治理 again only since 2024-09-01
    late = refusing(mines_ws, months=3, today=date(2024, 12, 31)).set_index("mine_id")
    assert late.loc["C001", "since_basis"] == "退回未治理日期"


def test_mines_command_line(mines_ws, tmp_path):
    from click.testing import CliRunner

    from pipelines.cli import cli

    ws = mines_ws.location
    mines_ws.close()
    run = CliRunner().invoke
    result = run(cli, ["mines", "progress", "C001", "治理中", "-w", ws, "--by", "张三"])
    assert result.exit_code == 0 and "未治理 → 治理中" in result.output
    result = run(cli, ["mines", "inspected", "C001", "-w", ws, "--date", "2025-05-20"])
    assert result.exit_code == 0 and "巡查" in result.output
    result = run(cli, ["mines", "due", "-w", ws, "--today", "2025-06-01", "--format", "json"])
    assert result.exit_code == 0 and '"count": 4' in result.output
    result = run(cli, ["mines", "refusing", "-w", ws, "--months", "12", "--today",
                       "2026-01-01", "--format", "json"])
    assert result.exit_code == 0 and '"C005"' in result.output
    result = run(cli, ["mines", "history", "C001", "-w", ws])
    assert "张三" in result.output
    result = run(cli, ["mines", "progress", "NOPE", "治理中", "-w", ws])
    assert result.exit_code == 1 and "没有矿山 'NOPE'" in result.output
    assert "Example" in run(cli, ["mines", "due", "--help"]).output
