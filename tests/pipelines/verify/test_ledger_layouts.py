"""Ledgers of every layout read back: the title row above the header, and older ledgers
(header in the first row, reserve levels written as codes) still import."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import load_workbook

from pipelines.publish.export import export
from pipelines.publish.export.xlsx import HEADER_ROW, TITLE_ROW
from pipelines.verify.ledger_import import import_ledger, read_ledger
from pipelines.verify.status import current_state


def _column(sheet, header: str, row: int) -> int:
    return next(c.column for c in sheet[row] if c.value == header)


def test_the_header_is_found_below_the_title_row(classified, tmp_path: Path):
    xlsx = export(classified, tmp_path, formats=("xlsx",)).group("R01").files[0]
    ledger = read_ledger(xlsx)
    assert ledger.columns[0] == "lead_id" and "area_mu" in ledger.columns
    assert [n for n, _ in ledger.rows] == [3, 4, 5, 6]  # the sheet's own row numbers
    assert not ledger.extra_columns


def test_a_ledger_without_title_row_still_imports(classified, tmp_path: Path):
    xlsx = export(classified, tmp_path, formats=("xlsx",)).group("R01").files[0]
    book = load_workbook(xlsx)
    sheet = book["台账"]
    for merged in list(sheet.merged_cells.ranges):
        sheet.unmerge_cells(str(merged))
    sheet.delete_rows(TITLE_ROW)  # the layout of ledgers exported before the title row
    status = _column(sheet, "核查状态", HEADER_ROW - 1)
    lead = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "L001")
    sheet.cell(lead, status).value = "问题"
    book.save(xlsx)
    report = import_ledger(classified, xlsx, by="李四")
    assert report.summary() == "已应用 1，未变 3，已拒绝 0"
    assert [r.row for r in report.rows if r.lead_id == "L001"] == [lead]
    assert current_state(classified, "L001")["status"] == "problem"


def test_an_older_csv_with_level_codes_and_no_mu_column(classified, tmp_path: Path):
    path = export(classified, tmp_path, formats=("csv",)).group("R01").files[0]
    lines = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    header = lines[0]
    mu, level, status = (header.index(h) for h in ("面积(亩)", "保护区级别", "核查状态"))
    old = []
    for k, line in enumerate(lines):
        if k:
            line[level] = "national"  # as older exports wrote it
            if line[0] == "L002":
                line[status] = "problem"  # a code typed instead of 问题
        old.append([v for j, v in enumerate(line) if j != mu])
    buffer = io.StringIO()
    csv.writer(buffer).writerows(old)
    path.write_text(buffer.getvalue(), encoding="utf-8-sig")
    report = import_ledger(classified, path, by="李四")
    assert report.summary() == "已应用 1，未变 3，已拒绝 0"
    assert not any(r.warnings for r in report.rows)  # 'national' reads as 国家级
    assert current_state(classified, "L002")["status"] == "problem"
