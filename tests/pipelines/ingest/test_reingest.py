"""Re-ingesting leads: nothing lost, changes counted per field, a missing batch refused."""

# ruff: noqa: F811 -- fixtures imported from tests/pipelines/store/conftest.py

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from click.testing import CliRunner

from layers.errors import FieldError
from pipelines.cli import cli
from pipelines.ingest.files import ingest
from tests.pipelines.store.conftest import (  # noqa: F401
    any_workspace,
    gpkg_workspace,
    pg_database,
    pg_schema_url,
    pg_workspace,
)

FULL = ("线索编号,批次,经度,纬度,面积,活动类型\n"
        "A1,2024-H1,126.500000,43.500000,100,采石场\n"
        "A2,2024-H1,126.600000,43.600000,200,道路\n"
        "A3,2024-H1,126.700000,43.700000,300,光伏\n")


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_column_the_file_lacks_keeps_its_stored_values(any_workspace, tmp_path):
    ingest(any_workspace, "leads", _csv(tmp_path, "full.csv", FULL), crs=4490)
    no_area = ("线索编号,批次,经度,纬度,活动类型\n"
               "A1,2024-H1,126.5,43.5,采石场\n"
               "A2,2024-H1,126.6,43.6,道路\n"
               "A3,2024-H1,126.7,43.7,风电\n")
    report = ingest(any_workspace, "leads", _csv(tmp_path, "no_area.csv", no_area), crs=4490)
    stored = any_workspace.read_features("leads").set_index("lead_id")
    assert stored["area_m2"].to_dict() == {"A1": 100.0, "A2": 200.0, "A3": 300.0}
    assert stored.loc["A3", "activity_type"] == "风电"
    assert (report.updated, report.unchanged) == (1, 2)
    assert report.changed == {"activity_type": 1}
    assert "area_m2" in report.kept
    assert "变更：活动类型 1" in report.summary()
    assert "文件中没有、保留原值：面积" in report.summary()
    counts = json.loads(any_workspace.read_table("runs").iloc[-1]["counts"])
    assert counts["changed_by_field"] == {"activity_type": 1}
    assert "area_m2" in counts["kept_fields"]


def test_changes_are_counted_per_field_and_rounding_is_no_update(any_workspace, tmp_path):
    ingest(any_workspace, "leads", _csv(tmp_path, "full.csv", FULL), crs=4490)
    # A1 rounded to 7 decimals and moved 3 mm: the same place; A2 moved 11 m; A3 area changed
    moved = ("线索编号,批次,经度,纬度,面积,活动类型\n"
             "A1,2024-H1,126.50000004,43.49999997,100,采石场\n"
             "A2,2024-H1,126.600000,43.600100,200,道路\n"
             "A3,2024-H1,126.700000,43.700000,333,光伏\n")
    report = ingest(any_workspace, "leads", _csv(tmp_path, "moved.csv", moved), crs=4490)
    assert report.changed == {"area_m2": 1, "geometry": 1}
    assert (report.updated, report.unchanged) == (2, 1)
    stored = any_workspace.read_features("leads").set_index("lead_id")
    # the stored shape is kept when the new one is the same place
    assert stored.loc["A1", "geometry"].equals_exact(shapely.Point(126.5, 43.5), 1e-12)
    assert stored.loc["A2", "geometry"].y == pytest.approx(43.6001)


def test_no_batch_column_and_no_option_is_refused_up_front(any_workspace, tmp_path):
    path = _csv(tmp_path, "nobatch.csv", "线索编号,经度,纬度\nA1,126.5,43.5\nA2,126.6,43.6\n")
    with pytest.raises(FieldError, match=r"没有 批次 列，也没有给出 --batch.*"
                                         r"--batch NAME"):
        ingest(any_workspace, "leads", path, crs=4490)
    assert any_workspace.count("leads") == 0
    assert ingest(any_workspace, "leads", path, crs=4490, batch="2024-H1").stored == 2


def test_an_empty_batch_column_and_no_option_is_refused(workspace, tmp_path):
    path = _csv(tmp_path, "blank.csv", "线索编号,批次,经度,纬度\nA1,,126.5,43.5\nA2,,126.6,43.6\n")
    with pytest.raises(FieldError, match=r"批次（批次）列每一行都是空的.*--batch"):
        ingest(workspace, "leads", path, crs=4490)


def test_the_command_exits_non_zero_naming_the_option(tmp_path):
    path = _csv(tmp_path, "nobatch.csv", "线索编号,经度,纬度\nA1,126.5,43.5\n")
    result = CliRunner().invoke(cli, ["ingest", "leads", str(path), "-w",
                                      str(tmp_path / "ws.gpkg"), "--crs", "EPSG:4490"])
    assert result.exit_code != 0
    assert "--batch" in result.output and "Traceback" not in result.output


def test_a_file_whose_every_row_is_rejected_is_an_error(workspace, tmp_path):
    path = _csv(tmp_path, "bad.csv", "线索编号,批次,经度,纬度\nA1,2024,x,43.5\nA2,2024,y,43.6\n")
    result = CliRunner().invoke(cli, ["ingest", "leads", str(path), "-w",
                                      str(workspace.location), "--crs", "EPSG:4490"])
    assert result.exit_code != 0
    assert "全部 2 行被拒绝，未入库" in result.output
    assert "经度: 不是坐标" in result.output


def test_leads_are_written_a_slice_at_a_time_in_one_transaction(any_workspace, tmp_path,
                                                                 monkeypatch):
    import pipelines.ingest.files as files

    monkeypatch.setattr(files, "WRITE_ROWS", 2)
    rows = "".join(f"S{i},2024-H1,126.{500 + i},43.5\n" for i in range(5))
    path = _csv(tmp_path, "five.csv", "线索编号,批次,经度,纬度\n" + rows)
    report = ingest(any_workspace, "leads", path)
    assert (report.read, report.stored, report.inserted) == (5, 5, 5)
    assert sorted(any_workspace.read_features("leads")["lead_id"]) == [f"S{i}" for i in range(5)]
    assert any_workspace.count("lead_status") == 5
    history = any_workspace.read_table("lead_history")
    assert len(history) == 5 and history["from_status"].isna().all()
    assert set(history["to_status"]) == {"pending"}

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(type(any_workspace), "record_run", boom)
    more = _csv(tmp_path, "more.csv", "线索编号,批次,经度,纬度\n" + rows.replace("S", "T"))
    with pytest.raises(RuntimeError):
        ingest(any_workspace, "leads", more)
    assert any_workspace.count("leads") == 5  # no slice of the failed ingest stays
