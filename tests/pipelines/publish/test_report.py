from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from openpyxl import load_workbook

from geo.crs import CGCS2000, CHINA_ALBERS
from geo.overlay import project
from layers.schema import ZONE_LABELS, Zone
from pipelines.classify.job import classify
from pipelines.ingest.files import ingest
from pipelines.publish.report import (
    build_report,
    markdown_report,
    render_html,
    render_markdown,
    write_report,
)
from pipelines.publish.report.charts import bar_chart
from pipelines.verify.deadlines import set_batch_deadline
from pipelines.verify.status import set_status

TODAY = date(2025, 7, 1)
_HALF_IN = shapely.box(126.755, 43.415, 126.765, 43.425)  # half inside 乙湿地 (x < 126.76)


@pytest.fixture
def report_ws(workspace, zones_file: Path, leads_csv: Path, tmp_path: Path):
    """甲/乙 reserves, six point leads and two patches, a wetland list, mines, counties."""
    gpd.GeoDataFrame(
        {"图斑编号": ["P1", "P2"], "批次": ["2024-H2", "2024-H2"], "活动类型": ["养殖场", None]},
        geometry=[_HALF_IN, shapely.box(126.54, 43.49, 126.56, 43.51)], crs=4490,
    ).to_file(tmp_path / "p.gpkg")
    (tmp_path / "w.csv").write_text(
        "名称,级别,类型,面积(平方公里),范围\n"
        "甲湿地,省级重要,沼泽湿地,1,\"126.42, 43.42\"\n"
        "无坐标湿地,一般,河流湿地,3,甲河两岸\n", encoding="utf-8")
    gpd.GeoDataFrame({"湿地名称": ["乙湿地"], "湿地级别": ["国家重要湿地"]},
                     geometry=[shapely.box(126.74, 43.41, 126.76, 43.43)], crs=4490
                     ).to_file(tmp_path / "w2.gpkg")
    gpd.GeoDataFrame(
        {"许可证号": ["C001", "C002"], "矿山名称": ["甲关闭矿", "乙有效矿"],
         "矿山状态": ["关闭", "有效"], "关闭年份": [2018, None], "治理进度": ["未治理", None],
         "保证金(万元)": [10.0, 5.0]},
        geometry=[shapely.box(126.495, 43.495, 126.505, 43.505),
                  shapely.box(126.622, 43.49, 126.628, 43.51)], crs=4490,
    ).to_file(tmp_path / "m.gpkg")
    gpd.GeoDataFrame({"adcode": ["220101", "220102"], "name": ["西县", "东县"]},
                     geometry=[shapely.box(126, 43, 126.6, 44), shapely.box(126.6, 43, 128, 44)],
                     crs=4490).to_file(tmp_path / "a.gpkg")
    ws = workspace
    ingest(ws, "reserves", zones_file)
    ingest(ws, "leads", leads_csv, crs="EPSG:4490")
    ingest(ws, "leads", tmp_path / "p.gpkg")
    ingest(ws, "wetlands", tmp_path / "w.csv", crs="EPSG:4490")
    ingest(ws, "wetlands", tmp_path / "w2.gpkg")
    ingest(ws, "mines", tmp_path / "m.gpkg")
    ingest(ws, "admin", tmp_path / "a.gpkg")
    classify(ws)
    set_status(ws, "L001", "问题", by="张三")
    set_status(ws, "L001", "整改中", responsible_unit="甲县林业局", deadline="2025-06-30")
    set_status(ws, "L002", "非问题", reason="手续合法")
    set_status(ws, "L004", "核查中")
    set_batch_deadline(ws, "2024-H1", "2025-05-31")
    return ws


def _sql(ws, sql: str) -> pd.DataFrame:
    return ws.query(sql)


_JOIN = ('FROM "leads" l LEFT JOIN "lead_class" c ON c."lead_id" = l."lead_id" '
         'LEFT JOIN "lead_status" s ON s."lead_id" = l."lead_id"')
_AREA = 'SUM(COALESCE(c."area_m2", l."area_m2")) AS area'


def _compare(table: pd.DataFrame, label: str, expected: pd.DataFrame) -> None:
    got = table[table[label] != "合计"].set_index(label)
    exp = expected.set_index("k")
    assert set(got.index) == set(exp.index)
    for key, row in exp.iterrows():
        assert got.loc[key, "线索数"] == row["n"], key
        assert got.loc[key, "面积(公顷)"] == pytest.approx(round((row["area"] or 0) / 1e4, 2))
    total = table[table[label] == "合计"].iloc[0]
    assert total["线索数"] == exp["n"].sum()


def test_numbers_equal_the_workspace(report_ws):
    ws = report_ws
    report = build_report(ws, today=TODAY, charts=False)
    # every reserve counts the leads lying in it; 合计 counts each lead once
    by_reserve = report.table("by_reserve").frame
    members = _sql(ws, (
        'SELECT k, COUNT(*) AS n, SUM(a) AS area FROM (SELECT m."reserve_name" AS k, '
        'COALESCE(c."area_m2", l."area_m2") AS a FROM "lead_reserves" m JOIN "leads" l '
        'ON l."lead_id" = m."lead_id" LEFT JOIN "lead_class" c ON c."lead_id" = l."lead_id" '
        "UNION ALL SELECT '保护区外', COALESCE(c.\"area_m2\", l.\"area_m2\") FROM \"leads\" l "
        'LEFT JOIN "lead_class" c ON c."lead_id" = l."lead_id" WHERE l."lead_id" NOT IN '
        '(SELECT "lead_id" FROM "lead_reserves")) t GROUP BY k'))
    got = by_reserve[by_reserve["保护区"] != "合计"].set_index("保护区")
    assert set(got.index) == set(members["k"])
    for key, n in zip(members["k"], members["n"], strict=True):
        assert got.loc[key, "线索数"] == n, key
    assert by_reserve[by_reserve["保护区"] == "合计"].iloc[0]["线索数"] == ws.count("leads")
    assert got["线索数"].sum() > ws.count("leads")  # some lead lies in two reserves
    _compare(report.table("by_activity").frame, "活动类型", _sql(ws, (
        f'SELECT COALESCE(l."activity_type", \'未填写\') AS k, COUNT(*) AS n, {_AREA} {_JOIN} '
        "GROUP BY k")))
    _compare(report.table("by_county").frame, "县（市、区）", _sql(ws, (
        f'SELECT COALESCE(c."county_name", \'县界外\') AS k, COUNT(*) AS n, {_AREA} {_JOIN} '
        "GROUP BY k")))
    labels = {"pending": "待核查", "in_field": "核查中", "not_problem": "非问题",
              "problem": "问题", "rectifying": "整改中", "rectified": "已整改", "closed": "已销号"}
    status = report.table("by_status").frame.set_index("核查状态")
    counts = _sql(ws, f'SELECT s."status" AS k, COUNT(*) AS n {_JOIN} GROUP BY k')
    for code, n in zip(counts["k"], counts["n"], strict=True):
        assert status.loc[labels[code], "线索数"] == n
    zones = report.table("by_zone").frame.set_index("功能区")
    counts = _sql(ws, f'SELECT c."zone_label" AS k, COUNT(*) AS n {_JOIN} GROUP BY k')
    for label, n in zip(counts["k"], counts["n"], strict=True):
        assert zones.loc[label, "线索数"] == n
    assert zones.loc["合计", "线索数"] == ws.count("leads") == 8
    # reserve × zone: each reserve's row counts its members under their zone in it
    cross = report.table("by_reserve_zone").frame.set_index("保护区")
    pairs = _sql(ws, 'SELECT "reserve_name" AS k, "zone" AS z, COUNT(*) AS n '
                     'FROM "lead_reserves" GROUP BY k, z')
    for key, zone, n in zip(pairs["k"], pairs["z"], pairs["n"], strict=True):
        assert cross.loc[key, ZONE_LABELS[Zone(zone)]] == n, (key, zone)
    assert cross.loc["合计", "合计"] == ws.count("leads")
    assert cross.drop(index="合计")["合计"].sum() > ws.count("leads")


def test_batch_progress_and_overdue(report_ws):
    report = build_report(report_ws, today=TODAY, charts=False)
    progress = report.table("batch_progress").frame.set_index("批次")
    judged = _sql(report_ws, (
        f'SELECT l."batch" AS k, COUNT(*) AS n, SUM(CASE WHEN s."status" NOT IN '
        f"('pending', 'in_field') THEN 1 ELSE 0 END) AS v {_JOIN} GROUP BY k")).set_index("k")
    for batch, row in judged.iterrows():
        assert progress.loc[batch, "线索数"] == row["n"]
        assert progress.loc[batch, "已核查"] == row["v"]
    assert progress.loc["2024-H1", "上报期限"] == "2025-05-31"
    assert progress.loc["2024-H1", "剩余天数"] == -31
    assert progress.loc["2024-H1", "状态"] == "已逾期"
    assert progress.loc["2024-H2", "上报期限"] == ""
    late = report.table("overdue").frame.set_index("线索编号")
    assert late.loc["L001", "逾期类型"] == "整改逾期" and late.loc["L001", "逾期天数"] == 1
    # still 待核查/核查中 after the 2024-H1 deadline; L002 (非问题) is done
    assert set(late.index) == {"L001", "L003", "L004", "L005", "L006"}


def test_wetland_section_with_radius_approximation_and_occupied_area(report_ws):
    k = report_ws.read_table("lead_class").set_index("lead_id")
    radius = math.sqrt(1e6 / math.pi)
    assert k.loc["L002", "wetland_names"] == "甲湿地"  # a point 0 m from the list centre
    assert k.loc["L002", "wetland_match"] == f"radius≈{radius:.0f} m (approximation)"
    assert k.loc["L002", "wetland_levels"] == "省级重要湿地"
    assert (k.loc["P1", "wetland_names"], k.loc["P1", "wetland_match"]) == ("乙湿地", "polygon")
    half = shapely.area(project([shapely.box(126.755, 43.415, 126.76, 43.425)], CGCS2000,
                                CHINA_ALBERS))[0]
    assert k.loc["P1", "wetland_area_m2"] == pytest.approx(half, rel=1e-6)
    report = build_report(report_ws, today=TODAY, charts=False)
    by_level = report.table("wetland_by_level").frame.set_index("湿地级别")
    sql = _sql(report_ws, 'SELECT COUNT(*) AS n, SUM("wetland_area_m2") AS a FROM "lead_class" '
                          'WHERE "wetland_ids" IS NOT NULL').iloc[0]
    assert by_level.loc["合计", "线索数"] == sql["n"] == 3  # L002, L004, P1
    assert by_level.loc["合计", "湿地内图斑面积(公顷)"] == pytest.approx(round(sql["a"] / 1e4, 2))
    assert by_level.loc["国家重要湿地", "线索数"] == 2
    leads = report.table("wetland_leads").frame
    assert set(leads["线索编号"]) == {"L002", "L004", "P1"}
    md = render_markdown(report)
    assert "approximation" in md and "无坐标湿地" in md
    only = build_report(report_ws, today=TODAY, charts=False, only="wetlands")
    assert only.table("by_reserve").frame.iloc[-1]["线索数"] == 3


def test_mine_section(report_ws):
    report = build_report(report_ws, today=TODAY, charts=False)
    status = report.table("mines_by_status").frame.set_index("矿山状态")
    assert status.loc["关闭", "未治理"] == 1 and status.loc["合计", "合计"] == 2
    funds = report.table("mine_funds").frame.set_index("矿山状态")
    assert funds.loc["合计", "保证金(万元)"] == pytest.approx(15.0)
    triage = report.table("mine_triage").frame
    assert list(triage["线索编号"]) == ["L001"]
    assert list(report.table("mine_beyond").frame["线索编号"]) == ["L003"]
    assert list(report.table("mine_refusing").frame["许可证号"]) == ["C001"]
    assert set(report.table("mine_due").frame["许可证号"]) == {"C001", "C002"}


def test_batch_filter(report_ws):
    report = build_report(report_ws, batch="2024-H2", today=TODAY, charts=False)
    assert report.table("by_reserve").frame.iloc[-1]["线索数"] == 2
    assert "批次：2024-H2" in report.scope


def test_formats(report_ws, tmp_path: Path):
    report = build_report(report_ws, today=TODAY)
    html = render_html(report)
    assert html.count("data:image/png;base64,") == len(report.charts()) >= 3
    assert "<h2" in html and "甲保护区" in html
    path = write_report(report, tmp_path / "r.xlsx", "xlsx")
    book = load_workbook(path)
    assert book.sheetnames[0] == "线索概况"
    sheet = book["线索概况"]
    values = [row for row in sheet.iter_rows(values_only=True) if row[0] == "合计"]
    assert values[0][1] == 8  # numbers stay numbers
    assert len(sheet._images) == 3
    md = markdown_report(report_ws, today=TODAY)
    assert md.startswith("# 绿盾线索核查报告") and "| 甲保护区 |" in md


def test_charts_without_a_cjk_font_number_their_labels_without_warnings():
    chart = bar_chart("x", "各保护区", ["甲保护区", "乙保护区"], [3, 2], unit="线索数",
                      use_font=False)
    assert chart.png.startswith(b"\x89PNG")
    assert chart.legend == "1 = 甲保护区; 2 = 乙保护区"


def test_report_command(report_ws, tmp_path: Path):
    from pipelines.cli import cli

    ws = report_ws.location
    report_ws.close()
    run = CliRunner().invoke
    result = run(cli, ["report", "-w", ws, "--today", "2025-07-01"])
    assert result.exit_code == 0 and "甲保护区" in result.output and "湿地" in result.output
    out = tmp_path / "r.html"
    result = run(cli, ["report", "-w", ws, "--out", str(out), "--only", "mines"])
    assert result.exit_code == 0 and out.read_text(encoding="utf-8").startswith("<!DOCTYPE")
    result = run(cli, ["report", "-w", ws, "--format", "xlsx"])
    assert result.exit_code == 2
    result = run(cli, ["report", "-w", ws, "--since", "nope"])
    assert result.exit_code == 1 and "no run 'nope'" in result.output
