from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from pipelines.classify.job import classify
from pipelines.ingest.files import ingest


def _klass(ws) -> dict:
    return ws.read_table("lead_class").set_index("lead_id").to_dict("index")


def test_zones_and_priority_on_overlapping_reserves(classified):
    k = _klass(classified)
    assert (k["L001"]["reserve_name"], k["L001"]["zone"]) == ("甲保护区", "core")
    assert k["L002"]["zone"] == "buffer"
    # 甲 experimental (national) vs 乙 core protection (provincial): the stricter zone wins
    assert (k["L003"]["reserve_code"], k["L003"]["zone"]) == ("R02", "core_protection")
    overlaps = json.loads(k["L003"]["overlaps"])
    assert {(o["reserve_code"], o["zone"]) for o in overlaps} == {
        ("R02", "core_protection"), ("R01", "experimental")}
    assert overlaps[0]["zone"] == "core_protection"  # strictest first
    assert (k["L004"]["zone"], k["L004"]["zone_label"]) == ("general_control", "一般控制区")
    assert k["L005"]["zone"] == "outside" and pd.isna(k["L005"]["reserve_code"])


def test_point_exactly_on_zone_boundary_counts_in_both_and_strictest_wins(classified):
    k = _klass(classified)
    overlaps = json.loads(k["L006"]["overlaps"])
    assert {o["zone"] for o in overlaps} == {"core", "buffer"}
    assert k["L006"]["zone"] == "core"


def test_tie_on_zone_goes_to_higher_level(workspace, tmp_path: Path):
    frame = gpd.GeoDataFrame(
        {"保护区名称": ["省A", "国B"], "级别": ["省级", "国家级"], "功能区": ["缓冲区", "缓冲区"]},
        geometry=[shapely.box(126, 43, 126.2, 43.2), shapely.box(126.1, 43.1, 126.3, 43.3)],
        crs=4490,
    )
    frame.to_file(tmp_path / "r.gpkg")
    ingest(workspace, "reserves", tmp_path / "r.gpkg")
    (tmp_path / "l.csv").write_text("线索编号,批次,经度,纬度\nT1,2024,126.15,43.15\n",
                                    encoding="utf-8")
    ingest(workspace, "leads", tmp_path / "l.csv", crs=4490)
    classify(workspace)
    assert _klass(workspace)["T1"]["reserve_name"] == "国B"


def test_patch_split_across_zones_shares_sum_to_one(workspace, zones_file, tmp_path: Path):
    ingest(workspace, "reserves", zones_file)
    # straddles 甲 core (x < 126.55) and buffer (x > 126.55), all inside 甲
    patch = shapely.box(126.54, 43.49, 126.56, 43.51)
    half_out = shapely.box(126.64, 43.38, 126.66, 43.40)  # half in 甲 experimental ring
    gpd.GeoDataFrame({"图斑编号": ["P1", "P2"], "批次": ["2024", "2024"]},
                     geometry=[patch, half_out], crs=4490).to_file(tmp_path / "p.gpkg")
    ingest(workspace, "leads", tmp_path / "p.gpkg")
    classify(workspace)
    k = _klass(workspace)
    areas = json.loads(k["P1"]["area_in_zone_m2"])
    assert set(areas) == {"core", "buffer"}
    assert sum(areas.values()) == pytest.approx(k["P1"]["area_m2"], rel=1e-6)
    assert areas["core"] == pytest.approx(areas["buffer"], rel=0.01)
    shares = {o["zone"]: o["share"] for o in json.loads(k["P1"]["overlaps"])}
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-6)
    assert k["P1"]["zone"] == "core"
    p2 = json.loads(k["P2"]["area_in_zone_m2"])
    assert set(p2) == {"experimental", "outside"}
    assert sum(p2.values()) == pytest.approx(k["P2"]["area_m2"], rel=1e-6)


def test_distance_to_boundary_in_metres(classified):
    k = _klass(classified)
    # L001 at 甲's centre: the nearest outline is 乙's west edge, 0.12° of longitude east
    assert k["L001"]["dist_boundary_m"] == pytest.approx(0.12 * 111_320 * 0.7254, rel=0.005)
    assert k["L006"]["dist_boundary_m"] > 0  # zone edge, not the reserve outline
    assert k["L001"]["near_boundary"] == 0
    assert k["L002"]["dist_boundary_m"] < 8_000


def test_wetland_mine_and_county(workspace, zones_file, leads_csv, tmp_path: Path):
    ingest(workspace, "reserves", zones_file)
    ingest(workspace, "leads", leads_csv, crs=4490)
    gpd.GeoDataFrame({"湿地名称": ["甲湿地"], "湿地级别": ["国家重要"]},
                     geometry=[shapely.box(126.49, 43.49, 126.51, 43.51)], crs=4490
                     ).to_file(tmp_path / "w.gpkg")
    gpd.GeoDataFrame({"许可证号": ["C22001"], "矿山名称": ["乙矿"], "矿山状态": ["关闭"]},
                     geometry=[shapely.box(126.74, 43.41, 126.76, 43.43)], crs=4490
                     ).to_file(tmp_path / "m.gpkg")
    gpd.GeoDataFrame({"adcode": ["220101", "220102"], "name": ["西县", "东县"],
                      "level": ["district", "district"]},
                     geometry=[shapely.box(126, 43, 126.6, 44), shapely.box(126.6, 43, 128, 44)],
                     crs=4490).to_file(tmp_path / "a.gpkg")
    ingest(workspace, "wetlands", tmp_path / "w.gpkg")
    ingest(workspace, "mines", tmp_path / "m.gpkg")
    ingest(workspace, "admin", tmp_path / "a.gpkg")
    classify(workspace)
    k = _klass(workspace)
    assert k["L001"]["wetland_names"] == "甲湿地"
    assert k["L004"]["mine_ids"] == "C22001"
    assert (k["L001"]["county_adcode"], k["L001"]["county_name"]) == ("220101", "西县")
    assert k["L004"]["county_name"] == "东县"
    assert workspace.read_features("wetlands")["wetland_level"].iloc[0] == "国家重要湿地"


def test_classify_needs_layers(workspace):
    from pipelines.errors import WorkspaceError

    with pytest.raises(WorkspaceError, match="no leads"):
        classify(workspace)
