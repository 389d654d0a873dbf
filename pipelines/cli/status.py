"""``lvdun status set|history``."""

from __future__ import annotations

import click
from rich.table import Table

from layers.schema import STATUS_LABELS, Status
from pipelines.cli.options import console, handle_errors, open_ws, workspace_option
from pipelines.verify import history, set_status


@click.group("status")
def status_group() -> None:
    """Field verification: change a lead's status, show its history."""


@status_group.command("set")
@click.argument("lead_id")
@click.argument("status")
@workspace_option
@click.option("--reason", help="Reason code (required for 非问题 and for reopening).")
@click.option("--note", help="Free text.")
@click.option("--by", help="Who made the change.")
@click.option("--evidence", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Evidence file (photo, document); repeatable.")
@click.option("--version", "expected_version", type=int,
              help="The version you saw; refused as a conflict if it changed meanwhile.")
@click.option("--responsible-unit", help="整改责任单位.")
@click.option("--measures", help="整改措施.")
@click.option("--deadline", help="整改期限, YYYY-MM-DD.")
@handle_errors
def set_cmd(lead_id: str, status: str, workspace: str, reason: str | None, note: str | None,
            by: str | None, evidence: tuple[str, ...], expected_version: int | None,
            responsible_unit: str | None, measures: str | None, deadline: str | None) -> None:
    """Move LEAD_ID to STATUS (code or label: problem / 问题, closed / 已销号 ...).

    \b
    Example:
      lvdun status set C2224262023000123 非问题 --reason 手续合法 --by 张三
      lvdun status set C2224262023000123 整改中 --responsible-unit 安图县林业局 \\
            --deadline 2025-06-30 --by 李四
    """
    with open_ws(workspace) as ws:
        change = set_status(ws, lead_id, status, reason=reason, note=note, by=by,
                            evidence=evidence, expected_version=expected_version,
                            responsible_unit=responsible_unit, measures=measures,
                            deadline=deadline)
    console.print(f"{change.lead_id}: {STATUS_LABELS[change.from_status]} → "
                  f"{STATUS_LABELS[change.to_status]} (version {change.version})")


@status_group.command("history")
@click.argument("lead_id")
@workspace_option
@handle_errors
def history_cmd(lead_id: str, workspace: str) -> None:
    """Show every status change of LEAD_ID, oldest first.

    \b
    Example:
      lvdun status history C2224262023000123
    """
    with open_ws(workspace) as ws:
        rows = history(ws, lead_id)
    table = Table(title=f"线索 {lead_id}")
    for col in ("版本", "时间", "操作人", "原状态", "新状态", "原因", "备注"):
        table.add_column(col)
    rows = rows.astype(object).where(rows.notna(), "")
    for r in rows.itertuples(index=False):
        table.add_row(str(r.version), str(r.at), str(r.by),
                      STATUS_LABELS[Status(r.from_status)] if r.from_status else "",
                      STATUS_LABELS[Status(r.to_status)], str(r.reason), str(r.note))
    console.print(table)
