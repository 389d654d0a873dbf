"""The ledger round trip: export, edit as a person would (openpyxl, csv), import back."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from pipelines.cli import cli
from pipelines.errors import LedgerError
from pipelines.publish.export import HIDDEN, export, ledger_columns, workspace_id
from pipelines.publish.export.xlsx import FIRST_ROW, HEADER_ROW
from pipelines.verify.ledger_import import import_ledger
from pipelines.verify.status import current_state, history, set_status
from tests.pipelines.verify.test_concurrency import pg_location  # noqa: F401 - a fresh PG database

LABELS = ledger_columns()


@pytest.fixture
def ledger(classified, tmp_path: Path) -> tuple[Any, Path, Path]:
    """甲保护区's ledger (L001 待核查, L002 问题, L006 整改中; L003 待核查, which lies in 甲
    and in 乙, the winner) as XLSX and CSV."""
    set_status(classified, "L002", "问题", by="张三", opinion="疑似新建道路")
    set_status(classified, "L006", "问题", by="张三")
    set_status(classified, "L006", "整改中", by="张三", responsible_unit="安图县林业局",
               measures="拆除", deadline="2025-06-30")
    report = export(classified, tmp_path / "out", formats=("xlsx", "csv"))
    xlsx, csv_path = report.files["甲保护区"]
    return classified, xlsx, csv_path


def state(ws, lead: str) -> dict[str, Any]:
    return current_state(ws, lead)


def everything(ws) -> dict[str, pd.DataFrame]:
    """The tables an import may write."""
    return {t: ws.read_table(t) for t in ("lead_status", "lead_history", "lead_opinion", "runs")}


class Sheet:
    """The 台账 sheet of a workbook, edited by header as a person would."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.book = load_workbook(path)
        self.sheet = self.book["台账"]

    def col(self, header: str) -> int:
        for cell in self.sheet[HEADER_ROW]:
            if cell.value == header:
                return cell.column
        raise KeyError(header)

    def row_of(self, lead: str) -> int:
        for (cell,) in self.sheet.iter_rows(min_row=FIRST_ROW, max_col=1):
            if cell.value == lead:
                return cell.row
        raise KeyError(lead)

    def set(self, lead: str, header: str, value: Any) -> None:
        self.sheet.cell(self.row_of(lead), self.col(header)).value = value

    def get(self, lead: str, header: str) -> Any:
        return self.sheet.cell(self.row_of(lead), self.col(header)).value

    def save(self) -> Path:
        self.book.save(self.path)
        return self.path


def test_the_ledger_sheet(ledger):
    ws, xlsx, _ = ledger
    book = load_workbook(xlsx)
    assert book.sheetnames == ["台账", "汇总", "_lvdun", "_lvdun_rows"]
    assert [book[n].sheet_state for n in book.sheetnames] == [
        "visible", "visible", "veryHidden", "veryHidden"]
    sheet = book["台账"]
    headers = [c.value for c in sheet[HEADER_ROW]]
    assert headers == list(LABELS.values())
    assert {"核查状态", "原因", "整改责任单位", "整改措施", "整改期限", "备注(核查意见)",
            "前时相", "后时相", "更新时间", "版本"} <= set(headers)
    assert sheet.freeze_panes == "B3" and sheet.auto_filter.ref.startswith("A2:")
    assert sheet.max_row == 6
    letter = {h: c.column_letter for h, c in zip(headers, sheet[HEADER_ROW], strict=True)}
    for hidden in HIDDEN.values():
        assert sheet.column_dimensions[letter[hidden]].hidden
    assert not sheet.column_dimensions[letter["核查状态"]].hidden
    for header in ("线索编号", "涉及保护区及功能区", "核查状态"):
        assert sheet.column_dimensions[letter[header]].width >= 2 * len(header)
    checks = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}
    status = checks[f"{letter['核查状态']}3:{letter['核查状态']}6"]
    assert status.type == "list" and status.formula1 == \
        '"待核查,核查中,非问题,问题,整改中,已整改,已销号"'  # the Chinese statuses only
    reason = checks[f"{letter['原因']}3:{letter['原因']}6"]
    assert "保护区设立前已存在" in reason.formula1 and reason.errorStyle == "warning"
    assert checks[f"{letter['整改期限']}3:{letter['整改期限']}6"].type == "date"
    page = Sheet(xlsx)
    deadline = page.sheet.cell(page.row_of("L006"), page.col("整改期限"))
    assert deadline.is_date and deadline.value.date() == date(2025, 6, 30)
    assert deadline.number_format == "yyyy-mm-dd"
    updated = page.sheet.cell(page.row_of("L006"), page.col("更新时间"))
    assert updated.is_date and isinstance(updated.value, datetime)
    assert page.get("L002", "备注(核查意见)") == "疑似新建道路"
    assert page.get("L002", "核查状态") == "问题" and page.get("L002", "版本") == 2
    meta = dict(row for row in book["_lvdun"].iter_rows(values_only=True))
    assert meta["format"] == "lvdun-ledger" and meta["workspace_id"] == workspace_id(ws)
    assert meta["run_id"] in set(ws.runs()["run_id"])
    summary = {r[0]: r[1] for r in book["汇总"].iter_rows(values_only=True) if r[0]}
    counts = (summary["线索数"], summary["待核查"], summary["问题"], summary["整改中"])
    assert counts == (4, 2, 1, 1)


def test_import_of_a_sheet_edited_as_a_person_would(ledger):
    ws, xlsx, _ = ledger
    page = Sheet(xlsx)
    page.set("L001", "核查状态", "整改中")  # a jump: 待核查 → 问题 → 整改中
    page.set("L001", "整改责任单位", "甲保护区管理局")
    page.set("L001", "整改期限", datetime(2025, 9, 30))
    page.set("L001", "备注(核查意见)", "现场为新建采石场")
    page.set("L001", "功能区", "实验区")  # a read-only cell
    page.set("L002", "核查状态", "非问题")
    page.set("L002", "原因", "手续合法")
    page.set("L006", "整改期限", "2025-12-31")  # record edit without a status change
    sheet = page.sheet
    # a column added in the middle, and the rows re-sorted (last first)
    sheet.insert_cols(3)
    sheet.cell(HEADER_ROW, 3, "联系人")
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=FIRST_ROW)]
    for r, values in enumerate(reversed(rows), start=FIRST_ROW):
        for c, value in enumerate(values, start=1):
            sheet.cell(r, c).value = value  # empty cells too
    page.save()

    report = import_ledger(ws, xlsx, by="李四")
    assert report.summary() == "已应用 3，未变 1，已拒绝 0"
    assert report.extra_columns == ["联系人"]
    by_lead = {r.lead_id: r for r in report.rows}
    assert by_lead["L001"].message == "待核查 → 问题 → 整改中（版本 1 → 3）"
    assert by_lead["L001"].warnings == [
        "只读列 功能区 被修改（核心区 → 实验区）：已忽略"]
    assert by_lead["L006"].message == "整改期限 已修改（版本 3 → 4）"
    l001 = state(ws, "L001")
    assert (l001["status"], l001["responsible_unit"], l001["deadline"], l001["opinion"]) == (
        "rectifying", "甲保护区管理局", "2025-09-30", "现场为新建采石场")
    assert (state(ws, "L002")["status"], state(ws, "L002")["reason"]) == (
        "not_problem", "手续合法")
    assert state(ws, "L006")["deadline"] == "2025-12-31"
    steps = history(ws, "L001").iloc[1:]
    assert list(steps["to_status"]) == ["problem", "rectifying"]
    assert set(steps["by"]) == {"李四"} and set(steps["run_id"]) == {report.run_id}
    assert steps["note"].tolist() == ["台账导入：逐步转为整改中", "现场为新建采石场"]
    assert ws.read_table("lead_class").set_index("lead_id").loc["L001", "zone"] == "core"
    assert report.run_id in set(ws.runs()["run_id"])


def test_a_deleted_row_changes_nothing_for_its_lead(ledger):
    ws, xlsx, _ = ledger
    page = Sheet(xlsx)
    page.set("L001", "核查状态", "核查中")
    page.sheet.delete_rows(page.row_of("L002"))
    page.save()
    report = import_ledger(ws, xlsx)
    assert report.not_in_file == ["L002"]
    assert [(r.lead_id, r.outcome) for r in report.rows] == [
        ("L001", "applied"), ("L006", "unchanged"), ("L003", "unchanged")]
    assert state(ws, "L002")["version"] == 2


def test_dry_run_changes_nothing_and_reports_the_same(ledger):
    ws, xlsx, _ = ledger
    page = Sheet(xlsx)
    page.set("L001", "核查状态", "问题")
    page.set("L002", "核查状态", "已销号")
    page.save()
    before = everything(ws)
    dry = import_ledger(ws, xlsx, dry_run=True)
    assert dry.summary().startswith("试运行，未作改动：将会 已应用 1")
    for name, frame in everything(ws).items():
        pd.testing.assert_frame_equal(frame, before[name], obj=name)
    real = import_ledger(ws, xlsx)
    assert [(r.lead_id, r.outcome, r.problem) for r in real.rows] == [
        (r.lead_id, r.outcome, r.problem) for r in dry.rows]


def test_importing_twice_changes_nothing_the_second_time(ledger):
    ws, xlsx, _ = ledger
    page = Sheet(xlsx)
    page.set("L001", "核查状态", "非问题")
    page.set("L001", "原因", "自然变化")
    page.set("L006", "核查状态", "已整改")
    page.set("L006", "整改措施", "已拆除并复绿")
    page.save()
    first = import_ledger(ws, xlsx, by="张三")
    assert first.count("applied") == 2
    before = everything(ws)
    second = import_ledger(ws, xlsx, by="张三")
    assert second.summary() == "已应用 0，未变 4，已拒绝 0"
    assert {r.message for r in second.rows} == {"工作空间中已是如此", "未编辑"}
    for name, frame in everything(ws).items():
        pd.testing.assert_frame_equal(frame, before[name], obj=name)


def test_illegal_rows_are_reported_and_legal_rows_applied(ledger):
    ws, xlsx, _ = ledger
    page = Sheet(xlsx)
    page.set("L001", "核查状态", "已销号")  # the path needs a rectification record
    page.set("L002", "核查状态", "非问题")
    page.set("L002", "原因", "看着没问题")  # not a reason code
    page.set("L006", "核查状态", "已整改")  # legal
    page.save()
    report = import_ledger(ws, xlsx)
    results = {r.lead_id: r for r in report.rows}
    assert (results["L001"].outcome, results["L001"].problem) == ("refused", "illegal")
    assert "须填写整改记录" in results["L001"].message
    assert "不是非问题的原因代码" in results["L002"].message
    assert results["L006"].outcome == "applied"
    assert (state(ws, "L001")["version"], state(ws, "L002")["version"]) == (1, 2)
    assert state(ws, "L006")["status"] == "rectified"


def test_a_jump_through_a_reopening_is_refused(ledger):
    ws, xlsx, _ = ledger
    set_status(ws, "L001", "非问题", reason="手续合法")
    report = export(ws, xlsx.parent.parent, formats=("xlsx",))
    path = report.files["甲保护区"][0]
    page = Sheet(path)
    page.set("L001", "核查状态", "整改中")
    page.set("L001", "整改责任单位", "县林业局")
    page.set("L001", "整改期限", "2025-06-30")
    page.save()
    result = import_ledger(ws, path).rows[0]
    assert (result.lead_id, result.problem) == ("L001", "illegal")
    assert "不重新打开就无法逐步改到" in result.message


def test_a_row_changed_since_the_export_is_a_conflict(ledger):
    ws, xlsx, _ = ledger
    set_status(ws, "L001", "核查中", by="王五")  # after the export
    set_status(ws, "L002", "整改中", by="王五", responsible_unit="县林业局",
               deadline="2025-08-01")
    page = Sheet(xlsx)
    page.set("L001", "核查状态", "问题")  # edited on a stale row
    page.save()
    report = import_ledger(ws, xlsx)
    results = {r.lead_id: r for r in report.rows}
    conflict = results["L001"]
    assert (conflict.outcome, conflict.problem) == ("refused", "conflict")
    assert "此行按版本 1编辑，但工作空间中已是版本 2" in conflict.message
    assert "由 王五 修改" in conflict.message
    assert "文件：核查状态 问题；工作空间：核查状态 核查中" in conflict.message
    # L002 changed in the workspace too, but nobody edited its row: nothing to report
    assert (results["L002"].outcome, results["L002"].message) == ("unchanged", "未编辑")
    assert state(ws, "L001")["status"] == "in_field"
    assert state(ws, "L002")["status"] == "rectifying"


def test_unknown_duplicate_and_unreadable_rows(ledger):
    ws, xlsx, _ = ledger
    page = Sheet(xlsx)
    sheet = page.sheet
    copy = [c.value for c in sheet[page.row_of("L002")]]
    sheet.append(copy)  # L002 twice
    stranger = list(copy)
    stranger[0] = "X999"
    sheet.append(stranger)
    page.set("L006", "整改期限", "下个月")
    page.save()
    results = {(r.lead_id, r.row): r for r in import_ledger(ws, xlsx).rows}
    problems = sorted((k[0], r.problem) for k, r in results.items() if r.problem)
    assert problems == [("L002", "duplicate"), ("L002", "duplicate"), ("L006", "invalid"),
                        ("X999", "unknown")]
    assert "整改期限 '下个月' 不是日期" in results["L006", page.row_of("L006")].message


def test_a_cleared_cell_keeps_the_value(ledger):
    ws, xlsx, _ = ledger
    page = Sheet(xlsx)
    page.set("L006", "整改措施", None)
    page.save()
    result = next(r for r in import_ledger(ws, xlsx).rows if r.lead_id == "L006")
    assert result.outcome == "unchanged"
    assert result.warnings == ["整改措施 被清空：空白单元格保留原值"]
    assert state(ws, "L006")["measures"] == "拆除"


def test_a_ledger_of_another_workspace_is_refused(ledger, tmp_path: Path, zones_file,
                                                   leads_csv):
    from pipelines.classify.job import classify
    from pipelines.ingest.files import ingest
    from pipelines.store import open_workspace

    _, xlsx, csv_path = ledger
    other = open_workspace(tmp_path / "other.gpkg")
    with other:
        ingest(other, "reserves", zones_file)
        ingest(other, "leads", leads_csv, crs="EPSG:4490")
        classify(other)
        before = everything(other)
        for path in (xlsx, csv_path):
            with pytest.raises(LedgerError, match=r"是另一个工作空间.*的台账.*尚未导出过"
                               r"台账.*未作任何改动"):
                import_ledger(other, path)
        export(other, tmp_path / "other", formats=("csv",))
        with pytest.raises(LedgerError, match=rf"本工作空间是 {workspace_id(other)}"):
            import_ledger(other, xlsx, dry_run=True)
        assert everything(other)["lead_status"].equals(before["lead_status"])


def test_a_plain_sheet_is_not_a_ledger(classified, tmp_path: Path):
    path = tmp_path / "plain.csv"
    path.write_text("线索编号,核查状态\nL001,问题\n", encoding="utf-8")
    with pytest.raises(LedgerError, match="不是 lvdun 台账"):
        import_ledger(classified, path)
    (tmp_path / "x.txt").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(LedgerError, match="没有含线索编号的表头行"):
        import_ledger(classified, tmp_path / "x.txt")
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(LedgerError, match=r"台账是 \.xlsx 或 \.csv 文件"):
        import_ledger(classified, tmp_path / "x.pdf")
    assert current_state(classified, "L001")["version"] == 1


def _edit_csv(path: Path, edits: dict[tuple[str, str], str], *, encoding: str) -> None:
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    for (lead, column), value in edits.items():
        row = next(r for r in rows[1:] if r[0] == lead)
        row[header.index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_csv_round_trip(ledger, encoding: str):
    ws, _, csv_path = ledger
    table = pd.read_csv(csv_path, encoding="utf-8-sig", dtype=str)
    assert list(table.columns) == list(LABELS.values())
    assert table.set_index("线索编号").loc["L006", "整改期限"] == "2025-06-30"
    assert table.set_index("线索编号").loc["L002", "版本"] == "2"
    _edit_csv(csv_path, {("L001", "核查状态"): "核查中", ("L002", "核查状态"): "整改中",
                         ("L002", "整改责任单位"): "安图县交通局",
                         ("L002", "整改期限"): "2025/9/30",
                         ("L006", "功能区"): "实验区"}, encoding=encoding)
    report = import_ledger(ws, csv_path, by="赵六")
    assert report.summary() == "已应用 2，未变 2，已拒绝 0"
    assert state(ws, "L002")["deadline"] == "2025-09-30"
    assert state(ws, "L001")["status"] == "in_field"
    warning = next(r for r in report.rows if r.lead_id == "L006").warnings
    assert warning == ["只读列 功能区 与工作空间不同（核心区 → 实验区）：已忽略"]
    before = everything(ws)
    assert import_ledger(ws, csv_path).count("applied") == 0
    for name, frame in everything(ws).items():
        pd.testing.assert_frame_equal(frame, before[name], obj=name)


def test_import_command(ledger):
    ws, xlsx, _ = ledger
    page = Sheet(xlsx)
    page.set("L001", "核查状态", "问题")
    page.set("L002", "核查状态", "待核查")  # 问题 → 待核查 is not a transition
    page.save()
    runner = CliRunner()
    where = ["-w", str(ws.location)]
    result = runner.invoke(cli, ["status", "import", str(xlsx), *where, "--dry-run"])
    assert result.exit_code == 1
    assert "第 3 行 L001：已应用 待核查 → 问题" in result.output  # the sheet's row, below the title
    assert "已拒绝（不允许）" in result.output and "试运行，未作改动" in result.output
    assert state(ws, "L001")["version"] == 1
    result = runner.invoke(cli, ["status", "import", str(xlsx), *where, "--by", "张三",
                                 "--format", "json"])
    payload = json.loads(result.output)
    assert payload["counts"] == {"applied": 1, "unchanged": 2, "refused": 1}
    assert state(ws, "L001")["status"] == "problem"
    result = runner.invoke(cli, ["status", "import", str(ws.location), *where])
    assert result.exit_code == 1 and "台账是 .xlsx 或 .csv 文件" in result.output


@pytest.mark.postgis
def test_round_trip_and_deadlines_on_postgis(request: pytest.FixtureRequest, tmp_path: Path,
                                             zones_file: Path, leads_csv: Path,
                                             monkeypatch: pytest.MonkeyPatch):
    from pipelines.classify.job import classify
    from pipelines.ingest.files import ingest
    from pipelines.store import open_workspace
    from pipelines.verify.deadlines import overdue, set_batch_deadline

    url = request.getfixturevalue("pg_location")  # a fresh database
    monkeypatch.chdir(tmp_path)
    with open_workspace(url) as ws:
        ingest(ws, "reserves", zones_file)
        ingest(ws, "leads", leads_csv, crs="EPSG:4490")
        classify(ws)
        set_status(ws, "L006", "问题", opinion="疑似")
        xlsx, csv_path = export(ws, tmp_path / "out", formats=("xlsx", "csv")).files["甲保护区"]
        page = Sheet(xlsx)
        page.set("L001", "核查状态", "整改中")
        page.set("L001", "整改责任单位", "甲保护区管理局")
        page.set("L001", "整改期限", datetime(2025, 9, 30))
        page.set("L002", "核查状态", "非问题")
        page.set("L002", "原因", "手续合法")
        page.set("L006", "功能区", "实验区")
        page.save()
        report = import_ledger(ws, xlsx, by="李四")
        assert report.summary() == "已应用 2，未变 2，已拒绝 0"
        assert list(history(ws, "L001")["to_status"]) == ["pending", "problem", "rectifying"]
        before = everything(ws)
        assert import_ledger(ws, xlsx).count("applied") == 0
        assert import_ledger(ws, csv_path).count("applied") == 0  # not edited
        for name, frame in everything(ws).items():
            pd.testing.assert_frame_equal(frame, before[name], obj=name)
        _edit_csv(csv_path, {("L002", "核查状态"): "问题"}, encoding="utf-8-sig")
        results = {r.lead_id: r for r in import_ledger(ws, csv_path).rows}
        assert (results["L002"].problem, results["L006"].outcome) == ("conflict", "unchanged")
        set_batch_deadline(ws, "2024-H1", "2025-06-30")
        late = overdue(ws, today="2025-10-01")
        assert dict(zip(late["lead_id"], late["kind"], strict=True)) == {
            "L001": "rectification", "L003": "report", "L004": "report", "L005": "report"}


def test_hidden_columns_deleted_the_export_snapshot_still_holds_the_versions(ledger):
    ws, xlsx, _ = ledger
    page = Sheet(xlsx)
    page.set("L002", "核查状态", "整改中")
    page.set("L002", "整改责任单位", "县交通局")
    page.set("L002", "整改期限", "2025-10-31")
    page.sheet.delete_cols(page.col("台账标识"))
    page.sheet.delete_cols(page.col("版本"))
    page.save()
    set_status(ws, "L001", "核查中")  # changed since the export, row not edited
    report = import_ledger(ws, xlsx)
    assert report.summary() == "已应用 1，未变 3，已拒绝 0"
    assert (state(ws, "L002")["status"], state(ws, "L002")["version"]) == ("rectifying", 3)


def test_a_ledger_cannot_close_a_lead(ledger):
    ws, xlsx, _ = ledger
    page = Sheet(xlsx)
    page.set("L006", "核查状态", "已销号")  # 整改中 → 已整改 → 已销号: 销号 needs 验收
    page.save()
    report = import_ledger(ws, xlsx)
    row = next(r for r in report.rows if r.lead_id == "L006")
    assert (row.outcome, row.problem) == ("refused", "illegal")
    assert "lvdun review submit L006" in row.message
    assert state(ws, "L006")["status"] == "rectifying"  # not even the first step applied
