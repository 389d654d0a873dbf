"""A ledger changes only the leads of the reserve (or county) it was exported for, judged
by the versions the export recorded, not by the cells of the file."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from pipelines.errors import LedgerError
from pipelines.publish.export import export
from pipelines.verify.ledger_import import import_ledger
from pipelines.verify.status import set_status
from tests.pipelines.verify.test_concurrency import pg_location  # noqa: F401 - a fresh PG database
from tests.pipelines.verify.test_ledger import Sheet, _edit_csv, everything, state


def _results(report: Any) -> dict[str, Any]:
    return {r.lead_id: r for r in report.rows}


def _paste_row(source: Path, target: Path, lead: str, edits: dict[str, Any]) -> None:
    """Copy the whole row of ``lead`` (hidden cells too) from one Excel ledger to another."""
    row = Sheet(source).sheet[Sheet(source).row_of(lead)]
    page = Sheet(target)
    page.sheet.append([c.value for c in row])
    for header, value in edits.items():
        page.set(lead, header, value)
    page.save()


def _csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode("utf-8-sig"))


def test_a_row_pasted_from_another_reserves_excel_ledger_is_refused(classified, tmp_path):
    report = export(classified, tmp_path, formats=("xlsx",))
    own, other = report.files["甲保护区"][0], report.files["乙保护区"][0]
    _paste_row(other, own, "L004", {"核查状态": "核查中"})
    page = Sheet(own)
    page.set("L001", "核查状态", "核查中")
    page.save()
    results = _results(import_ledger(classified, own, by="甲保护区管理局"))
    assert (results["L001"].outcome, results["L004"].outcome) == ("applied", "refused")
    assert results["L004"].problem == "scope"
    assert "线索 L004 不是 甲保护区 (R01) 这份台账的线索：它属于 乙保护区 (R02)" \
        in results["L004"].message
    assert (state(classified, "L004")["status"], state(classified, "L004")["version"]) == (
        "pending", 1)


def test_a_row_of_a_reserve_named_alike_is_refused(workspace, tmp_path):
    from tests.pipelines.twins import twin_workspace

    ws = twin_workspace(workspace, tmp_path)
    report = export(ws, tmp_path / "out", formats=("xlsx",))
    own, other = report.files["甲保护区_R01"][0], report.files["甲保护区_R02"][0]
    _paste_row(other, own, "T03", {"核查状态": "核查中"})
    result = _results(import_ledger(ws, own))["T03"]
    assert (result.outcome, result.problem) == ("refused", "scope")
    assert "甲保护区 (R01)" in result.message and "甲保护区 (R02)" in result.message
    assert state(ws, "T03")["status"] == "pending"


def test_a_csv_row_of_another_lead_is_refused(classified, tmp_path):
    path = export(classified, tmp_path, formats=("csv",), codes=["R01"]).files["甲保护区"][0]
    rows = _csv_rows(path)
    header = rows[0]
    for row in rows[1:]:
        if row[0] == "L002":  # a lead id of 乙保护区 typed over a row of 甲保护区
            row[0] = "L004"
            row[header.index("核查状态")] = "核查中"
        if row[0] == "L001":
            row[header.index("核查状态")] = "核查中"
    _write_csv(path, rows)
    results = _results(import_ledger(classified, path))
    assert (results["L004"].outcome, results["L004"].problem) == ("refused", "scope")
    assert "线索 L004 不是 甲保护区 (R01) 这份台账的线索" in results["L004"].message
    assert results["L001"].outcome == "applied"
    assert state(classified, "L004")["status"] == "pending"


def test_a_csv_holding_rows_of_two_reserves_changes_nothing(classified, tmp_path):
    report = export(classified, tmp_path, formats=("csv",))
    own, other = report.files["甲保护区"][0], report.files["乙保护区"][0]
    rows = _csv_rows(own)
    rows.append(next(r for r in _csv_rows(other) if r[0] == "L004"))
    _write_csv(own, rows)
    _edit_csv(own, {("L004", "核查状态"): "核查中", ("L001", "核查状态"): "核查中"},
              encoding="utf-8-sig")
    before = everything(classified)
    report = import_ledger(classified, own)
    assert {(r.outcome, r.problem) for r in report.rows} == {("refused", "scope")}
    assert "由 2 个保护区的台账导出（甲保护区 (R01)：4 行；乙保护区 (R02)：1 行）" \
        in report.rows[0].message
    assert everything(classified)["lead_status"].equals(before["lead_status"])


@pytest.mark.parametrize(("fmt", "record"), [("xlsx", True), ("xlsx", False), ("csv", True)])
def test_a_hand_edited_version_does_not_override_a_newer_status(classified, tmp_path, fmt,
                                                                 record):
    """Excel: the record's versions, else the snapshot's; CSV: the record's (a CSV without
    one is refused, see the next test)."""
    path = export(classified, tmp_path, formats=(fmt,)).files["甲保护区"][0]
    if not record:
        classified.execute("""DELETE FROM "meta" WHERE "name" LIKE 'ledger_export:%'""")
    set_status(classified, "L001", "核查中", by="王五")  # version 2, after the export
    if fmt == "xlsx":
        page = Sheet(path)
        page.set("L001", "核查状态", "问题")
        page.set("L001", "版本", 2)  # typed over the hidden cell
        page.save()
    else:
        _edit_csv(path, {("L001", "核查状态"): "问题", ("L001", "版本"): "2"},
                  encoding="utf-8-sig")
    result = _results(import_ledger(classified, path))["L001"]
    assert (result.outcome, result.problem) == ("refused", "conflict")
    assert "此行按版本 1编辑，但工作空间中已是版本 2" in result.message
    assert state(classified, "L001")["status"] == "in_field"


def test_a_ledger_that_cannot_tell_its_reserve_is_refused(classified, tmp_path):
    report = export(classified, tmp_path, formats=("xlsx", "csv"))
    xlsx, csv_path = report.files["甲保护区"]
    book = load_workbook(xlsx)
    meta = book["_lvdun"]
    for row in meta.iter_rows():
        if row[0].value == "scope":
            meta.delete_rows(row[0].row)
            break
    book.save(xlsx)
    with pytest.raises(LedgerError, match="没有写明是为哪个保护区导出的"):
        import_ledger(classified, xlsx)
    classified.execute("""DELETE FROM "meta" WHERE "name" LIKE 'ledger_export:%'""")
    with pytest.raises(LedgerError, match="本工作空间没有它的导出记录"):
        import_ledger(classified, csv_path)


def test_a_lead_classified_elsewhere_since_the_export_is_refused(classified, tmp_path):
    xlsx = export(classified, tmp_path, formats=("xlsx",)).files["甲保护区"][0]
    classified.execute("""UPDATE "lead_class" SET "reserve_code" = 'R02',
                          "reserve_name" = '乙保护区' WHERE "lead_id" = 'L002'""")
    classified.execute("""UPDATE "lead_reserves" SET "reserve_code" = 'R02',
                          "reserve_name" = '乙保护区' WHERE "lead_id" = 'L002'""")
    page = Sheet(xlsx)
    page.set("L002", "核查状态", "非问题")
    page.set("L002", "原因", "手续合法")
    page.save()
    result = _results(import_ledger(classified, xlsx))["L002"]
    assert (result.outcome, result.problem) == ("refused", "scope")
    assert "现在属于 乙保护区 (R02)" in result.message


def test_county_and_outside_ledgers_change_their_own_leads(classified, tmp_path):
    county = export(classified, tmp_path / "c", by="county", formats=("csv",))
    path = county.files["县界外"][0]  # no counties: every lead is outside every county
    _edit_csv(path, {("L004", "核查状态"): "核查中"}, encoding="utf-8-sig")
    assert _results(import_ledger(classified, path))["L004"].outcome == "applied"
    outside = export(classified, tmp_path / "o", formats=("xlsx",), codes=[None])
    own = outside.files["保护区外"][0]
    inside = export(classified, tmp_path / "i", formats=("xlsx",)).files["甲保护区"][0]
    _paste_row(inside, own, "L001", {"核查状态": "核查中"})
    page = Sheet(own)
    page.set("L005", "核查状态", "核查中")
    page.save()
    results = _results(import_ledger(classified, own))
    assert results["L005"].outcome == "applied"
    assert (results["L001"].problem, state(classified, "L001")["status"]) == ("scope",
                                                                               "pending")
    assert "所有保护区之外的线索（保护区外）" in results["L001"].message


@pytest.mark.postgis
def test_groups_by_code_and_scoped_import_on_postgis(request: pytest.FixtureRequest,
                                                     tmp_path: Path):
    from pipelines.publish.export import export_record
    from pipelines.store import open_workspace
    from tests.pipelines.twins import BY_RESERVE, LABELS, twin_workspace

    url = request.getfixturevalue("pg_location")
    with open_workspace(url) as ws:
        twin_workspace(ws, tmp_path)
        report = export(ws, tmp_path / "all", formats=("xlsx", "csv"))
        assert report.rows == {LABELS[c]: len(leads) for c, leads in BY_RESERVE.items()}
        chosen = export(ws, tmp_path / "one", formats=("csv",), codes=["R02", None])
        assert set(export_record(ws, chosen.run_id).leads) == {"T03", "T06"}
        own, other = report.files["甲保护区_R01"][0], report.files["甲保护区_R02"][0]
        _paste_row(other, own, "T03", {"核查状态": "核查中"})
        page = Sheet(own)
        page.set("T01", "核查状态", "核查中")
        page.save()
        results = _results(import_ledger(ws, own))
        assert (results["T01"].outcome, results["T03"].problem) == ("applied", "scope")
        path = chosen.files["保护区外"][0]
        _edit_csv(path, {("T06", "核查状态"): "核查中", ("T06", "版本"): "7"},
                  encoding="utf-8-sig")
        assert _results(import_ledger(ws, path))["T06"].outcome == "applied"


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_ledger_of_a_reserve_that_did_not_win_a_lead_changes_it(classified, tmp_path, fmt):
    """L003 lies in 甲 (experimental) and 乙 (core protection, the winner): both ledgers
    list it, and 甲's may change it."""
    report = export(classified, tmp_path, formats=(fmt,))
    path = report.files["甲保护区"][0]
    if fmt == "xlsx":
        page = Sheet(path)
        page.set("L003", "核查状态", "核查中")
        page.save()
    else:
        _edit_csv(path, {("L003", "核查状态"): "核查中"}, encoding="utf-8-sig")
    result = _results(import_ledger(classified, path, by="甲保护区管理局"))["L003"]
    assert (result.outcome, result.problem) == ("applied", None)
    assert state(classified, "L003")["status"] == "in_field"
    other = _results(import_ledger(classified, report.files["乙保护区"][0]))["L003"]
    assert other.outcome == "unchanged"  # 乙's ledger, not edited, leaves it as it is
    assert state(classified, "L003")["status"] == "in_field"
