"""Verification packets: one folder and zip per reserve, one printable page per lead."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from openpyxl import load_workbook
from pyproj import Transformer
from rasterio.transform import from_origin

from pipelines.classify.job import classify
from pipelines.errors import PipelineError
from pipelines.ingest.rasters import ingest_change_raster
from pipelines.publish.chips import make_chips
from pipelines.publish.export.xlsx import FIRST_ROW
from pipelines.publish.packet import (
    HTML_NAME,
    MAP_NAME,
    PAGE_CLASS,
    export_packets,
    find_chromium,
    write_packets,
)
from tests.conftest import require_service
from tests.geo.rasters import disc, write_raster

#: Leads per reserve of the ``classified`` fixture plus two patches in 甲's buffer zone.
EXPECTED = {"甲保护区": 6, "乙保护区": 2, "保护区外": 1}  # L003 in 甲 and 乙 (the winner)
PATCHES = ("R-2024-H1-mask-000001", "R-2024-H1-mask-000002")


@pytest.fixture
def packed(classified, tmp_path):
    """The classified workspace with two patch leads and their chips."""
    x0, y0 = (round(v) for v in Transformer.from_crs(4490, 4500, always_xy=True)
              .transform(126.43, 43.47))
    mask = np.zeros((200, 200), dtype=np.uint8)
    mask[20:40, 20:60] = 1
    mask[disc(mask.shape, 100, 100, 20)] = 2
    write_raster(tmp_path / "mask.tif", mask, transform=from_origin(x0, y0, 10, 10))
    ingest_change_raster(classified, tmp_path / "mask.tif", batch="2024-H1",
                         mapping={1: "采石场", 2: "光伏"})
    classify(classified)
    rng = np.random.default_rng(0)
    image = (rng.random((3, 300, 300)) * 100).astype(np.uint8)
    write_raster(tmp_path / "before.tif", image, transform=from_origin(x0 - 500, y0 + 500, 10, 10))
    make_chips(classified, before=tmp_path / "before.tif", pixels=64)
    return classified


def _pages(html: str) -> list[str]:
    return re.findall(rf'<section class="{PAGE_CLASS}" data-lead="([^"]+)"', html)


def test_one_folder_and_zip_per_reserve_with_one_page_per_lead(packed, tmp_path):
    packets = write_packets(packed, tmp_path / "out", pdf=False)
    assert set(packets) == set(EXPECTED)
    for group, folder in packets.items():
        html = (folder / HTML_NAME).read_text(encoding="utf-8")
        pages = _pages(html)
        assert len(pages) == EXPECTED[group] == html.count("实地核查记录")
        ledger = load_workbook(folder / f"{group}_核查清单.xlsx").worksheets[0]
        ids = {ledger.cell(r, 1).value for r in range(FIRST_ROW, ledger.max_row + 1)}
        assert set(pages) == ids  # the pages and the ledger hold the same leads
        kml = gpd.read_file(folder / f"{group}_核查清单.kml")
        assert len(kml) == EXPECTED[group]
        assert len(gpd.read_file(folder / f"{group}_核查清单.gpkg")) == EXPECTED[group]
        with zipfile.ZipFile(folder.with_name(folder.name + ".zip")) as archive:
            names = set(archive.namelist())
        assert f"{group}/{HTML_NAME}" in names and f"{group}/{group}_核查清单.xlsx" in names
        sections = re.findall(rf'<section class="{PAGE_CLASS}".*?</section>', html, re.S)
        assert [page.count("<svg") for page in sections] == [1] * EXPECTED[group]
        for field in ("核查人", "核查日期", "实地情况", "照片编号", "结论"):
            assert html.count(f"<th>{field}</th>") == EXPECTED[group]
    html = (packets["甲保护区"] / HTML_NAME).read_text(encoding="utf-8")
    for lead in PATCHES:  # before chips copied into the packet and shown on their pages
        assert (packets["甲保护区"] / "chips" / f"{lead}_before.png").is_file()
        assert f'src="chips/{lead}_before.png"' in html
    # only the chips there are: two pages with a before chip, no empty frames
    assert html.count('<figure class="chip">') == 2 and "无前时相影像" not in html
    assert html.count('<div class="chips">') == 2
    assert "break-after: page" in html
    # the strictest zones first, as in the ledger
    assert _pages(html)[0] == "L001"


def test_the_reserve_map_is_drawn_once_and_each_page_marks_its_lead(packed, tmp_path):
    from PIL import Image

    packets = write_packets(packed, tmp_path / "out", pdf=False)
    folder = packets["甲保护区"]
    html = (folder / HTML_NAME).read_text(encoding="utf-8")
    assert html.count(f'<img src="{MAP_NAME}"') == EXPECTED["甲保护区"]
    assert html.count('class="lead-marker"') == EXPECTED["甲保护区"]
    # scale bar, north arrow and legend once in the document, drawn on every page
    assert html.count('<g id="map-chrome">') == 1 and html.count("本线索") == 1
    assert html.count('<use href="#map-chrome"/>') == EXPECTED["甲保护区"]
    with Image.open(folder / MAP_NAME) as image:  # the zones drawn: more than background
        assert image.size == (600, 600) and len(image.getcolors(1 << 16)) > 3
    marks = re.findall(r'<circle class="lead-marker" cx="([\d.]+)" cy="([\d.]+)"', html)
    assert len(set(marks)) == EXPECTED["甲保护区"]  # each lead at its own place
    outside = (packets["保护区外"] / HTML_NAME).read_text(encoding="utf-8")
    assert "<img" not in outside and not (packets["保护区外"] / MAP_NAME).exists()
    assert outside.count("<path") >= 1  # its own neighbourhood, drawn inline


def test_a_big_reserve_weighs_what_its_pages_show(workspace, leads_csv, tmp_path):
    """A boundary of many vertices is drawn once, simplified, not on every page."""
    from pipelines.ingest.files import ingest
    from tests.conftest import zone_frame

    zones = zone_frame()
    zones = zones.set_geometry(zones.geometry.segmentize(0.0001))  # ~10 m: 10^4s of vertices
    assert zones.geometry.count_coordinates().max() > 5000
    zones.to_file(tmp_path / "fine.gpkg", layer="zones", driver="GPKG")
    ingest(workspace, "reserves", tmp_path / "fine.gpkg")
    ingest(workspace, "leads", leads_csv, crs="EPSG:4490")
    classify(workspace)
    packets = write_packets(workspace, tmp_path / "out", pdf=False)
    html = packets["甲保护区"] / HTML_NAME
    assert html.stat().st_size < 6000 * 4  # four pages of about a kilobyte of map each
    assert (packets["甲保护区"] / MAP_NAME).stat().st_size < 100_000
    assert (packets["保护区外"] / HTML_NAME).stat().st_size < 10_000


def test_missing_or_changed_chip_files_are_left_out(packed, tmp_path):
    chips = packed.read_table("lead_chips").set_index("lead_id")["path"]
    Path(chips[PATCHES[0]]).unlink()
    Path(chips[PATCHES[1]]).write_bytes(b"not the chip")
    packets = write_packets(packed, tmp_path / "out", pdf=False)
    html = (packets["甲保护区"] / HTML_NAME).read_text(encoding="utf-8")
    assert '<figure class="chip">' not in html and '<div class="chips">' not in html
    assert not (packets["甲保护区"] / "chips").exists()


def test_packets_of_chosen_reserves_with_progress_per_reserve(packed, tmp_path):
    seen: list[tuple[str, int, int | None]] = []
    report = export_packets(packed, tmp_path / "out", codes=["R02"], formats=("csv",),
                            pdf=False, progress=lambda s, d, t=None: seen.append((s, d, t)))
    assert list(report.folders) == ["乙保护区"] and report.pages == {"乙保护区": 2}
    folder = report.folders["乙保护区"]
    assert sorted(p.suffix for p in folder.glob("乙保护区_核查清单.*")) == [
        ".csv", ".gpkg", ".kml", ".xlsx"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["乙保护区", "乙保护区.zip"]
    steps = {s for s, _, _ in seen}
    assert steps == {"导出 乙保护区"}
    done = [d for _, d, _ in seen]
    assert done == sorted(done) and seen[-1][1] == seen[-1][2]  # it ends full
    # one export run: the packet's ledger is the export's, and it reads back
    assert report.export.group("R02").files[0].name == "乙保护区_核查清单.xlsx"


def test_pdf_needs_a_converter(packed, tmp_path, monkeypatch):
    monkeypatch.setattr("pipelines.publish.export.pdf.shutil.which", lambda name: None)
    with pytest.raises(PipelineError, match="install Chromium"):
        write_packets(packed, tmp_path / "out", pdf=True)


@pytest.mark.browser
@pytest.mark.slow
def test_pdf_has_one_page_per_lead(classified, tmp_path):
    require_service(find_chromium() is not None, "Chromium")
    packets = write_packets(classified, tmp_path / "out", pdf=True)
    pdf = (packets["乙保护区"] / "核查单.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 2


@pytest.mark.browser
@pytest.mark.slow
def test_a_pdf_printed_in_chunks_has_every_page_in_order(classified, tmp_path, monkeypatch):
    from pypdf import PdfReader

    require_service(find_chromium() is not None, "Chromium")
    monkeypatch.setattr("pipelines.publish.packet.CHUNK_PAGES", 2)
    packets = write_packets(classified, tmp_path / "out", pdf=True)
    folder = packets["甲保护区"]
    reader = PdfReader(folder / "核查单.pdf")
    assert len(reader.pages) == EXPECTED["甲保护区"] - 2  # no patches in this fixture
    html = (folder / HTML_NAME).read_text(encoding="utf-8")
    ids = [page.extract_text().split("\n") for page in reader.pages]
    assert [next(w for w in lines if w in _pages(html)) for lines in ids] == _pages(html)
    assert not list(folder.glob(".核查单-*"))  # the chunks are gone


def test_reserves_named_alike_get_packets_of_their_own(workspace, tmp_path):
    from tests.pipelines.twins import twin_workspace

    ws = twin_workspace(workspace, tmp_path)
    write_packets(ws, tmp_path / "packets", pdf=False)
    pages = {p.parent.name: p.read_text(encoding="utf-8")
             for p in (tmp_path / "packets").glob(f"*/{HTML_NAME}")}
    twins = {name: html for name, html in pages.items() if name.startswith("甲保护区_")}
    assert sorted(twins) == ["甲保护区_R01", "甲保护区_R02"]
    assert "T01" in twins["甲保护区_R01"] and "T03" not in twins["甲保护区_R01"]
    assert "T03" in twins["甲保护区_R02"] and "T01" not in twins["甲保护区_R02"]
    outside = pages["保护区外"]
    assert "T06" in outside and "T05" not in outside


@pytest.mark.browser
@pytest.mark.slow
def test_one_chromium_prints_chunk_after_chunk_and_a_chromium_per_chunk_too(classified,
                                                                             tmp_path):
    from pypdf import PdfReader

    from pipelines.publish.export.pdf import Printer, print_pdf

    require_service(find_chromium() is not None, "Chromium")
    packets = write_packets(classified, tmp_path / "out", pdf=False)
    html = packets["甲保护区"] / HTML_NAME
    printer = Printer(find_chromium())
    try:
        first = printer.print(html, tmp_path / "a.pdf", pages=4)
        second = printer.print(packets["乙保护区"] / HTML_NAME, tmp_path / "b.pdf", pages=2)
    finally:
        printer.close()
    alone = print_pdf(find_chromium(), html, tmp_path / "c.pdf", pages=4)
    assert [len(PdfReader(p).pages) for p in (first, second, alone)] == [4, 2, 4]
    printer = Printer(find_chromium())
    try:  # a page that cannot be opened is no PDF (not one of Chromium's error page)
        with pytest.raises(PipelineError, match="could not open"):
            printer.print(tmp_path / "missing.html", tmp_path / "d.pdf", pages=1)
    finally:
        printer.close()
    assert not (tmp_path / "d.pdf").exists()


def test_a_packets_ledger_reads_back_with_status_import(packed, tmp_path):
    from pipelines.publish.export import EDITABLE, ledger_columns
    from pipelines.publish.export.xlsx import HEADER_ROW
    from pipelines.verify.ledger_import import import_ledger
    from pipelines.verify.status import current_state

    report = export_packets(packed, tmp_path / "out", codes=["R02"], pdf=False)
    xlsx = report.folders["乙保护区"] / "乙保护区_核查清单.xlsx"
    book = load_workbook(xlsx)
    sheet = book.worksheets[0]
    column = {sheet.cell(HEADER_ROW, c).value: c for c in range(1, sheet.max_column + 1)}
    assert sheet.max_row == FIRST_ROW + 1  # its two leads, right under the header
    row = next(r for r in range(FIRST_ROW, sheet.max_row + 1)
               if sheet.cell(r, 1).value == "L004")
    labels = ledger_columns()
    sheet.cell(row, column[EDITABLE["status_label"]]).value = "问题"
    sheet.cell(row, column[labels["opinion"]]).value = "现场为养殖场，已拍照"
    book.save(xlsx)
    done = import_ledger(packed, xlsx, by="张三")
    assert done.summary().startswith("已应用 1")
    state = current_state(packed, "L004")
    assert state["status"] == "problem" and state["opinion"] == "现场为养殖场，已拍照"
    assert import_ledger(packed, xlsx, by="张三").summary().startswith("已应用 0")
