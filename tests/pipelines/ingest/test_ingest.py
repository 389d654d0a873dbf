from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from layers.coordinates import CGCS2000_DEFAULT_NOTE
from layers.errors import FieldError, InputError
from pipelines.errors import IngestError
from pipelines.ingest.files import ingest


def _rejects(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_reserves_from_gpkg_with_zones_normalised(workspace, zones_file):
    report = ingest(workspace, "reserves", zones_file)
    assert (report.read, report.stored, report.rejected) == (5, 5, 0)
    stored = workspace.read_features("reserves")
    assert sorted(stored["zone"]) == sorted(
        ["core", "buffer", "experimental", "core_protection", "general_control"])
    assert set(stored["level"]) == {"national", "provincial"}
    assert stored.crs.to_epsg() == 4490
    assert stored["area_m2"].min() > 1e7  # m², equal-area


def test_every_format_ingests_the_same_leads(workspace, tmp_path: Path):
    frame = gpd.GeoDataFrame(
        {"线索编号": ["A1", "A2"], "批次": ["2024", "2024"], "活动类型": ["采石场", "道路"]},
        geometry=[shapely.Point(126.5, 43.5), shapely.Point(126.6, 43.6)], crs="EPSG:4490",
    )
    paths = []
    for suffix in (".gpkg", ".geojson", ".shp"):
        path = tmp_path / f"leads{suffix}"
        frame.to_file(path, **({"encoding": "GBK"} if suffix == ".shp" else {}))
        paths.append(path)
    csv_path = tmp_path / "leads.csv"
    csv_path.write_text("线索编号,批次,经度,纬度,活动类型\nA1,2024,126.5,43.5,采石场\n"
                        "A2,2024,126.6,43.6,道路\n", encoding="utf-8-sig")
    paths.append(csv_path)
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["线索编号", "批次", "经度", "纬度", "活动类型"])
    book.active.append(["A1", "2024", 126.5, 43.5, "采石场"])
    book.active.append(["A2", "2024", 126.6, 43.6, "道路"])
    xlsx = tmp_path / "leads.xlsx"
    book.save(xlsx)
    paths.append(xlsx)
    for path in paths:
        report = ingest(workspace, "leads", path, crs="EPSG:4490" if path.suffix in (
            ".csv", ".xlsx") else None)
        assert report.stored == 2, path
        leads = workspace.read_features("leads").set_index("lead_id")
        assert leads.loc["A1", "activity_type"] == "采石场"
        assert leads.loc["A2", "geometry"].equals_exact(shapely.Point(126.6, 43.6), 1e-9)
    assert workspace.count("leads") == 2  # re-ingesting the same leads never doubles them


def test_lonlat_table_without_crs_is_read_as_cgcs2000_and_says_so(workspace, leads_csv):
    report = ingest(workspace, "leads", leads_csv)
    assert report.stored == 6
    said = [n for n in report.notes if "CGCS2000" in n]
    assert said == [f"leads.csv：{CGCS2000_DEFAULT_NOTE}"]
    assert "--crs EPSG:4326" in said[0] and "--coords gcj02" in said[0]
    assert "CGCS2000" in report.crs["decision"] or "4490" in report.crs["decision"]
    stored = workspace.read_features("leads").set_index("lead_id")
    assert stored.loc["L001", "geometry"].equals_exact(shapely.Point(126.5, 43.5), 1e-12)
    run = workspace.read_table("runs").iloc[-1]
    assert "EPSG:4490" in json.loads(run["crs"])["source_crs"]


def test_lonlat_table_outside_china_without_crs_is_refused(workspace, tmp_path: Path):
    path = tmp_path / "world.csv"
    path.write_text("线索编号,批次,经度,纬度\nW1,2024,2.35,48.85\nW2,2024,13.4,52.5\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match=r"文件未声明坐标系.*--crs EPSG:4490"):
        ingest(workspace, "leads", path)
    assert workspace.count("leads") == 0


def test_an_explicit_crs_says_nothing_of_the_default(workspace, leads_csv):
    report = ingest(workspace, "leads", leads_csv, crs="EPSG:4326")
    assert not [n for n in report.notes if CGCS2000_DEFAULT_NOTE in n]
    assert report.crs["decision"] == "--crs EPSG:4326"


@pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning")
def test_vector_without_crs_is_refused(workspace, tmp_path: Path):
    path = tmp_path / "noprj.shp"
    gpd.GeoDataFrame({"保护区名称": ["甲"]}, geometry=[shapely.box(126, 43, 127, 44)]).to_file(
        path, encoding="GBK")
    with pytest.raises(InputError, match="文件未声明坐标系"):
        ingest(workspace, "reserves", path)
    assert ingest(workspace, "reserves", path, crs="EPSG:4490").stored == 1


def test_accounting_with_bad_rows(workspace, tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "线索编号,批次,经度,纬度,面积\n"
        "B1,2024,126.5,43.5,10\n"       # ok
        ",2024,126.5,43.5,10\n"         # row 3: no id
        "B3,2024,abc,43.5,10\n"         # row 4: bad lon
        "B4,2024,126.5,43.5,十\n"       # row 5: bad optional area: kept, value left empty
        "B1,2024,126.6,43.6,10\n"       # row 6: duplicate id
        "B6,,126.6,43.6,10\n"           # row 7: no batch
        "B7,2024,2.0,1.0,10\n"          # row 8: outside China
        "B8,2024,126.7,43.7,\n",        # ok, area empty is fine
        encoding="utf-8",
    )
    report = ingest(workspace, "leads", path, crs=4490)
    assert report.read == report.stored + report.rejected
    assert (report.read, report.stored, report.rejected) == (8, 3, 5)
    rejects = _rejects(report.rejects_path)
    assert {r["row"] for r in rejects if r["action"] == "row rejected"} == {
        "3", "4", "6", "7", "8"}
    warning = next(r for r in rejects if r["row"] == "5")
    assert (warning["field"], warning["value"], warning["action"]) == (
        "面积", "十", "value left empty")
    stored = workspace.read_features("leads").set_index("lead_id")
    assert pd.isna(stored.loc["B4", "area_m2"])
    by_row = {r["row"]: r for r in rejects}
    assert by_row["4"]["field"] == "经度" and by_row["4"]["value"] == "abc"
    assert "首次出现在第 2 行" in by_row["6"]["reason"]
    assert "--batch" in by_row["7"]["reason"]
    assert "中国境外" in by_row["8"]["reason"]
    assert all(r["file"] == "bad.csv" for r in rejects)


def test_strict_stores_nothing(workspace, tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_text("线索编号,批次,经度,纬度\nB1,2024,126.5,43.5\n,2024,126.5,43.5\n",
                    encoding="utf-8")
    with pytest.raises(IngestError, match="--strict"):
        ingest(workspace, "leads", path, crs=4490, strict=True)
    assert workspace.count("leads") == 0
    assert workspace.count("runs") == 0


def test_failure_midway_leaves_workspace_as_before(workspace, zones_file, leads_csv,
                                                    monkeypatch):
    ingest(workspace, "reserves", zones_file)
    before = workspace.read_features("reserves")
    from pipelines.store.base import Workspace

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Workspace, "record_run", boom)
    with pytest.raises(RuntimeError):
        ingest(workspace, "leads", leads_csv, crs=4490)
    monkeypatch.undo()
    assert workspace.count("leads") == 0
    assert workspace.count("lead_status") == 0
    assert workspace.read_features("reserves").equals(before)


def test_missing_required_column_names_the_fix(workspace, tmp_path: Path):
    path = tmp_path / "x.csv"
    path.write_text("序号,经度,纬度\n1,126.5,43.5\n", encoding="utf-8")
    with pytest.raises(FieldError, match="--field lead_id=COLUMN"):
        ingest(workspace, "leads", path, crs=4490)
    report = ingest(workspace, "leads", path, crs=4490, fields={"lead_id": "序号"},
                    batch="2024")
    assert report.stored == 1


def test_area_units_from_header(workspace, leads_csv):
    ingest(workspace, "leads", leads_csv, crs=4490)
    leads = workspace.read_features("leads").set_index("lead_id")
    assert leads.loc["L001", "area_m2"] == pytest.approx(3 * 10000 / 15)


def test_unknown_zone_rejected_with_accepted_values(workspace, tmp_path: Path):
    frame = gpd.GeoDataFrame({"保护区名称": ["甲", "甲"], "功能区": ["核心区", "禁建区"]},
                             geometry=[shapely.box(126, 43, 126.1, 43.1),
                                       shapely.box(126.2, 43, 126.3, 43.1)], crs=4490)
    path = tmp_path / "z.gpkg"
    frame.to_file(path)
    report = ingest(workspace, "reserves", path)
    assert (report.stored, report.rejected) == (1, 1)
    reject = _rejects(report.rejects_path)[0]
    assert reject["value"] == "禁建区" and "核心区" in reject["reason"]


def test_runs_record_inputs_counts_and_crs(workspace, leads_csv):
    report = ingest(workspace, "leads", leads_csv, crs="EPSG:4490")
    runs = workspace.runs()
    row = runs.set_index("run_id").loc[report.run_id]
    assert row["command"] == "ingest leads"
    assert len(json.loads(row["inputs"])[0]["sha256"]) == 64
    assert json.loads(row["counts"])["stored"] == 6
    assert json.loads(row["crs"])["source_crs"] == "EPSG:4490"


def test_reingest_is_idempotent_and_new_round_keeps_status(workspace, leads_csv, tmp_path):
    from pipelines.verify.status import set_status

    ingest(workspace, "leads", leads_csv, crs=4490)
    again = ingest(workspace, "leads", leads_csv, crs=4490)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 6)
    assert workspace.count("leads") == 6
    assert workspace.count("lead_history") == 6
    set_status(workspace, "L001", "problem", by="张三")
    later = tmp_path / "round2.csv"
    later.write_text("线索编号,批次,经度,纬度\nL001,2025-H1,126.5,43.5\n", encoding="utf-8")
    ingest(workspace, "leads", later, crs=4490)
    lead = workspace.read_features("leads").set_index("lead_id").loc["L001"]
    assert (lead["batch"], lead["first_batch"], lead["rounds"]) == ("2025-H1", "2024-H1", 2)
    status = workspace.read_table("lead_status").set_index("lead_id").loc["L001", "status"]
    assert status == "problem"


def test_invalid_geometry_repaired_and_empty_rejected(workspace, tmp_path: Path):
    bowtie = shapely.from_wkt("POLYGON ((126 43, 126.1 43.1, 126.1 43, 126 43.1, 126 43))")
    frame = gpd.GeoDataFrame({"线索编号": ["P1", "P2"], "批次": ["2024", "2024"]},
                             geometry=[bowtie, shapely.Polygon()], crs=4490)
    path = tmp_path / "p.gpkg"
    frame.to_file(path)
    report = ingest(workspace, "leads", path)
    assert (report.stored, report.rejected) == (1, 1)
    assert any("已修复" in n for n in report.notes)
    assert workspace.read_features("leads").geometry.is_valid.all()


def test_reingesting_a_wetland_list_with_entries_in_words_changes_nothing(workspace, tmp_path):
    path = tmp_path / "湿地名录.csv"
    path.write_text("湿地名称,湿地级别,中心坐标,面积(公顷),范围\n"
                    "查干湖湿地,国家重要湿地,\"124.30, 45.25\",500,\n"
                    "某河湿地,一般湿地,,,某县某乡河道两岸\n", encoding="utf-8")
    first = ingest(workspace, "wetlands", path, crs=4490)
    assert first.stored == 2
    again = ingest(workspace, "wetlands", path, crs=4490)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
