"""The section 通报 of ``lvdun report``: the units behind their deadlines, most overdue first."""

# ruff: noqa: F811 -- fixtures imported from tests/pipelines/store/conftest.py

from __future__ import annotations

from datetime import date

from openpyxl import load_workbook

from pipelines.publish.report import build_report, render_markdown, write_report
from pipelines.verify.deadlines import set_batch_deadline
from pipelines.verify.status import set_status
from tests.pipelines.store.conftest import (  # noqa: F401
    any_classified,
    any_workspace,
    gpkg_workspace,
    pg_database,
    pg_schema_url,
    pg_workspace,
)
from tests.pipelines.verify.levels import add_counties


def test_units_behind_their_deadlines_most_overdue_first(any_classified, tmp_path):
    ws = add_counties(any_classified, tmp_path)
    set_status(ws, "L001", "问题")
    set_status(ws, "L001", "整改中", responsible_unit="延吉市林业局", deadline="2025-05-01")
    set_status(ws, "L003", "问题")
    set_status(ws, "L003", "整改中", responsible_unit="安图县林业局", deadline="2025-06-30")
    set_batch_deadline(ws, "2024-H1", "2025-06-15")  # L002 L004 L005 L006 still pending
    report = build_report(ws, today=date(2025, 7, 1), charts=False)
    keys = [s.key for s in report.sections]
    assert keys.index("notice") == keys.index("dispatch") + 1
    table = report.table("notice").frame
    assert table.columns.tolist() == ["责任单位", "逾期类型", "逾期线索数", "最长逾期天数",
                                      "最早期限", "线索编号"]
    rows = table.to_dict("records")
    assert [r["最长逾期天数"] for r in rows] == sorted(
        (r["最长逾期天数"] for r in rows), reverse=True)
    assert rows[0] == {"责任单位": "延吉市林业局", "逾期类型": "整改逾期", "逾期线索数": 1,
                       "最长逾期天数": 61, "最早期限": "2025-05-01", "线索编号": "L001"}
    assert rows[-1]["责任单位"] == "安图县林业局" and rows[-1]["最长逾期天数"] == 1
    units = {r["责任单位"]: r for r in rows}
    assert units["甲保护区"]["线索编号"] == "L002、L006"
    assert units["甲保护区"]["逾期类型"] == "核查上报逾期"
    assert units["乙保护区"]["线索编号"] == "L004"
    assert sum(r["逾期线索数"] for r in rows) == 6
    text = render_markdown(report)
    assert "## 通报" in text and text.index("## 调度表") < text.index("## 通报")
    assert "| 延吉市林业局 | 整改逾期 | 1 | 61 |" in text
    html = write_report(report, tmp_path / "r.html", "html").read_text("utf-8")
    assert 'id="notice"' in html and "延吉市林业局" in html
    book = load_workbook(write_report(report, tmp_path / "r.xlsx", "xlsx"))
    assert "通报" in book.sheetnames
    cells = [c for row in book["通报"].iter_rows(values_only=True) for c in row if c]
    assert "延吉市林业局" in cells and 61 in cells


def test_no_unit_is_overdue(any_classified, tmp_path):
    report = build_report(any_classified, today=date(2025, 7, 1), charts=False)
    assert report.table("notice").frame.empty
    assert "没有逾期的单位" in render_markdown(report)
