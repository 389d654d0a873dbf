"""Damaged and messy input through ``lvdun ingest``: refused whole, rows rejected, text cleaned."""

from __future__ import annotations

import csv
import json
import logging
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.ingest.files import ingest
from pipelines.store import open_workspace
from tests.layers.test_read_damaged import SIDECARS, truncate_half, write_mines


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def _rejects(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def _stored(ws_path: Path, layer: str) -> gpd.GeoDataFrame:
    with open_workspace(ws_path) as ws:
        return ws.read_features(layer)


def _runs(ws_path: Path):
    with open_workspace(ws_path) as ws:
        return ws.runs()


def test_reingesting_a_truncated_shapefile_refuses_it_and_keeps_the_mines(tmp_path: Path):
    ws = tmp_path / "ws.gpkg"
    shp = write_mines(tmp_path / "in")
    result = run("ingest", "mines", str(shp), "-w", str(ws))
    assert result.exit_code == 0, result.output
    assert "读取 12，入库 12，拒绝 0" in result.output
    assert _stored(ws, "mines").geometry.notna().all()
    copy = tmp_path / "again"
    copy.mkdir()
    for suffix in SIDECARS:
        if shp.with_suffix(suffix).exists():
            shutil.copy(shp.with_suffix(suffix), copy)
    full, half = truncate_half(copy / "mines.shp")
    result = run("ingest", "mines", str(copy / "mines.shp"), "-w", str(ws))
    assert result.exit_code == 1
    assert "Traceback" not in result.output and result.exception is not None
    assert (f"mines.shp 不完整：它的 .shx 列出 12 条记录，直到第 {full:,} 字节，但文件只有 "
            f"{half:,} 字节；请重新复制完整的 .shp") in result.output
    mines = _stored(ws, "mines")
    assert len(mines) == 12 and mines.geometry.notna().all()
    assert not mines.geometry.is_empty.any()
    assert len(_runs(ws)) == 1  # the refused file left no run behind


def test_ragged_csv_row_is_rejected_with_its_row_number(tmp_path: Path):
    ws = tmp_path / "ws.gpkg"
    path = tmp_path / "leads.csv"
    path.write_text("线索编号,批次,经度,纬度,活动类型,变化类型\n"
                    "G1,2025,126.5,43.5,工业,开发\n"
                    "G2,2025,126.6,43.6,工业,开发,x\n"
                    "G3,2025,126.7,43.7,工业\n", encoding="utf-8")
    result = run("ingest", "leads", str(path), "-w", str(ws), "--crs", "EPSG:4490")
    assert result.exit_code == 0, result.output
    assert "读取 3，入库 2，拒绝 1" in result.output
    assert sorted(_stored(ws, "leads")["lead_id"]) == ["G1", "G3"]
    rejects = list((tmp_path / "ws_rejects").glob("*.csv"))
    assert len(rejects) == 1
    rows = _rejects(rejects[0])
    assert [(r["row"], r["value"], r["action"]) for r in rows] == [("3", "x", "row rejected")]
    assert "该行有 7 个字段，但表头只有 6 个" in rows[0]["reason"]
    assert "引号" in rows[0]["reason"]


def test_ragged_row_fails_strict_and_stores_nothing(tmp_path: Path):
    ws = tmp_path / "ws.gpkg"
    path = tmp_path / "leads.csv"
    path.write_text("线索编号,批次,经度,纬度\nG1,2025,126.5,43.5\nG2,2025,126.6,43.6,9\n",
                    encoding="utf-8")
    result = run("ingest", "leads", str(path), "-w", str(ws), "--crs", "EPSG:4490", "--strict")
    assert result.exit_code == 1 and "1 行被拒绝且设置了 --strict" in result.output


# -- control characters, every layer ------------------------------------------------------
def _gpkg(tmp_path: Path, name: str, columns: dict[str, list[object]],
          geoms: list[shapely.Geometry]) -> Path:
    path = tmp_path / f"{name}.gpkg"
    gpd.GeoDataFrame(columns, geometry=geoms, crs="EPSG:4490").to_file(path, driver="GPKG")
    return path


BOX = shapely.box(126.4, 43.4, 126.6, 43.6)

CASES = {
    "reserves": ({"保护区编码": ["R\x1b01"], "保护区名称": ["甲\x0b保护区"], "功能区": ["核心区"]},
                 [BOX], {"reserve_code": "R01", "reserve_name": "甲保护区"}, 2),
    "wetlands": ({"湿地编码": ["W1"], "湿地名称": ["查干湖\x1f"], "管理单位": ["\x7f局"]},
                 [BOX], {"wetland_name": "查干湖", "manager": "局"}, 2),
    "mines": ({"许可证号": ["C1\x0c"], "矿山名称": ["矿\x08"], "矿山状态": ["关闭"]},
              [BOX], {"mine_id": "C1", "mine_name": "矿"}, 2),
    "admin": ({"adcode": ["220100"], "name": ["长春\x0e市"], "level": ["city"]},
              [BOX], {"adcode": "220100", "admin_name": "长春市"}, 1),
    "leads": ({"线索编号": ["L\x0b1"], "批次": ["2024"], "备注": ["多行\r\n备注\t保留\x0b"]},
              [shapely.Point(126.5, 43.5)], {"lead_id": "L1", "note": "多行\r\n备注\t保留"}, 2),
}


@pytest.mark.parametrize("layer", list(CASES))
def test_control_characters_cleaned_counted_and_recorded(workspace, tmp_path: Path, caplog,
                                                         layer: str):
    columns, geoms, expected, fields = CASES[layer]
    path = _gpkg(tmp_path, layer, columns, geoms)
    with caplog.at_level(logging.WARNING):
        report = ingest(workspace, layer, path)
    assert report.stored == 1
    stored = workspace.read_features(layer).iloc[0]
    for canon, value in expected.items():
        assert stored[canon] == value, canon
    assert sum(report.control_chars.values()) == fields
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"{layer}.gpkg" in w and "control characters" in w for w in warnings)
    run_row = workspace.runs().iloc[-1]
    counts = json.loads(run_row["counts"])
    assert counts["control_chars_values"] == fields
    assert sum(counts["control_chars_by_field"].values()) == fields


def test_control_characters_through_the_command_line(tmp_path: Path):
    ws = tmp_path / "ws.gpkg"
    path = tmp_path / "leads.csv"
    path.write_text("线索编号,批次,经度,纬度,活动类型,备注\n"
                    "G1,2025,126.5,43.5,工业\x0b,a\x00b\n"
                    "G2,2025,126.6,43.6,道路,\x01\x02\n", encoding="utf-8")
    result = run("ingest", "leads", str(path), "-w", str(ws), "--crs", "EPSG:4490")
    assert result.exit_code == 0, result.output
    assert "读取 2，入库 2，拒绝 0" in result.output
    assert "control characters" in result.output and "备注" in result.output
    leads = _stored(ws, "leads").set_index("lead_id")
    assert leads.loc["G1", "activity_type"] == "工业" and leads.loc["G1", "note"] == "ab"
    assert pd.isna(leads.loc["G2", "note"])  # nothing but control characters: empty
    counts = json.loads(_runs(ws).iloc[-1]["counts"])
    assert counts["control_chars_by_field"] == {"活动类型": 1, "备注": 2}


def test_wetland_values_left_empty_are_listed_not_lost(workspace, tmp_path: Path):
    path = tmp_path / "wetlands.csv"
    path.write_text("湿地名称,经度,纬度,面积(公顷)\n查干湖,124.3,45.2,abc\n月亮泡,124.0,45.0,10\n",
                    encoding="utf-8")
    report = ingest(workspace, "wetlands", path, crs="EPSG:4490")
    assert (report.read, report.stored, report.rejected) == (2, 2, 0)
    assert report.rejects_path is not None
    rows = _rejects(report.rejects_path)
    assert [(r["row"], r["value"], r["action"]) for r in rows] == [
        ("2", "abc", "value left empty")]
    assert json.loads(workspace.runs().iloc[-1]["counts"])["values_left_empty"] == 1
