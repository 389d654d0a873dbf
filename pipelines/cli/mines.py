"""``lvdun mines list|progress|history|inspected|due|refusing``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click
import pandas as pd
from rich.markup import escape

from layers.i18n import _
from layers.mines import MINE_STATUSES, RESTORATION_PROGRESS
from pipelines.cli.options import handle_errors, open_ws, summary, workspace_option
from pipelines.cli.output import print_table
from pipelines.publish.report.mines import DUE_COLUMNS, REFUSING_COLUMNS
from pipelines.verify.mines import (
    CHECK_KINDS,
    due_checks,
    list_mines,
    mine_history,
    record_check,
    refusing,
    set_progress,
)

__all__ = ["mines_group"]

_FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "json"]),
                       default="table", show_default=True)
_TODAY = click.option("--today", type=click.DateTime(["%Y-%m-%d"]),
                      help="Judge as of this day (default: today).")
_LIST_COLUMNS = {"mine_id": "许可证号", "mine_name": "矿山名称", "mineral": "矿种",
                 "method": "开采方式", "mine_status": "状态", "closed_year": "关闭年份",
                 "restoration_mode": "修复模式", "restoration_progress": "治理进度",
                 "responsible_party": "责任主体", "last_checked": "最近巡查"}


@click.group("mines")
def mines_group() -> None:
    """Closed and historic mines: restoration progress, monitoring and inspections due,
    mines refusing restoration."""


def _show(frame: pd.DataFrame, headers: dict[str, str], title: str, fmt: str,
          extra: dict[str, Any] | None = None) -> None:
    if fmt == "json":
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        click.echo(json.dumps({**(extra or {}), "count": len(frame), "mines": records},
                              ensure_ascii=False, indent=2, default=str))
        return
    print_table(frame, headers, title)


@mines_group.command("list")
@workspace_option
@click.option("--status", type=click.Choice(MINE_STATUSES), help="Only mines of this status.")
@_FORMAT
@handle_errors
def list_cmd(workspace: str, status: str | None, fmt: str) -> None:
    """List mine records.

    \b
    Example:
      lvdun mines list --status 关闭
    """
    with open_ws(workspace) as ws:
        frame = list_mines(ws, status=status)
    _show(frame, _LIST_COLUMNS, _("矿山"), fmt)


@mines_group.command("progress")
@click.argument("licence")
@click.argument("state", type=click.Choice(RESTORATION_PROGRESS))
@workspace_option
@click.option("--by", help="Who reports the progress.")
@click.option("--note", help="Why; required when going back (e.g. 已治理 → 治理中).")
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]),
              help="When the progress was reached (default: today).")
@handle_errors
def progress_cmd(licence: str, state: str, workspace: str, by: str | None, note: str | None,
                 on: datetime | None) -> None:
    """Set the restoration progress of mine LICENCE (许可证号 or name) to STATE.

    \b
    Example:
      lvdun mines progress C2206232013146004250542 治理中 --by 张三 --note 已进场施工
    """
    with open_ws(workspace) as ws:
        change = set_progress(ws, licence, state, by=by, note=note,
                              on=on.date() if on else None)
    summary(escape(_("{mine}：{before} → {after}，日期 {on}（第 {version} 次变更）").format(
        mine=change.mine_id,
        before=_(change.from_progress) if change.from_progress else _("（空）"),
        after=_(change.to_progress), on=change.on_date, version=change.version)))


@mines_group.command("history")
@click.argument("licence")
@workspace_option
@handle_errors
def history_cmd(licence: str, workspace: str) -> None:
    """Show the restoration progress changes of mine LICENCE, oldest first.

    \b
    Example:
      lvdun mines history C2206232013146004250542
    """
    with open_ws(workspace) as ws:
        rows = mine_history(ws, licence)
    headers = {"version": "序号", "on_date": "日期", "from_progress": "原进度",
               "to_progress": "新进度", "by": "报告人", "note": "说明", "at": "记录时间"}
    _show(rows, headers, _("矿山 {licence} 治理进度").format(licence=licence), "table")


@mines_group.command("inspected")
@click.argument("licence")
@workspace_option
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]),
              help="Day of the visit (default: today).")
@click.option("--kind", type=click.Choice(list(CHECK_KINDS)),
              help="monitoring (监测, valid rights) or inspection (巡查, closed); "
                   "default from the mine's status.")
@click.option("--by", help="Who visited.")
@click.option("--note", help="What was found.")
@handle_errors
def inspected_cmd(licence: str, workspace: str, on: datetime | None, kind: str | None,
                  by: str | None, note: str | None) -> None:
    """Record a monitoring or inspection visit of mine LICENCE.

    \b
    Example:
      lvdun mines inspected C2206232013146004250542 --date 2025-03-15 --by 李四
    """
    with open_ws(workspace) as ws:
        row = record_check(ws, licence, on=on.date() if on else None, kind=kind, by=by,
                           note=note)
    summary(escape(_("{mine}：已记录 {on} 的{kind}").format(
        mine=row["mine_id"], on=row["on_date"], kind=_(CHECK_KINDS[str(row["kind"])]))))


@mines_group.command("due")
@workspace_option
@_TODAY
@click.option("--within", "within_days", type=click.IntRange(min=0), default=0,
              show_default=True, help="Also list visits due within this many days.")
@_FORMAT
@handle_errors
def due_cmd(workspace: str, today: datetime | None, within_days: int, fmt: str) -> None:
    """List mines due for twice-yearly monitoring (valid rights) or quarterly inspection
    (closed and historic, until restoration is accepted).

    \b
    Example:
      lvdun mines due --today 2025-07-01 --within 30
    """
    with open_ws(workspace) as ws:
        rows = due_checks(ws, today=today.date() if today else None, within_days=within_days)
    _show(rows, DUE_COLUMNS, _("应监测/巡查矿山"), fmt)


@mines_group.command("refusing")
@workspace_option
@click.option("--months", type=click.IntRange(min=0), required=True,
              help="未治理 for more than this many months since closing.")
@_TODAY
@click.option("--historic", is_flag=True, help="Also list historic mines (历史遗留).")
@_FORMAT
@handle_errors
def refusing_cmd(workspace: str, months: int, today: datetime | None, historic: bool,
                 fmt: str) -> None:
    """List closed mines whose restoration has stayed 未治理 for more than --months,
    with their deposits and reclamation funds (元).

    \b
    Example:
      lvdun mines refusing --months 12
    """
    with open_ws(workspace) as ws:
        rows = refusing(ws, months=months, today=today.date() if today else None,
                        include_historic=historic)
    headers = {k: v.replace("(万元)", "(元)") for k, v in REFUSING_COLUMNS.items()}
    _show(rows, headers, _("关闭超过 {months} 个月未治理").format(months=months), fmt,
          {"months": months})
