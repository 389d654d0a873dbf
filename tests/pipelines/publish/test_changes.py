from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from pipelines.classify.job import classify
from pipelines.errors import NotFoundError
from pipelines.ingest.files import ingest
from pipelines.publish.changes import baseline, changes_since, resolve_run
from pipelines.publish.report import build_report
from pipelines.verify.status import set_status
from tests.conftest import zone_frame


@pytest.fixture
def month_later(workspace, zones_file: Path, leads_csv: Path, tmp_path: Path):
    """A month of work after classification R1: statuses, a new round, a boundary change."""
    ws = workspace
    ingest(ws, "reserves", zones_file)
    ingest(ws, "leads", leads_csv, crs="EPSG:4490")
    r1 = classify(ws).run_id
    # the same second as R1 finished: the history cutoff still tells them apart
    set_status(ws, "L001", "问题", by="张三")
    for step, extra in [("核查中", {}), ("问题", {}),
                        ("整改中", {"responsible_unit": "乙县", "deadline": "2025-06-30"}),
                        ("已整改", {}), ("已销号", {"override_acceptance": True})]:
        set_status(ws, "L004", step, by="李四", **extra)
    (tmp_path / "round2.csv").write_text(
        "线索编号,批次,经度,纬度\nL005,2024-H2,127.50,44.00\nL007,2024-H2,126.45,43.38\n",
        encoding="utf-8")
    ingest(ws, "leads", tmp_path / "round2.csv", crs="EPSG:4490")
    zones = zone_frame()  # 甲's core grows over L002 (126.42, 43.42): buffer -> core
    zones.loc[0, "geometry"] = shapely.box(126.41, 43.41, 126.55, 43.55)
    zones.loc[1, "geometry"] = shapely.box(126.40, 43.40, 126.60, 43.60).difference(
        zones.loc[0, "geometry"])
    gpd.GeoDataFrame(zones).to_file(tmp_path / "zones2.gpkg", layer="zones")
    ingest(ws, "reserves", tmp_path / "zones2.gpkg")
    r2 = classify(ws).run_id
    return ws, r1, r2


def test_new_reclassified_status_closed_and_redetected(month_later):
    ws, r1, _ = month_later
    changes = changes_since(ws, r1)
    rows = {(r.lead_id, r.kind): r for r in changes.rows.itertuples()}
    assert set(rows) == {("L007", "new"), ("L002", "reclassified"), ("L001", "status"),
                         ("L004", "closed"), ("L005", "redetected")}
    assert (rows[("L001", "status")].before, rows[("L001", "status")].after) == ("待核查", "问题")
    assert rows[("L004", "closed")].before == "待核查"
    moved = rows[("L002", "reclassified")]
    assert (moved.before, moved.after, moved.detail) == (
        "甲保护区·缓冲区", "甲保护区·核心区", "边界已更新")
    assert rows[("L007", "new")].reserve == "甲保护区"
    assert rows[("L005", "redetected")].reserve == "保护区外"
    table = changes.by_reserve()
    assert table.loc["甲保护区", "新增线索"] == 1 and table.loc["甲保护区", "重新分类"] == 1
    assert table.loc["合计"].sum() == len(changes.rows) == 5


def test_since_the_latest_classification_nothing_changed(month_later):
    ws, _, r2 = month_later
    assert changes_since(ws, r2).rows.empty


def test_since_an_ingest_run(month_later):
    ws, r1, _ = month_later
    runs = ws.runs()
    round2 = runs[runs["inputs"].str.contains("round2.csv")]["run_id"].iloc[0]
    base = baseline(ws, round2)
    assert base.class_run == r1 and base.history_basis == "last history row written by the run"
    kinds = set(changes_since(ws, round2).rows["kind"])
    assert kinds == {"reclassified"}  # the round itself is part of the baseline


def test_run_references(month_later):
    ws, r1, _ = month_later
    assert resolve_run(ws, r1)["command"] == "classify"
    with pytest.raises(NotFoundError, match="several runs start with"):
        resolve_run(ws, "2")
    with pytest.raises(NotFoundError, match="latest runs"):
        resolve_run(ws, "nope")


def test_report_since_lists_changes_per_reserve(month_later):
    ws, r1, _ = month_later
    report = build_report(ws, since=r1, charts=False)
    assert report.sections[0].key == "changes"
    per = report.table("changes:甲保护区").frame
    assert set(per["线索编号"]) == {"L001", "L002", "L007"}
    from pipelines.cli import cli

    location = ws.location
    ws.close()
    result = CliRunner().invoke(cli, ["report", "-w", location, "--since", r1[:20]])
    assert result.exit_code == 0 and "重新分类" in result.output and "L007" in result.output
