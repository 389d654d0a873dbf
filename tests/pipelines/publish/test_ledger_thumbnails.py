"""Chip thumbnails in the XLSX ledger: two picture columns at the end, ignored on import."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import load_workbook
from PIL import Image

from pipelines.publish.export import IMAGE_COLUMNS, THUMB_PX, export, ledger_columns
from pipelines.publish.export.xlsx import FIRST_ROW, HEADER_ROW
from pipelines.verify.ledger_import import import_ledger


def _png(path: Path, size: tuple[int, int], colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


def _add_chips(ws: Any, chips: list[tuple[str, str, Path]]) -> None:
    frame = pd.DataFrame([
        {"chip_id": f"{lead}:{kind}", "lead_id": lead, "kind": kind, "path": str(path),
         "sha256": "0" * 64, "size_m": 200.0, "pixels": 64, "bands": "1,2,3",
         "image": "test.tif", "image_date": "2024-01-01",
         "created_at": "2024-01-01T00:00:00Z", "run_id": "test"}
        for lead, kind, path in chips
    ])
    with ws.transaction():
        ws.upsert_rows("lead_chips", frame)


def _everything(ws: Any) -> dict[str, pd.DataFrame]:
    return {t: ws.read_table(t) for t in ("lead_status", "lead_history", "lead_opinion", "runs")}


def _row_of(sheet: Any, lead: str) -> int:
    for (cell,) in sheet.iter_rows(min_row=FIRST_ROW, max_col=1):
        if cell.value == lead:
            return cell.row
    raise KeyError(lead)


def test_thumbnails_in_the_ledger(classified, tmp_path: Path, caplog) -> None:
    ws = classified
    before = _png(tmp_path / "L002_before.png", (64, 64), (200, 10, 10))
    after = _png(tmp_path / "L002_after.png", (128, 64), (10, 200, 10))
    _add_chips(ws, [("L002", "before", before), ("L002", "after", after),
                    ("L006", "before", tmp_path / "missing.png")])
    with caplog.at_level(logging.WARNING, logger="pipelines.publish.export"):
        report = export(ws, tmp_path / "out", formats=("xlsx",))
    assert "missing.png" in caplog.text
    xlsx = report.files["甲保护区"][0]
    book = load_workbook(xlsx)
    sheet = book["台账"]
    headers = [c.value for c in sheet[HEADER_ROW]]
    columns = len(ledger_columns())
    assert headers == [*ledger_columns().values(), *IMAGE_COLUMNS.values()]
    row = _row_of(sheet, "L002")
    anchors = sorted((img.anchor._from.row + 1, img.anchor._from.col + 1)
                     for img in sheet._images)
    assert anchors == [(row, columns + 1), (row, columns + 2)]
    assert all(img.height == THUMB_PX for img in sheet._images)
    assert sheet.row_dimensions[row].height >= THUMB_PX * 0.75
    for lead in ("L001", "L006"):
        assert sheet.row_dimensions[_row_of(sheet, lead)].height is None
    assert all(sheet.cell(r, c).value is None for r in range(FIRST_ROW, sheet.max_row + 1)
               for c in (columns + 1, columns + 2))

    state = _everything(ws)
    result = import_ledger(ws, xlsx)
    assert result.extra_columns == []
    assert {r.outcome for r in result.rows} == {"unchanged"}
    assert not any(r.warnings for r in result.rows)
    for name, frame in _everything(ws).items():
        pd.testing.assert_frame_equal(frame, state[name], obj=name)


def test_no_chips_no_picture_columns(classified, tmp_path: Path) -> None:
    ws = classified
    chip = _png(tmp_path / "L004_before.png", (32, 32), (0, 0, 255))
    _add_chips(ws, [("L004", "before", chip)])  # L004 is not in 甲保护区's ledger
    report = export(ws, tmp_path / "out", formats=("xlsx",))
    sheet = load_workbook(report.files["甲保护区"][0])["台账"]
    assert [c.value for c in sheet[HEADER_ROW]] == list(ledger_columns().values())
    assert sheet._images == []
