from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from layers.schema import LAYERS
from pipelines.cli import cli

COMMANDS = ["ingest", "classify", "status", "export", "map", "report", "demo"]


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_help_lists_the_commands_and_each_has_an_example():
    result = run("--help")
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output
        sub = run(name, "--help")
        assert sub.exit_code == 0
        if name not in ("status", "ingest"):
            assert "Example" in sub.output, name
    for group, name in [("status", "set"), ("status", "history"),
                        *(("ingest", layer) for layer in LAYERS)]:
        assert "Example" in run(group, name, "--help").output, (group, name)


def test_pipeline_through_the_command_line(tmp_path: Path, zones_file: Path, leads_csv: Path):
    ws = str(tmp_path / "cli.gpkg")
    result = run("ingest", "reserves", str(zones_file), "-w", ws)
    assert result.exit_code == 0 and "read 5, stored 5, rejected 0" in result.output
    result = run("ingest", "leads", str(leads_csv), "-w", ws, "--crs", "EPSG:4490")
    assert "read 6, stored 6, rejected 0" in result.output
    assert run("classify", "-w", ws).exit_code == 0
    result = run("status", "set", "L001", "问题", "-w", ws, "--by", "张三")
    assert result.exit_code == 0 and "待核查 → 问题" in result.output
    result = run("status", "history", "L001", "-w", ws)
    assert "张三" in result.output
    result = run("export", "-w", ws, "--format", "csv", "--out", str(tmp_path / "ex"))
    assert result.exit_code == 0
    assert (tmp_path / "ex" / "甲保护区" / "甲保护区_核查清单.csv").exists()
    result = run("report", "-w", ws)
    assert "甲保护区" in result.output and "问题" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["status", "set", "L001", "已销号"], "allowed:"),
        (["status", "set", "NOPE", "问题"], "no lead 'NOPE'"),
    ],
)
def test_user_errors_exit_1_with_a_message(tmp_path, zones_file, leads_csv, args, message):
    ws = str(tmp_path / "cli.gpkg")
    run("ingest", "reserves", str(zones_file), "-w", ws)
    run("ingest", "leads", str(leads_csv), "-w", ws, "--crs", "EPSG:4490")
    result = CliRunner().invoke(cli, [*args, "-w", ws])
    assert result.exit_code == 1
    assert message in result.output


def test_file_without_crs_exits_1(tmp_path, leads_csv):
    result = CliRunner().invoke(cli, ["ingest", "leads", str(leads_csv), "-w",
                                      str(tmp_path / "w.gpkg")])
    assert result.exit_code == 1 and "--crs" in result.output


def test_usage_error_exits_2(tmp_path):
    result = CliRunner().invoke(cli, ["ingest", "forests", "x.csv"])
    assert result.exit_code == 2
