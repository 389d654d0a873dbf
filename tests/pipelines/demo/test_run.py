"""``lvdun demo`` end to end: inputs, workspace, exports, report and map."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from pipelines.cli import cli


@pytest.mark.slow
def test_demo_end_to_end(tmp_path: Path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "--leads", "400"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "拒绝 0" in result.output
    for line in result.output.splitlines():
        if line.startswith("ingest"):
            assert "拒绝 0" in line, line
    assert (out / "lvdun.gpkg").exists()
    html = (out / "map.html").read_text(encoding="utf-8")
    for layer in ("保护区功能区", "湿地", "关闭矿山", "县界", "线索"):
        assert layer in html, layer
    folders = sorted(p.name for p in (out / "exports").iterdir())
    assert "保护区外" in folders and len(folders) >= 8
    for folder in (out / "exports").iterdir():
        for suffix in ("xlsx", "csv", "gpkg"):
            assert (folder / f"{folder.name}_核查清单.{suffix}").exists()
    total = sum(len(pd.read_csv(f / f"{f.name}_核查清单.csv", encoding="utf-8-sig"))
                for f in (out / "exports").iterdir())
    from pipelines.store import open_workspace

    with open_workspace(out / "lvdun.gpkg", create=False) as ws:
        # a lead lying in several reserves is on each one's list
        members = ws.lead_memberships()
        outside = ws.count("leads") - members["lead_id"].nunique()
        assert total == len(members) + outside >= ws.count("leads")
        assert ws.count("lead_class") == ws.count("leads")
        assert ws.count("lead_history") > ws.count("leads")
    assert "线索总数" in (out / "report.md").read_text(encoding="utf-8")
    assert "合成演示数据" in (out / "inputs" / "README.txt").read_text(encoding="utf-8")
