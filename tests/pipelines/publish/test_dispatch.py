"""The dispatch table (调度表) of ``lvdun report``: progress per county, city and reserve."""

# ruff: noqa: F811 -- fixtures imported from tests/pipelines/store/conftest.py

from __future__ import annotations

from datetime import date

from openpyxl import load_workbook

from pipelines.publish.report import build_report, render_markdown, write_report
from pipelines.verify import review
from pipelines.verify.status import set_status
from tests.pipelines.store.conftest import (  # noqa: F401
    any_classified,
    any_workspace,
    gpkg_workspace,
    pg_database,
    pg_schema_url,
    pg_workspace,
)
from tests.pipelines.verify.levels import add_counties, user

RECORD = {"responsible_unit": "安图县林业局", "deadline": "2025-06-30"}


def test_dispatch_per_county_city_and_reserve(any_classified, tmp_path):
    ws = add_counties(any_classified, tmp_path)
    editor, city, province = user(ws, "甲保护区"), user(ws, "某市局"), user(ws, "某省厅")
    # 延吉市: L001 closed through acceptance, L002 非问题 approved
    set_status(ws, "L001", "问题")
    review.submit(ws, editor, "L001")
    review.approve(ws, city, "L001")
    review.approve(ws, province, "L001")
    for step in ("整改中", "已整改"):
        set_status(ws, "L001", step, **RECORD)
    review.submit(ws, editor, "L001")
    review.approve(ws, city, "L001")
    review.approve(ws, province, "L001")
    set_status(ws, "L002", "非问题", reason="手续合法")
    review.submit(ws, editor, "L002")
    review.approve(ws, city, "L002")
    review.approve(ws, province, "L002")
    # 安图县: L003 问题 in rectification past its deadline, L004 and L006 pending
    set_status(ws, "L003", "问题")
    set_status(ws, "L003", "整改中", **RECORD)
    report = build_report(ws, today=date(2025, 7, 1), charts=False)
    county = report.table("dispatch_county").frame.set_index("县（市、区）")
    yanji, antu = county.loc["延吉市（222401）"], county.loc["安图县（222426）"]
    assert (yanji["线索数"], yanji["已核查"], yanji["核查完成率"]) == (2, 2, "100.0%")
    assert (yanji["审核通过"], yanji["审核通过率"]) == (2, "100.0%")
    assert (yanji["问题数"], yanji["整改完成率"], yanji["销号率"]) == (1, "100.0%", "100.0%")
    assert (antu["线索数"], antu["已核查"], antu["核查完成率"]) == (3, 1, "33.3%")
    assert (antu["审核通过"], antu["审核通过率"], antu["问题数"]) == (0, "0.0%", 1)
    assert (antu["整改完成率"], antu["销号率"], antu["逾期数"]) == ("0.0%", "0.0%", 1)
    assert county.loc["合计", "线索数"] == 6
    # the open leads of 安图县 are L003, L004, L006; 延吉市's are all closed or 非问题
    assert yanji["最久未结线索"] == ""
    assert antu["最久未结线索"] == "L003（2024-H1）"  # same round: the lowest id
    cities = report.table("dispatch_city").frame.set_index("市（州）")
    assert cities.loc["222400", "线索数"] == 5 and cities.loc["220100", "线索数"] == 1
    reserves = report.table("dispatch_reserve").frame.set_index("保护区")
    # L003 wins 乙 but lies in 甲 too: it counts in both rows, once in 合计
    assert (reserves.loc["甲保护区", "线索数"], reserves.loc["乙保护区", "线索数"]) == (4, 2)
    assert reserves.loc["甲保护区", "问题数"] == 2 and reserves.loc["合计", "线索数"] == 6
    assert reserves.loc["甲保护区", "销号率"] == "50.0%"  # L001 closed, L003 not
    assert "各县（市、区）调度" in render_markdown(report)
    path = write_report(report, tmp_path / "report.xlsx", "xlsx")
    assert "调度表" in load_workbook(path).sheetnames
