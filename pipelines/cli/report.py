"""``lvdun report``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from layers.i18n import _
from pipelines.cli.options import console, handle_errors, open_ws, summary, workspace_option
from pipelines.cli.progress import progress_bar
from pipelines.publish.report import FORMATS, ONLY

__all__ = ["report_cmd"]


@click.command("report")
@workspace_option
@click.option("--batch", help="Only leads of this monitoring batch.")
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="md, html (charts embedded) or xlsx; default from --out, else md.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file.")
@click.option("--since", "since", metavar="RUN",
              help="Add what changed since run RUN (id or unique prefix), per reserve.")
@click.option("--only", type=click.Choice(ONLY),
              help="Only leads in wetlands (疑似侵占湿地) or in/near mines.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]),
              help="Reference day for deadlines and mine visits (default: today).")
@click.option("--refusing-months", type=click.IntRange(min=0), default=12, show_default=True,
              help="List closed mines 未治理 for longer than this.")
@click.option("--no-charts", is_flag=True, help="Leave the charts out of html/xlsx.")
@handle_errors
def report_cmd(workspace: str, batch: str | None, fmt: str | None, out: str | None,
               since: str | None, only: str | None, today: datetime | None,
               refusing_months: int, no_charts: bool) -> None:
    """Report leads by reserve, zone, activity, county and status; verification progress
    against batch deadlines; overdue leads; wetlands; mines; changes since a run.

    \b
    Example:
      lvdun report --format html --out 报告.html
      lvdun report --batch 2024-H1 --format xlsx --out 2024上半年.xlsx
      lvdun report --since 20250301T080000 --out 变化.md
      lvdun report --only wetlands --format xlsx --out 侵占湿地.xlsx
    """
    if fmt is None:
        suffix = Path(out).suffix.lower().lstrip(".") if out else ""
        fmt = {"htm": "html", "markdown": "md"}.get(suffix, suffix)
        fmt = fmt if fmt in FORMATS else "md"
    if fmt == "xlsx" and not out:
        raise click.UsageError(_("--format xlsx 需要 --out FILE.xlsx"))
    from pipelines.publish.report import build_report, render_markdown, write_report

    with open_ws(workspace) as ws, progress_bar() as progress:
        report = build_report(ws, batch=batch, only=only, since=since,
                              today=today.date() if today else None,
                              refusing_months=refusing_months,
                              charts=fmt != "md" and not no_charts, progress=progress)
        if out:
            path = write_report(report, out, fmt, progress=progress)
    if out:
        summary(_("报告已写入 {path}").format(path=path))
    elif fmt == "md":
        console.print(render_markdown(report), markup=False)
    else:
        from pipelines.publish.report import render_html

        click.echo(render_html(report))
