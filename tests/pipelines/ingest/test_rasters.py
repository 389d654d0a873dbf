"""Change rasters become patch leads: counts, areas, positions, ids, rejects, mapping."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Transformer
from rasterio.transform import from_origin

from pipelines.cli import cli
from pipelines.errors import IngestError
from pipelines.ingest.files import rejects_dir
from pipelines.ingest.rasters import ingest_change_raster, patch_lead_ids, read_mapping
from tests.geo.rasters import ORIGIN, disc, shapes_mask, write_raster

TO_LONLAT = Transformer.from_crs("EPSG:4500", "EPSG:4490", always_xy=True)


@pytest.fixture
def mask_file(tmp_path: Path) -> Path:
    """The shapes of :func:`shapes_mask` in CGCS2000 Gauss-Krüger zone 22, 10 m pixels."""
    return write_raster(tmp_path / "变化图斑.tif", shapes_mask(), nodata=255)


def _rejects(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_patches_become_leads_with_area_centroid_pixels_and_class(workspace, mask_file):
    report = ingest_change_raster(workspace, mask_file, batch="2024-H1", window_size=64,
                                  date_before="2023-09-01", date_after="2024/05/01")
    assert (report.read, report.stored, report.rejected) == (4, 3, 1)
    leads = workspace.read_features("leads").set_index("lead_id")
    assert list(leads.index) == ["R-2024-H1-变化图斑-000002", "R-2024-H1-变化图斑-000003",
                                 "R-2024-H1-变化图斑-000004"]
    assert set(leads["date_before"]) == {"2023-09-01"} and set(leads["date_after"]) == {
        "2024-05-01"}
    assert (leads.geometry.crs.to_epsg()) == 4490
    patches = workspace.read_table("lead_patches").set_index("lead_id")
    disc_px = int(disc((200, 200), 100, 100, 20).sum())
    assert patches["pixels"].tolist() == [800, disc_px, 7150]
    assert patches["class_value"].tolist() == [1, 2, 3]
    # Gauss-Krüger on its central meridian has scale 1: equal-area m² = pixels x 100
    np.testing.assert_allclose(leads["area_m2"], np.array([800, disc_px, 7150]) * 100.0,
                               rtol=2e-4)
    x0, y0 = ORIGIN
    lon, lat = TO_LONLAT.transform(x0 + 1000, y0 - 1000)  # the disc's centre
    assert patches.loc["R-2024-H1-变化图斑-000003", "centroid_lon"] == pytest.approx(lon, abs=2e-6)
    assert patches.loc["R-2024-H1-变化图斑-000003", "centroid_lat"] == pytest.approx(lat, abs=2e-6)
    rect = leads.geometry["R-2024-H1-变化图斑-000002"]
    expected = shapely.transform(shapely.box(x0 + 200, y0 - 400, x0 + 600, y0 - 200),
                                 lambda xy: np.column_stack(TO_LONLAT.transform(*xy.T)))
    assert shapely.hausdorff_distance(rect, expected) < 1e-9
    strip = leads.geometry["R-2024-H1-变化图斑-000004"]
    assert len(strip.interiors) == 1  # the nodata hole is not change
    status = workspace.read_table("lead_status")
    assert set(status["status"]) == {"pending"}
    run = workspace.runs().iloc[-1]
    assert run["command"] == "ingest change-raster"
    assert json.loads(run["counts"])["read"] == 4
    assert json.loads(run["params"])["classes"] == {"1": 2, "2": 1, "3": 1}


def test_small_patches_are_counted_and_listed_by_number_and_centroid(workspace, mask_file):
    report = ingest_change_raster(workspace, mask_file, batch="B1", min_area_m2=90_000)
    assert report.read == report.stored + report.rejected
    assert (report.stored, report.rejected) == (2, 2)  # the pixel and the 800 px rectangle
    rows = _rejects(report.rejects_path)
    assert [r["row"] for r in rows] == ["1", "2"]
    assert all("below --min-area-m2 90000" in r["reason"] for r in rows)
    assert rows[0]["field"] == "area_m2" and "patch 1 at 129.0" in rows[0]["value"]
    assert "1 px of class 1" in rows[0]["reason"]
    ids = set(workspace.read_features("leads")["lead_id"])
    assert ids == {"R-B1-变化图斑-000003", "R-B1-变化图斑-000004"}  # numbers keep their patch


def test_ids_are_deterministic_and_a_rerun_changes_nothing(workspace, mask_file):
    first = ingest_change_raster(workspace, mask_file, batch="2024-H1")
    again = ingest_change_raster(workspace, mask_file, batch="2024-H1", window_size=33)
    assert (first.inserted, again.inserted, again.unchanged) == (3, 0, 3)
    assert workspace.count("leads") == 3 and workspace.count("lead_patches") == 3
    assert patch_lead_ids("2024 H1", "a b.tif", np.array([7])) == ["R-2024_H1-a_b-000007"]


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_mapping_codes_the_activity_type(workspace, mask_file, tmp_path, suffix):
    mapping = tmp_path / f"classes{suffix}"
    if suffix == ".csv":
        mapping.write_text("值,活动类型\n1,采石场\n2,光伏\n", encoding="utf-8-sig")
    else:
        mapping.write_text(json.dumps({"1": "采石场", "2": "光伏"}), encoding="utf-8")
    report = ingest_change_raster(workspace, mask_file, batch="B", mapping=mapping)
    leads = workspace.read_features("leads").set_index("src_row")
    assert leads.loc[2, "activity_type"] == "采石场" and leads.loc[3, "activity_type"] == "光伏"
    assert pd.isna(leads.loc[4, "activity_type"])
    assert any("对照表中没有的栅格值" in n and "3（1 个图斑）" in n for n in report.notes)
    assert any(i["path"].endswith(suffix) for i in json.loads(workspace.runs().iloc[-1]["inputs"]))


def test_bad_mapping_rows_are_named(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,采石场\nx,光伏\n3,\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r"第 2 行：值 'x' 不是整数；第 3 行"):
        read_mapping(bad)


def test_user_errors(workspace, mask_file, tmp_path):
    with pytest.raises(IngestError, match="不是日期"):
        ingest_change_raster(workspace, mask_file, batch="B", date_before="soon")
    bare = write_raster(tmp_path / "bare.tif", shapes_mask(), crs=None)
    with pytest.raises(IngestError, match="没有声明坐标系：请给出 --crs"):
        ingest_change_raster(workspace, bare, batch="B")
    report = ingest_change_raster(workspace, bare, batch="B", crs="EPSG:4500")
    assert report.stored == 5  # 255 is a class here (no nodata declared): two more patches
    with pytest.raises(IngestError, match="只有波段 1-1，没有波段 2"):
        ingest_change_raster(workspace, mask_file, batch="B", band=2)
    assert workspace.count("leads") == 5


def test_a_raster_outside_china_is_rejected_not_stored(workspace, tmp_path):
    path = write_raster(tmp_path / "far.tif", shapes_mask(), crs="EPSG:32632", nodata=255,
                        transform=from_origin(500_000, 4_800_000, 10, 10))  # Italy
    with pytest.raises(IngestError, match=r"全部 4 行被拒绝，未入库：.*outside "
                       r"China.*详见 .*_rejects"):
        ingest_change_raster(workspace, path, batch="B")
    assert workspace.count("leads") == 0
    (written,) = rejects_dir(workspace).glob("*_leads_far.csv")
    assert "outside China" in _rejects(written)[0]["reason"]


def test_command_line(tmp_path, mask_file):
    ws = str(tmp_path / "cli.gpkg")
    result = CliRunner().invoke(cli, ["ingest", "change-raster", str(mask_file), "-w", ws,
                                      "--batch", "2024-H1", "--window", "64"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "读取 4，入库 3，拒绝 1" in result.output
    result = CliRunner().invoke(cli, ["ingest", "change-raster", "--help"])
    assert "Example" in result.output
    result = CliRunner().invoke(cli, ["ingest", "change-raster", str(mask_file), "-w", ws,
                                      "--batch", "B", "--before-date", "x"])
    assert result.exit_code == 1 and "不是日期" in result.output
