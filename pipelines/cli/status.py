"""``lvdun status set|history|overdue|batch-deadline|import``."""

from __future__ import annotations

import json
from datetime import date, datetime

import click
from rich.markup import escape

from layers.i18n import _, label
from pipelines.cli.options import (
    console,
    handle_errors,
    open_ws,
    settings,
    summary,
    workspace_option,
)
from pipelines.levels import LEVEL_LABELS, Level

# The jobs (pandas, geopandas, the store) are imported inside each command: `lvdun status
# --help` and the other commands' runs do not pay for them.

__all__ = ["status_group"]


@click.group("status")
def status_group() -> None:
    """Field verification: change a lead's status, show its history, deadlines, ledgers."""


@status_group.command("set")
@click.argument("lead_id")
@click.argument("status")
@workspace_option
@click.option("--reason", help="Reason code (required for 非问题 and for reopening).")
@click.option("--note", help="Free text; also becomes the lead's 核查意见 in the ledger.")
@click.option("--by", help="Who made the change.")
@click.option("--evidence", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Evidence file (photo, document), copied into the workspace; repeatable. "
                   "Photos' EXIF position and time are compared with the lead; one farther "
                   "than $LVDUN_PHOTO_WARN_M (500 m) is flagged.")
@click.option("--version", "expected_version", type=int,
              help="The version you saw; refused as a conflict if it changed meanwhile.")
@click.option("--responsible-unit", help="整改责任单位 (needed to enter 整改中).")
@click.option("--measures", help="整改措施.")
@click.option("--deadline", help="整改期限, YYYY-MM-DD (needed to enter 整改中).")
@handle_errors
def set_cmd(lead_id: str, status: str, workspace: str, reason: str | None, note: str | None,
            by: str | None, evidence: tuple[str, ...], expected_version: int | None,
            responsible_unit: str | None, measures: str | None, deadline: str | None) -> None:
    """Move LEAD_ID to STATUS (code or label: problem / 问题, closed / 已销号 ...).

    \b
    Example:
      lvdun status set C2224262023000123 非问题 --reason 手续合法 --by 张三
      lvdun status set C2224262023000123 整改中 --responsible-unit 安图县林业局 \\
            --deadline 2025-06-30 --by 李四 --evidence 现场照片.jpg
    """
    from pipelines.verify.evidence import evidence_summary
    from pipelines.verify.status import set_status

    with open_ws(workspace) as ws:
        change = set_status(ws, lead_id, status, reason=reason, note=note, by=by,
                            evidence=evidence, expected_version=expected_version,
                            responsible_unit=responsible_unit, measures=measures,
                            deadline=deadline, opinion=note,
                            photo_warn_m=settings().photo_warn_m)
    summary(f"{change.lead_id}: {label(change.from_status)} → {label(change.to_status)} "
            f"({_('版本')} {change.version})")
    for entry in change.evidence:
        console.print("  " + _("证据 {evidence}").format(evidence=escape(evidence_summary(entry))))


_HISTORY_HEADERS = {"version": "版本", "at": "时间", "by": "操作人", "from": "原状态",
                    "to": "新状态", "review": "审核", "reason": "原因", "note": "备注",
                    "evidence": "证据"}
_DECISIONS = {"submit": "提交", "approve": "通过", "return": "退回",
              "recheck_agree": "抽查同意", "recheck_disagree": "抽查不同意"}


@status_group.command("history")
@click.argument("lead_id")
@workspace_option
@handle_errors
def history_cmd(lead_id: str, workspace: str) -> None:
    """Show every change of LEAD_ID, oldest first, with its evidence files.

    \b
    Example:
      lvdun status history C2224262023000123
    """
    import pandas as pd

    from pipelines.cli.output import print_table
    from pipelines.verify.evidence import evidence_summary
    from pipelines.verify.status import history

    with open_ws(workspace) as ws:
        rows = history(ws, lead_id)
    files = [json.loads(e) if isinstance(e, str) and e else [] for e in rows["evidence"]]
    shown = pd.DataFrame({
        "version": rows["version"], "at": rows["at"], "by": rows["by"],
        "from": [label(s) if isinstance(s, str) and s else "" for s in rows["from_status"]],
        "to": [label(s) for s in rows["to_status"]],
        "review": [_review_cell(level, decision) for level, decision in
                   zip(rows["review_level"], rows["decision"], strict=True)],
        "reason": rows["reason"], "note": rows["note"],
        "evidence": [str(len(f)) if f else "" for f in files],
    })
    print_table(shown, _HISTORY_HEADERS, _("线索 {lead_id}").format(lead_id=lead_id),
                counted=False, empty=None)
    for version, entries in zip(rows["version"], files, strict=True):
        for entry in entries:
            console.print(_("版本 {version} 证据：{evidence}").format(
                version=version, evidence=escape(evidence_summary(entry))))


def _review_cell(level: object, decision: object) -> str:
    """``市级 通过`` for a review step of the history, blank for other changes."""
    if not isinstance(decision, str) or not decision:
        return ""
    try:
        where = _(LEVEL_LABELS[Level(level)]) if isinstance(level, str) else ""
    except ValueError:  # an editor's or admin's submission
        where = ""
    return f"{where} {_(_DECISIONS.get(decision, decision))}".strip()


@status_group.command("overdue")
@workspace_option
@click.option("--by", "group_by", type=click.Choice(["reserve", "county"]),
              help="Group the list per reserve or per county.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]),
              help="Judge deadlines as of this day (default: today).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@handle_errors
def overdue_cmd(workspace: str, group_by: str | None, today: datetime | None, fmt: str) -> None:
    """List leads past their rectification deadline or their batch's reporting deadline.

    A lead is overdue when it is 问题/整改中 after its 整改期限, or still 待核查/核查中
    after the reporting deadline of its batch (see `lvdun status batch-deadline`).

    \b
    Example:
      lvdun status overdue --by county
      lvdun status overdue --today 2025-07-01 --format json
    """
    from pipelines.verify.deadlines import overdue

    day = today.date() if today is not None else date.today()
    with open_ws(workspace) as ws:
        rows = overdue(ws, today=day, by=group_by)
    if fmt == "json":
        groups = rows["group"].value_counts(sort=False).to_dict() if group_by else {}
        payload = {"today": day.isoformat(), "by": group_by, "count": len(rows),
                   "groups": {str(k): int(v) for k, v in groups.items()},
                   "leads": rows.to_dict(orient="records")}
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
        return
    if rows.empty:
        console.print(_("截至 {day} 没有逾期线索").format(day=day.isoformat()))
        return
    from pipelines.cli.output import print_table

    rows = rows.assign(kind_shown=[_(str(k)) for k in rows["kind_label"]])
    headers = {"lead_id": "线索编号", "reserve_name": "保护区", "status": "状态",
               "kind_shown": "逾期类型", "due": "期限", "days_overdue": "逾期天数",
               "responsible_unit": "责任单位"}
    if group_by == "reserve":
        del headers["reserve_name"]
    sets = rows.groupby("group", sort=False) if group_by else [(None, rows)]
    for group, part in sets:
        title = f"{_('逾期线索')} {group}" if group else _("逾期线索")
        print_table(part, headers, title)
    console.print(_("截至 {day} 共 {n} 条逾期线索").format(day=day.isoformat(), n=len(rows)))


@status_group.command("batch-deadline")
@click.argument("batch")
@click.argument("deadline")
@workspace_option
@click.option("--note", help="Where the deadline comes from (e.g. the notice's number).")
@click.option("--by", help="Who set it.")
@handle_errors
def batch_deadline_cmd(batch: str, deadline: str, workspace: str, note: str | None,
                       by: str | None) -> None:
    """Give monitoring batch BATCH a reporting deadline DEADLINE (YYYY-MM-DD).

    Leads of the batch still 待核查/核查中 after that day are listed by
    `lvdun status overdue`.

    \b
    Example:
      lvdun status batch-deadline 2024-H1 2024-06-30 --note "吉环办〔2024〕12号"
    """
    from pipelines.verify.deadlines import set_batch_deadline

    with open_ws(workspace) as ws:
        due = set_batch_deadline(ws, batch, deadline, note=note, by=by)
    console.print(_("批次 {batch}：上报期限 {due}").format(batch=escape(batch), due=due))


@status_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@workspace_option
@click.option("--by", help="Who filled in the ledger (recorded in the history).")
@click.option("--dry-run", is_flag=True, help="Judge every row and report; change nothing.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@handle_errors
def import_cmd(file: str, workspace: str, by: str | None, dry_run: bool, fmt: str) -> None:
    """Read a filled-in ledger (.xlsx or .csv from `lvdun export`) back into the workspace.

    Only the editable columns count: 核查状态, 原因, 整改责任单位, 整改措施, 整改期限,
    备注(核查意见); edits to other columns are reported and ignored, and a blank cell
    keeps the stored value. Rows may be re-sorted or deleted and columns added.

    Each row is judged on its own, with the rules of `lvdun status set`: legal rows are
    applied, the others are reported (illegal transition, conflict with a change made
    since the export, unknown lead, bad value, scope). A ledger changes only the leads of
    the reserve (or county) it was exported for: a row of another lead, pasted or typed
    in, is refused (scope), and a CSV holding rows of several reserves' ledgers changes
    nothing. Conflicts are judged by the versions the export recorded, not by the hidden
    版本 cell. A jump such as 待核查 → 整改中 is applied
    step by step along its only forward path (待核查 → 问题 → 整改中); a jump that needs
    a reopening is refused. Importing the same file again changes nothing. A file that is
    not a ledger of this workspace is refused whole. Exit code 1 when a row was refused
    (the applied rows stay applied: fix the others and import again).

    \b
    Example:
      lvdun status import exports/甲保护区/甲保护区_核查清单.xlsx --by 张三 --dry-run
      lvdun status import exports/甲保护区/甲保护区_核查清单.xlsx --by 张三
    """
    from pipelines.cli.output import print_import_rows
    from pipelines.verify.ledger_import import import_ledger

    with open_ws(workspace) as ws:
        report = import_ledger(ws, file, by=by, dry_run=dry_run)
    if fmt == "json":
        payload = {
            "file": str(report.path), "dry_run": report.dry_run, "run_id": report.run_id,
            "counts": {o: report.count(o) for o in ("applied", "unchanged", "refused")},
            "rows": [vars(r) for r in report.rows],
            "not_in_file": report.not_in_file, "extra_columns": report.extra_columns,
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print_import_rows(report.rows)
        if report.extra_columns:
            console.print(_("台账之外的列，已忽略：{columns}").format(
                columns=escape(_("，").join(report.extra_columns))))
        if report.not_in_file:
            console.print(_("导出的线索中有 {n} 条在文件里没有行（它们不变）：{leads}").format(
                n=len(report.not_in_file), leads=escape(_("，").join(report.not_in_file[:20]))))
        summary(f"[bold]{escape(report.path.name)}: {escape(report.summary())}[/]")
    if report.count("refused"):
        raise SystemExit(1)
