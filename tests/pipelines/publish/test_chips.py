"""Before/after chips: size, centring, outline, storage with sha256, leads outside reported."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from numpy.lib.stride_tricks import sliding_window_view
from pyproj import Transformer
from rasterio.transform import from_origin

from pipelines.cli import cli
from pipelines.errors import PipelineError
from pipelines.ingest.rasters import ingest_change_raster
from pipelines.publish.chips import make_chips
from tests.geo.rasters import ORIGIN, decode_png, shapes_mask, write_raster

X0, Y0 = ORIGIN
GK_TO_UTM = Transformer.from_crs("EPSG:4500", "EPSG:32652", always_xy=True)
GK_TO_LONLAT = Transformer.from_crs("EPSG:4500", "EPSG:4326", always_xy=True)
DISC = "R-B-变化图斑-000003"  # disc of radius 200 m centred at (X0 + 1000, Y0 - 1000)
STRIP = "R-B-变化图斑-000004"  # 1800 m x 400 m strip centred at (X0 + 1000, Y0 - 1700)
RECT = "R-B-变化图斑-000002"
YELLOW = (255, 255, 0)


@pytest.fixture
def leads(workspace, tmp_path):
    """Three patch leads in CGCS2000 Gauss-Krüger zone 22 (see ``shapes_mask``)."""
    mask = write_raster(tmp_path / "变化图斑.tif", shapes_mask(), nodata=255)
    ingest_change_raster(workspace, mask, batch="B")
    return workspace


@pytest.fixture
def before(tmp_path) -> Path:
    """UTM 52N, 2 m pixels, 3 bands; covers the rectangle and the disc but not the strip.

    A bright 10 m square sits on the disc's centre.
    """
    left, top = GK_TO_UTM.transform(X0 - 100, Y0 + 100)
    left, top = round(left), round(top)
    rng = np.random.default_rng(3)
    data = np.repeat((rng.random((1, 700, 700)) * 200 + 1000).astype(np.uint16), 3, axis=0)
    data[0] += 20  # a reddish grey: no pixel of the image itself is outline yellow
    cx, cy = GK_TO_UTM.transform(X0 + 1000, Y0 - 1000)
    row, col = int((top - cy) // 2), int((cx - left) // 2)
    data[:, row - 2:row + 3, col - 2:col + 3] = 9000  # a bright 10 m square
    return write_raster(tmp_path / "GF2_20230901.tif", data, crs="EPSG:32652",
                        transform=from_origin(left, top, 2, 2))


@pytest.fixture
def after(tmp_path) -> Path:
    """WGS84 lon/lat, one band, ~2 m pixels; covers all three leads."""
    west, north = GK_TO_LONLAT.transform(X0 - 200, Y0 + 200)
    rng = np.random.default_rng(4)
    data = (rng.random((1300, 1200)) * 100 + 50).astype(np.uint8)
    return write_raster(tmp_path / "GF2_20240501.tif", data, crs="EPSG:4326",
                        transform=from_origin(west, north, 2.5e-5, 1.8e-5))


def test_every_lead_gets_chips_stored_with_path_and_sha256(leads, before, after, tmp_path):
    report = make_chips(leads, before=before, after=after, pixels=251, before_date="2023-09-01")
    assert report.made == {"before": 2, "after": 3}
    assert report.outside == {"before": [STRIP], "after": []}
    assert report.out_dir == tmp_path / "ws_chips"  # next to the workspace ws.gpkg
    table = leads.read_table("lead_chips").set_index("chip_id")
    assert sorted(table.index) == sorted(
        [f"{RECT}:before", f"{DISC}:before", f"{RECT}:after", f"{DISC}:after", f"{STRIP}:after"]
    )
    for row in table.itertuples():
        data = Path(row.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row.sha256
        assert decode_png(data).shape == (251, 251, 3)
        assert row.pixels == 251
    assert table.loc[f"{DISC}:before", "bands"] == "1,2,3"
    assert table.loc[f"{DISC}:after", "bands"] == "1"
    assert table.loc[f"{DISC}:before", "image_date"] == "2023-09-01"
    assert table.loc[f"{DISC}:before", "size_m"] == pytest.approx(500, rel=1e-3)
    # the 1800 m strip does not fit 500 m: its chip widens so the patch fills 80 %
    assert table.loc[f"{STRIP}:after", "size_m"] == pytest.approx(1800 / 0.8, rel=0.01)
    run = leads.runs().iloc[-1]
    assert run["command"] == "chips" and STRIP in run["message"]


def test_chip_is_centred_on_the_lead_with_its_outline(leads, before):
    make_chips(leads, before=before, pixels=251, lead_ids=[DISC])  # 500 m: ~2 m pixels
    path = leads.read_table("lead_chips")["path"].iloc[0]
    rgb = decode_png(Path(path).read_bytes())
    yellow = (rgb == YELLOW).all(axis=2)
    white = (rgb == 255).all(axis=2)  # saturated: the marker and the brightest 2 % of noise
    density = sliding_window_view(white, (5, 5)).sum(axis=(2, 3))
    row, col = np.unravel_index(np.argmax(density), density.shape)
    assert density[row, col] >= 20
    assert abs(row + 2 - 125) <= 1 and abs(col + 2 - 125) <= 1  # the marker at the centre
    # the outline of the pixelated disc: radius 200 m = 100.4 px, 2 px wide
    rows, cols = np.nonzero(yellow)
    radius = np.hypot(rows - 125, cols - 125)
    assert radius.min() > 95 and radius.max() < 105  # 10 m pixel steps: ±3.5 px
    assert yellow[125, 23:28].any() and yellow[125, 223:228].any()
    assert yellow[23:28, 125].any() and yellow[223:228, 125].any()
    assert not yellow[100:150, 100:150].any()


def test_leads_outside_keep_earlier_chips(leads, before, after, tmp_path):
    make_chips(leads, before=before, after=after, pixels=64)
    far = write_raster(tmp_path / "far.tif", np.ones((3, 10, 10), dtype=np.uint8),
                       crs="EPSG:32652", transform=from_origin(300_000, 4_000_000, 10, 10))
    report = make_chips(leads, before=far, pixels=64)
    assert report.made == {"before": 0} and len(report.outside["before"]) == 3
    assert leads.count("lead_chips") == 5


def test_user_errors(leads, before):
    with pytest.raises(PipelineError, match="no lead 'NOPE'"):
        make_chips(leads, before=before, lead_ids=["NOPE"])
    with pytest.raises(PipelineError, match="give --before"):
        make_chips(leads)
    with pytest.raises(PipelineError, match="not band 4"):
        make_chips(leads, before=before, bands=(4, 3, 2))


def test_command_line(leads, before, tmp_path):
    out = tmp_path / "my_chips"
    result = CliRunner().invoke(
        cli, ["chips", "-w", str(leads.path), "--before", str(before), "--out", str(out),
              "--pixels", "64", "--bands", "3,2,1"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "前时相：2 张切片，1 条线索在影像外" in result.output
    assert STRIP in result.output
    assert len(list(out.glob("*_before.png"))) == 2
    result = CliRunner().invoke(cli, ["chips", "-w", str(leads.path), "--before", str(before),
                                      "--bands", "3,x"])
    assert result.exit_code == 2 and "--bands" in result.output
    assert "Example" in CliRunner().invoke(cli, ["chips", "--help"]).output
