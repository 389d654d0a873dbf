from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from pipelines.cli import cli


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)


@pytest.fixture
def ws(tmp_path: Path, zones_file: Path, leads_csv: Path) -> str:
    location = str(tmp_path / "cli.gpkg")
    assert run("-w", location, "ingest", "reserves", str(zones_file)).exit_code == 0
    assert run("-w", location, "ingest", "leads", str(leads_csv), "--crs",
               "EPSG:4490").exit_code == 0
    return location


def test_workspace_before_the_command_and_after_it(ws, tmp_path):
    result = run("-w", ws, "classify")
    assert result.exit_code == 0, result.output
    assert "已分类 6 条线索（核心区" in result.output and "保护区外 1" in result.output
    assert "core_protection" not in result.output
    # the command's own -w wins over the one before it
    result = run("-w", str(tmp_path / "nowhere.gpkg"), "classify", "-w", ws)
    assert result.exit_code == 0 and "已分类 6 条线索" in result.output


def test_english_with_lvdun_lang_en(ws):
    result = run("-w", ws, "classify", env={"LVDUN_LANG": "en"})
    assert result.exit_code == 0
    assert "classified 6 leads (core zone" in result.output
    assert "outside reserves 1" in result.output
    result = run("-w", ws, "classify")  # each run chooses again: Chinese by default
    assert "已分类" in result.output


def test_quiet_silences_the_summary_and_the_progress_bars(ws, monkeypatch):
    from pipelines.cli import progress

    bars = io.StringIO()
    monkeypatch.setattr(progress, "err_console",
                        Console(file=bars, force_terminal=True, width=100))
    result = run("-q", "-w", ws, "classify")
    assert result.exit_code == 0 and result.output == "" and bars.getvalue() == ""
    result = run("-w", ws, "classify")
    assert "已分类" in result.output and "分类" in bars.getvalue()


def test_no_bars_off_a_terminal(ws, monkeypatch):
    from pipelines.cli import progress

    bars = io.StringIO()
    monkeypatch.setattr(progress, "err_console", Console(file=bars, force_terminal=False))
    assert run("-w", ws, "classify").exit_code == 0
    assert bars.getvalue() == ""


@pytest.mark.parametrize(("command", "steps"), [
    (["ingest", "leads", "LEADS", "--crs", "EPSG:4490"], ("读取", "校验", "写入")),
    (["report", "--out", "OUT/r.xlsx"], ("汇总报告", "写出报告")),
    (["map", "--out", "OUT/map.html", "--no-chips"], ("读取图层", "生成地图", "写出地图")),
])
def test_ingest_report_and_map_draw_their_bars_unless_quiet(ws, leads_csv, tmp_path, monkeypatch,
                                                            command, steps):
    from pipelines.cli import progress

    args = [str(leads_csv) if a == "LEADS" else a.replace("OUT", str(tmp_path)) for a in command]
    bars = io.StringIO()
    monkeypatch.setattr(progress, "err_console",
                        Console(file=bars, force_terminal=True, width=100))
    result = run("-w", ws, *args)
    assert result.exit_code == 0, result.output
    assert all(step in bars.getvalue() for step in steps), bars.getvalue()
    bars.truncate(0)
    result = run("-q", "-w", ws, *args)
    assert result.exit_code == 0 and result.output == "" and bars.getvalue() == ""


def test_status_users_and_styles_speak_chinese_or_english(ws):
    en = {"LVDUN_LANG": "en"}
    result = run("-w", ws, "status", "batch-deadline", "2024-H1", "2024-06-30")
    assert result.exit_code == 0 and "批次 2024-H1：上报期限 2024-06-30" in result.output
    result = run("-w", ws, "status", "overdue", "--today", "2025-07-01", env=en)
    assert "overdue leads as of 2025-07-01" in result.output and "逾期" not in result.output
    assert "lead id" in result.output and "deadline" in result.output
    result = run("-w", ws, "status", "overdue", "--today", "2025-07-01")
    assert "截至 2025-07-01 共" in result.output and "线索编号" in result.output
    result = run("-w", ws, "users", "add", "省厅", "--role", "viewer", env=en)
    assert "added user 省厅 (viewer), token valid until" in result.output
    assert "+08:00" in result.output
    result = run("-w", ws, "users", "list")
    assert "查看" in result.output and "到期时间" in result.output
    result = run("-w", ws, "styles", env=en)
    assert "wrote 7 layer styles" in result.output
    result = run("-w", ws, "status", "set", "NOPE", "问题", env=en)
    assert result.exit_code == 1 and "error: " in result.output
    assert "错误：" in run("-w", ws, "status", "set", "NOPE", "问题").output
