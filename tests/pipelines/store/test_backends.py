"""The store's behaviour, run against every backend (GeoPackage and PostGIS)."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from pipelines.classify.job import classify
from pipelines.errors import (
    ConflictError,
    IngestError,
    NotFoundError,
    StoreError,
    TransitionError,
)
from pipelines.ingest.files import ingest
from pipelines.publish.export import export
from pipelines.store import Workspace
from pipelines.verify.status import history, set_status
from tests.pipelines.store.conftest import assert_same_workspace, snapshot


def _gpkg(path: Path, columns: dict[str, list], geoms: list) -> Path:
    gpd.GeoDataFrame(columns, geometry=geoms, crs="EPSG:4490").to_file(path)
    return path


@pytest.fixture
def wetlands_file(tmp_path: Path) -> Path:
    return _gpkg(tmp_path / "wetlands.gpkg",
                 {"湿地编码": ["W1", "W2"], "湿地名称": ["查干湖湿地", "向海湿地"],
                  "湿地级别": ["国家重要湿地", "省级重要湿地"], "湿地类型": ["湖泊", "沼泽"]},
                 [shapely.box(126.45, 43.45, 126.48, 43.52), shapely.box(127.0, 44.0, 127.1, 44.1)])


@pytest.fixture
def mines_file(tmp_path: Path) -> Path:
    return _gpkg(tmp_path / "mines.gpkg",
                 {"许可证号": ["C2200002010"], "矿山名称": ["某采石场"], "矿种": ["建筑石料"],
                  "开采方式": ["露天"], "关闭年份": [2019]},
                 [shapely.box(126.49, 43.49, 126.51, 43.51)])


@pytest.fixture
def admin_file(tmp_path: Path) -> Path:
    return _gpkg(tmp_path / "admin.gpkg",
                 {"行政区划代码": ["222426", "220721"], "区县名称": ["安图县", "前郭尔罗斯县"],
                  "省": ["吉林省", "吉林省"]},
                 [shapely.box(126.3, 43.3, 126.6, 43.7), shapely.box(126.6, 43.3, 127.6, 44.2)])


def test_ingest_of_every_layer(any_workspace: Workspace, zones_file, leads_csv, wetlands_file,
                               mines_file, admin_file):
    ws = any_workspace
    reports = {
        "reserves": ingest(ws, "reserves", zones_file),
        "wetlands": ingest(ws, "wetlands", wetlands_file),
        "mines": ingest(ws, "mines", mines_file),
        "admin": ingest(ws, "admin", admin_file),
        "leads": ingest(ws, "leads", leads_csv, crs="EPSG:4490"),
    }
    stored = {layer: r.stored for layer, r in reports.items()}
    assert stored == {"reserves": 5, "wetlands": 2, "mines": 1, "admin": 2, "leads": 6}
    for layer, count in stored.items():
        frame = ws.read_features(layer)
        assert len(frame) == ws.count(layer) == count
        assert frame.crs.to_epsg() == 4490
    reserves = ws.read_features("reserves")
    assert set(shapely.get_type_id(reserves.geometry.values)) == {
        shapely.GeometryType.MULTIPOLYGON}
    mine = ws.read_features("mines").iloc[0]
    assert (mine["mine_id"], mine["closed_year"]) == ("C2200002010", 2019)
    assert isinstance(mine["closed_year"], int | np.integer)
    lead = ws.read_features("leads").set_index("lead_id").loc["L001"]
    assert lead["area_m2"] == pytest.approx(2000.0)
    assert lead.geometry.equals_exact(shapely.Point(126.5, 43.5), 0)
    assert ws.read_features("admin").set_index("adcode").loc["222426", "admin_name"] == "安图县"
    assert ws.count("lead_status") == 6 and ws.count("lead_history") == 6
    assert sorted(ws.runs()["command"]) == [
        "ingest admin", "ingest leads", "ingest mines", "ingest reserves", "ingest wetlands"]


def test_accounting_with_bad_rows(any_workspace: Workspace, tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "线索编号,批次,经度,纬度\n"
        "B1,2024,126.5,43.5\n"       # ok
        ",2024,126.5,43.5\n"         # row 3: no id
        "B3,2024,abc,43.5\n"         # row 4: bad lon
        "B1,2024,126.6,43.6\n"       # row 5: duplicate id
        "B7,2024,2.0,1.0\n"          # row 6: outside China
        "B8,2024,126.7,43.7\n",      # ok
        encoding="utf-8",
    )
    report = ingest(any_workspace, "leads", path, crs=4490)
    assert (report.read, report.stored, report.rejected) == (6, 2, 4)
    with report.rejects_path.open(encoding="utf-8-sig") as fh:
        assert {r["row"] for r in csv.DictReader(fh)} == {"3", "4", "5", "6"}
    assert sorted(any_workspace.read_features("leads")["lead_id"]) == ["B1", "B8"]
    counts = json.loads(any_workspace.runs()["counts"].iloc[-1])
    assert (counts["stored"], counts["rejected"]) == (2, 4)


def test_failed_ingest_leaves_everything_as_before(any_workspace: Workspace, zones_file,
                                                   leads_csv, tmp_path, monkeypatch):
    ws = any_workspace
    ingest(ws, "reserves", zones_file)
    ingest(ws, "leads", leads_csv, crs=4490)
    set_status(ws, "L001", "in_field", by="张三")
    before = snapshot(ws)
    later = tmp_path / "round2.csv"
    later.write_text("线索编号,批次,经度,纬度\nL001,2025-H1,126.5,43.5\nL009,2025-H1,126.4,43.4\n",
                     encoding="utf-8")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(Workspace, "record_run", boom)
        with pytest.raises(RuntimeError, match="disk full"):
            ingest(ws, "leads", later, crs=4490)
        with pytest.raises(RuntimeError, match="disk full"):
            ingest(ws, "reserves", zones_file)
    assert_same_workspace(snapshot(ws), before)
    strict = tmp_path / "strict.csv"
    strict.write_text("线索编号,批次,经度,纬度\nS1,2024,126.5,43.5\n,2024,126.5,43.5\n",
                      encoding="utf-8")
    with pytest.raises(IngestError, match="--strict"):
        ingest(ws, "leads", strict, crs=4490, strict=True)
    assert_same_workspace(snapshot(ws), before)


def test_explicit_transaction_rolls_back(any_workspace: Workspace):
    frame = gpd.GeoDataFrame({"lead_id": ["X"], "batch": ["1"]},
                             geometry=[shapely.Point(126, 43)], crs=4490)
    with pytest.raises(RuntimeError), any_workspace.transaction():
        any_workspace.insert_features("leads", frame)
        assert any_workspace.count("leads") == 1
        raise RuntimeError("stop")
    assert any_workspace.count("leads") == 0


def test_geometries_round_trip_exactly(any_workspace: Workspace):
    geoms = [
        shapely.Point(126.123456789012, 43.987654321098),
        shapely.box(126, 43, 127, 44).difference(shapely.box(126.4, 43.4, 126.6, 43.6)),
        shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)]),
        shapely.LineString([(126, 43), (126.5, 43.5)]),
    ]
    frame = gpd.GeoDataFrame({"lead_id": ["G1", "G2", "G3", "G4"]}, geometry=geoms, crs=4490)
    with any_workspace.transaction():
        any_workspace.insert_features("leads", frame)
        any_workspace.insert_features("reserves", frame.iloc[[1]].rename(
            columns={"lead_id": "reserve_code"}))
    back = any_workspace.read_features("leads")
    assert list(shapely.to_wkb(back.geometry.values)) == list(shapely.to_wkb(geoms))
    reserve = any_workspace.read_features("reserves").geometry.iloc[0]
    assert reserve.geom_type == "MultiPolygon" and reserve.equals(geoms[1])


def test_extent(any_workspace: Workspace, zones_file):
    assert any_workspace.extent("reserves") is None
    ingest(any_workspace, "reserves", zones_file)
    assert any_workspace.extent("reserves") == pytest.approx((126.35, 43.35, 126.80, 43.65))
    assert any_workspace.extent("leads") is None


def test_text_sorts_the_same_on_every_backend(any_workspace: Workspace):
    ids = ["长白山", "a1", "Z9", "B2", "安图", "_x", "b10", "b9"]
    frame = gpd.GeoDataFrame({"lead_id": ids}, geometry=[shapely.Point(126, 43)] * len(ids),
                             crs=4490)
    with any_workspace.transaction():
        any_workspace.insert_features("leads", frame)
    rows = any_workspace.query('SELECT "lead_id" FROM "leads" ORDER BY "lead_id"')
    assert list(rows["lead_id"]) == sorted(ids, key=lambda s: s.encode())


def test_duplicate_key_is_refused(any_workspace: Workspace):
    frame = gpd.GeoDataFrame({"lead_id": ["D1", "D1"]},
                             geometry=[shapely.Point(126, 43)] * 2, crs=4490)
    with pytest.raises((sqlite3.IntegrityError, StoreError)), any_workspace.transaction():
        any_workspace.insert_features("leads", frame)
    assert any_workspace.count("leads") == 0


def test_refuses_features_not_in_cgcs2000(any_workspace: Workspace):
    frame = gpd.GeoDataFrame({"lead_id": ["X"]}, geometry=[shapely.Point(126, 43)], crs=4326)
    with pytest.raises(StoreError, match="EPSG:4490"), any_workspace.transaction():
        any_workspace.insert_features("leads", frame)


def test_reingest_is_idempotent(any_workspace: Workspace, leads_csv):
    ingest(any_workspace, "leads", leads_csv, crs=4490)
    again = ingest(any_workspace, "leads", leads_csv, crs=4490)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 6)
    assert any_workspace.count("leads") == 6 and any_workspace.count("lead_history") == 6


def test_classification_zones(any_classified: Workspace):
    zones = any_classified.read_table("lead_class").set_index("lead_id")["zone"].to_dict()
    assert {k: zones[k] for k in ("L001", "L002", "L003", "L004", "L005")} == {
        "L001": "core", "L002": "buffer", "L003": "core_protection",
        "L004": "general_control", "L005": "outside"}


def test_status_history_and_conflict(any_classified: Workspace):
    ws = any_classified
    set_status(ws, "L001", "in_field", by="张三", expected_version=1)
    set_status(ws, "L001", "问题", by="张三", note="新建采石场")
    change = set_status(ws, "L001", "整改中", by="李四", responsible_unit="安图县林业局",
                        measures="拆除复绿", deadline="2025-06-30")
    assert change.version == 4
    with pytest.raises(ConflictError, match="您修改的是第 2 版，工作区中已是第 4 版"):
        set_status(ws, "L001", "已整改", expected_version=2)
    with pytest.raises(TransitionError, match="可改为："):
        set_status(ws, "L001", "已销号")
    with pytest.raises(NotFoundError, match="没有线索 'X'"):
        set_status(ws, "X", "problem")
    rows = history(ws, "L001")
    assert list(rows["to_status"]) == ["pending", "in_field", "problem", "rectifying"]
    assert list(rows["version"]) == [1, 2, 3, 4]
    assert list(rows["by"])[1:] == ["张三", "张三", "李四"]
    status = ws.read_table("lead_status").set_index("lead_id").loc["L001"]
    assert (status["status"], status["version"], status["deadline"]) == (
        "rectifying", 4, "2025-06-30")


def test_export_rows(any_classified: Workspace, tmp_path: Path):
    report = export(any_classified, tmp_path / "out", formats=("csv", "gpkg"))
    # L003 wins 乙 and lies in 甲 too: it is on both lists
    assert report.rows == {"甲保护区": 4, "乙保护区": 2, "保护区外": 1}
    table = pd.read_csv(tmp_path / "out" / "甲保护区" / "甲保护区_核查清单.csv",
                        encoding="utf-8-sig", dtype=str)
    assert sorted(table["线索编号"]) == ["L001", "L002", "L003", "L006"]


@pytest.mark.postgis
def test_classify_gives_identical_tables_on_both_backends(gpkg_workspace, pg_workspace,
                                                          zones_file, leads_csv):
    tables = []
    for ws in (gpkg_workspace, pg_workspace):
        ingest(ws, "reserves", zones_file)
        ingest(ws, "leads", leads_csv, crs=4490)
        classify(ws)
        klass = ws.read_table("lead_class", order='"lead_id"')
        tables.append(klass.drop(columns=["run_id", "classified_at", "boundary_version"]))
    assert len(tables[0]) == 6
    pd.testing.assert_frame_equal(tables[0], tables[1], check_dtype=True)


@pytest.mark.slow
def test_bulk_insert_of_100k_points(any_workspace: Workspace):
    n = 100_000
    rng = np.random.default_rng(0)
    frame = gpd.GeoDataFrame(
        {"lead_id": [f"P{i:06d}" for i in range(n)], "batch": "2024-H1", "rounds": 1,
         "area_m2": rng.random(n) * 1000},
        geometry=shapely.points(rng.uniform(120, 130, n), rng.uniform(40, 45, n)), crs=4490)
    with any_workspace.transaction():
        assert any_workspace.insert_features("leads", frame) == n
    back = any_workspace.read_features("leads")
    assert len(back) == n
    assert back.geometry.iloc[-1].equals_exact(frame.geometry.iloc[-1], 0)
    np.testing.assert_array_equal(back["area_m2"].to_numpy(), frame["area_m2"].to_numpy())
