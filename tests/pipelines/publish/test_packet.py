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
from pipelines.publish.packet import HTML_NAME, PAGE_CLASS, find_chromium, write_packets
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
        assert html.count("<svg") == EXPECTED[group]
        for field in ("核查人", "核查日期", "实地情况", "照片编号", "结论"):
            assert html.count(f"<th>{field}</th>") == EXPECTED[group]
    html = (packets["甲保护区"] / HTML_NAME).read_text(encoding="utf-8")
    for lead in PATCHES:  # before chips copied into the packet and shown on their pages
        assert (packets["甲保护区"] / "chips" / f"{lead}_before.png").is_file()
        assert f'src="chips/{lead}_before.png"' in html
    assert html.count("无后时相影像") == 6 and html.count("无前时相影像") == 4
    assert "break-after: page" in html
    # the strictest zones first, as in the ledger
    assert _pages(html)[0] == "L001"


def test_missing_or_changed_chip_files_become_placeholders(packed, tmp_path):
    chips = packed.read_table("lead_chips").set_index("lead_id")["path"]
    Path(chips[PATCHES[0]]).unlink()
    Path(chips[PATCHES[1]]).write_bytes(b"not the chip")
    packets = write_packets(packed, tmp_path / "out", pdf=False)
    html = (packets["甲保护区"] / HTML_NAME).read_text(encoding="utf-8")
    assert html.count("无前时相影像") == 6
    assert not (packets["甲保护区"] / "chips").exists()


def test_pdf_needs_a_converter(packed, tmp_path, monkeypatch):
    monkeypatch.setattr("pipelines.publish.packet.shutil.which", lambda name: None)
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
