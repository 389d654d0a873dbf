from __future__ import annotations

import logging
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import click
import pandas as pd
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
    assert result.exit_code == 0 and "读取 5，入库 5，拒绝 0" in result.output
    result = run("ingest", "leads", str(leads_csv), "-w", ws, "--crs", "EPSG:4490")
    assert "读取 6，入库 6，拒绝 0" in result.output
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
        (["status", "set", "L001", "已销号"], "可改为："),
        (["status", "set", "NOPE", "问题"], "没有线索 'NOPE'"),
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
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text("线索编号,批次,经度,纬度\nW1,2024,2.35,48.85\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["ingest", "leads", str(elsewhere), "-w",
                                      str(tmp_path / "w.gpkg")])
    assert result.exit_code == 1 and "--crs" in result.output
    # lon/lat inside China: CGCS2000, said in one line with how to say otherwise
    result = CliRunner().invoke(cli, ["ingest", "leads", str(leads_csv), "-w",
                                      str(tmp_path / "w.gpkg")])
    assert result.exit_code == 0, result.output
    assert "按 CGCS2000（EPSG:4490）读取" in result.output and "--coords gcj02" in result.output


def test_usage_error_exits_2(tmp_path):
    result = CliRunner().invoke(cli, ["ingest", "forests", "x.csv"])
    assert result.exit_code == 2


# -- commands registered by other packages (entry points ``lvdun.commands``) ---------------
WEBMAP_COMMANDS = ("map", "serve")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (nothing imported yet)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)


def test_webmap_cli_imports_first_and_its_commands_are_listed():
    code = ("import webmap.map.cli\n"
            "from click.testing import CliRunner\n"
            "from pipelines.cli import cli\n"
            "print(CliRunner().invoke(cli, ['--help']).output)")
    done = _python(code)
    assert done.returncode == 0, done.stderr
    listed = {line.split()[0] for line in done.stdout.split("Commands:")[1].splitlines()
              if line.strip()}
    assert {*WEBMAP_COMMANDS, "ingest", "status", "mines"} <= listed


def test_importing_the_command_line_loads_no_plugin():
    done = _python("import sys, pipelines.cli\n"
                   "print(sorted(m for m in sys.modules if m.split('.')[0] == 'webmap'))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_help_lists_every_registered_command():
    result = run("--help")
    for name in WEBMAP_COMMANDS:
        assert f"  {name} " in result.output
    assert "Example" in run("serve", "--help").output


def _fake_plugins(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    import pipelines.cli as cli_package

    fake = [EntryPoint(name=name, value=value, group=cli_package.ENTRY_POINT_GROUP)
            for name, value in values.items()]
    monkeypatch.setattr(cli_package, "entry_points", lambda group: fake)


def test_plugins_load_on_first_use_and_a_broken_one_is_named(monkeypatch, caplog):
    from pipelines.cli import ENTRY_POINT_GROUP, PluginGroup

    _fake_plugins(monkeypatch, hello="tests.pipelines.test_cli:hello_cmd",
                  broken="no_such_module_lvdun:cmd")
    group = PluginGroup("x", plugins=ENTRY_POINT_GROUP)
    group.add_command(click.Command("own", callback=lambda: click.echo("own")))
    assert group.commands.keys() == {"own"}  # nothing loaded yet
    runner = CliRunner()
    with caplog.at_level(logging.WARNING, logger="pipelines.cli"):
        result = runner.invoke(group, ["--help"])
    assert result.exit_code == 0
    assert "hello" in result.output and "own" in result.output
    assert "broken" not in result.output.split("Commands:")[1]
    assert "no_such_module_lvdun" in caplog.text
    assert runner.invoke(group, ["hello"]).output == "hello\n"
    result = runner.invoke(group, ["broken"])
    assert result.exit_code == 2
    assert "command 'broken' cannot be loaded from no_such_module_lvdun:cmd" in result.output


@click.command("hello")
def hello_cmd() -> None:
    """Say hello (a plugin command of the tests)."""
    click.echo("hello")


def test_one_table_printer_for_lists_and_histories(capsys):
    from pipelines.cli.output import print_table

    frame = pd.DataFrame({"version": [1.0, 2.0], "note": ["现场核实", None]})
    headers = {"version": "版本", "note": "备注"}
    print_table(frame, headers, "矿山 C001 治理进度")
    out = capsys.readouterr().out
    assert "矿山 C001 治理进度 (2)" in out and "│ 2    │" in out and "nan" not in out
    print_table(frame.iloc[:0], headers, "矿山")
    assert capsys.readouterr().out == "矿山: 无\n"
    print_table(frame.iloc[:0], headers, "线索 L001", counted=False, empty=None)
    out = capsys.readouterr().out
    assert out.splitlines()[0].strip() == "线索 L001" and "版本" in out
