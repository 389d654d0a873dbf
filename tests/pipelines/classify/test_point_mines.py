"""A mine given as a point (a GEM tracker location) matches the leads on it, in every store."""

# ruff: noqa: F811 -- fixtures imported from tests/pipelines/store/conftest.py

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from pipelines.classify.job import classify
from pipelines.cli import cli
from pipelines.ingest.files import ingest
from tests.pipelines.store.conftest import (  # noqa: F401
    any_workspace,
    gpkg_workspace,
    pg_database,
    pg_schema_url,
    pg_workspace,
)


def _mines(tmp_path: Path) -> Path:
    path = tmp_path / "gem_points.csv"
    # 甲 sits on lead L001 in the core zone of 甲保护区; 乙 is 2 km from any lead
    path.write_text("GEM Mine ID,Mine Name,矿山状态,经度,纬度\n"
                    "M1,甲煤矿,关闭,126.50,43.50\n"
                    "M2,乙煤矿,关闭,126.90,43.90\n", encoding="utf-8")
    return path


def test_a_lead_on_a_point_mine_in_a_core_zone_is_matched(any_workspace, zones_file,
                                                          leads_csv, tmp_path):
    ingest(any_workspace, "reserves", zones_file)
    ingest(any_workspace, "leads", leads_csv, crs="EPSG:4490")
    report = ingest(any_workspace, "mines", _mines(tmp_path), crs="EPSG:4490")
    assert any("与距该点 500 米以内的线索匹配" in n for n in report.notes)
    classify(any_workspace)
    klass = any_workspace.read_table("lead_class").set_index("lead_id")
    assert klass.loc["L001", "zone"] == "core"
    assert klass.loc["L001", "mine_ids"] == "M1"
    assert "点位500米范围内" in klass.loc["L001", "mine_flag"]
    assert not isinstance(klass.loc["L002", "mine_ids"], str)


def test_the_command_states_and_takes_the_radius(tmp_path, zones_file, leads_csv):
    ws = str(tmp_path / "ws.gpkg")
    runner = CliRunner()
    assert "[default: 500.0]" in runner.invoke(cli, ["ingest", "mines", "--help"]).output
    result = runner.invoke(cli, ["ingest", "mines", str(_mines(tmp_path)), "-w", ws,
                                 "--crs", "EPSG:4490", "--point-radius", "2000"])
    assert result.exit_code == 0, result.output
    assert "距该点 2000 米以内" in result.output
