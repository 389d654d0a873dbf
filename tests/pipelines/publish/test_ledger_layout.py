"""The Excel ledger as people open and print it: openpyxl, and LibreOffice printing to PDF.

A title row (保护区名称（代码）, 批次, 导出日期) above the header, 面积(亩) beside 面积(平方米),
the status drop-down in Chinese, and a print setup (landscape A4, one page wide, the header
row on every page) that LibreOffice honours.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from layers.schema import SQM_PER_MU, STATUS_LABELS
from pipelines.classify.job import classify
from pipelines.ingest.files import ingest
from pipelines.publish.export import LEDGER_TZ, export, ledger_columns
from pipelines.publish.export.xlsx import FIRST_ROW, HEADER_ROW, TITLE_ROW
from tests.conftest import require_service


def _sheet(path: Path):
    return load_workbook(path)["台账"]


def test_title_row_names_the_reserve_batch_and_date(classified, tmp_path: Path):
    before = datetime.now(LEDGER_TZ).date()
    report = export(classified, tmp_path, formats=("xlsx",))
    sheet = _sheet(report.group("R01").files[0])
    title = sheet.cell(TITLE_ROW, 1).value
    assert title.startswith("甲保护区（R01）核查台账")
    assert "批次：2024-H1" in title
    day = title.rsplit("导出日期：", 1)[1]
    assert day in {before.isoformat(), datetime.now(LEDGER_TZ).date().isoformat()}
    merged = [str(r) for r in sheet.merged_cells.ranges]
    assert any(r.startswith(f"A{TITLE_ROW}:") for r in merged)
    assert sheet.cell(HEADER_ROW, 1).value == "线索编号"
    assert sheet.cell(FIRST_ROW, 1).value in {"L001", "L002", "L006"}
    outside = _sheet(report.group(None).files[0]).cell(TITLE_ROW, 1).value
    assert outside.startswith("保护区外核查台账")


def test_area_in_mu_beside_square_metres(classified, tmp_path: Path):
    headers = list(ledger_columns().values())
    assert headers[headers.index("面积(平方米)") + 1] == "面积(亩)"
    sheet = _sheet(export(classified, tmp_path, formats=("xlsx",)).group("R01").files[0])
    row = [c.value for c in sheet[HEADER_ROW]]
    m2, mu = row.index("面积(平方米)") + 1, row.index("面积(亩)") + 1
    for r in range(FIRST_ROW, sheet.max_row + 1):
        area = sheet.cell(r, m2).value
        assert sheet.cell(r, mu).value == pytest.approx(area / SQM_PER_MU, abs=0.005)
        assert sheet.cell(r, mu).number_format == "0.00"
    lead = {sheet.cell(r, 1).value: r for r in range(FIRST_ROW, sheet.max_row + 1)}
    assert sheet.cell(lead["L001"], mu).value == pytest.approx(3.0)  # sent as 3 亩


def test_print_setup_and_status_drop_down(classified, tmp_path: Path):
    sheet = _sheet(export(classified, tmp_path, formats=("xlsx",)).group("R01").files[0])
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    assert sheet.freeze_panes == f"B{FIRST_ROW}"
    assert sheet.auto_filter.ref.startswith(f"A{HEADER_ROW}:")
    headers = [c.value for c in sheet[HEADER_ROW]]
    letter = sheet.cell(HEADER_ROW, headers.index("核查状态") + 1).column_letter
    (status,) = [dv for dv in sheet.data_validations.dataValidation
                 if str(dv.sqref) == f"{letter}{FIRST_ROW}:{letter}{sheet.max_row}"]
    assert status.formula1.strip('"').split(",") == list(STATUS_LABELS.values())


def _libreoffice() -> str | None:
    return shutil.which("libreoffice") or shutil.which("soffice")


def _many_leads(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "many.csv"
    lines = ["线索编号,批次,经度,纬度,活动类型,变化类型,面积(亩),备注"]
    lines += [f"M{k:03d},2024-H1,{126.41 + k * 0.0006:.4f},43.50,采石场,新增,2,第{k}条"
              for k in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


@pytest.mark.slow
def test_libreoffice_prints_landscape_with_the_header_on_every_page(workspace, zones_file,
                                                                    tmp_path: Path):
    office = _libreoffice()
    require_service(office is not None and shutil.which("pdftotext") is not None,
                    "LibreOffice and pdftotext (libreoffice-calc, poppler-utils)")
    ingest(workspace, "reserves", zones_file)
    ingest(workspace, "leads", _many_leads(tmp_path, 300), crs="EPSG:4490")
    classify(workspace)
    xlsx = export(workspace, tmp_path / "out", formats=("xlsx",)).group("R01").files[0]
    pdf_dir = tmp_path / "pdf"
    done = subprocess.run(
        [str(office), "--headless", "--convert-to", "pdf", "--outdir", str(pdf_dir), str(xlsx)],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "HOME": str(tmp_path / "home")})
    pdf = pdf_dir / xlsx.with_suffix(".pdf").name
    assert done.returncode == 0 and pdf.exists(), done.stderr
    info = subprocess.run(["pdfinfo", "-l", "99", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    sizes = [line.split(":", 1)[1] for line in info.splitlines()
             if line.startswith("Page") and "size:" in line]
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = text.split("\f")[:len(sizes)]
    ledger = [(page, size) for page, size in zip(pages, sizes, strict=True)
              if re.search(r"\bM\d{3}\b", page)]
    assert len(ledger) >= 2, "300 leads should need more than one page of 台账"
    for page, size in ledger:  # "841.89 x 595.28 pts (A4)": wider than high
        width, height = (float(v) for v in size.split("pts")[0].split("x"))
        assert width > height, size
        assert "线索编号" in page and "核查状态" in page and "面积(亩)" in page
    assert "甲保护区（R01）核查台账" in ledger[0][0]
    assert "M299" in ledger[-1][0] and "M299" not in ledger[0][0]
    assert "第 2 页" in ledger[1][0]
