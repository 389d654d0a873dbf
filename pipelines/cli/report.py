"""``lvdun report``."""

from __future__ import annotations

from pathlib import Path

import click

from pipelines.cli.options import console, handle_errors, open_ws, workspace_option
from pipelines.report import markdown_report


@click.command("report")
@workspace_option
@click.option("--format", "fmt", type=click.Choice(["md"]), default="md", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write to a file.")
@handle_errors
def report_cmd(workspace: str, fmt: str, out: str | None) -> None:
    """Report leads per reserve and zone and per verification status.

    \b
    Example:
      lvdun report --out 报告.md
    """
    with open_ws(workspace) as ws:
        text = markdown_report(ws)
    if out:
        Path(out).write_text(text, encoding="utf-8")
        console.print(f"report written to {out}")
    else:
        console.print(text, markup=False)
