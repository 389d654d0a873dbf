"""``lvdun review queue|submit|approve|return|sample|recheck|chain``: 逐级审核, 抽查, 验收."""

from __future__ import annotations

import json
from collections.abc import Callable

import click
from rich.markup import escape

from geo.errors import LvdunError
from layers.i18n import _, local_time
from pipelines.cli.options import console, err_console, handle_errors, open_ws, workspace_option
from pipelines.cli.output import print_table
from pipelines.errors import AuthError
from pipelines.levels import LEVEL_LABELS
from pipelines.store import Workspace
from pipelines.users import User, get_user
from pipelines.verify import review as workflow
from pipelines.verify.sample import draw, recheck, redraw

__all__ = ["review_group"]

as_option = click.option("--as", "as_user", required=True, metavar="USER",
                         help="The user of the workspace acting (`lvdun users list`).")
version_option = click.option(
    "--version", "expected_version", type=int,
    help="The version you saw (one lead only); refused as a conflict if it changed.")


@click.group("review")
def review_group() -> None:
    """Level-by-level review: submit verdicts and closures, approve, return, spot-check."""


def _acting(ws: Workspace, name: str) -> User:
    user = get_user(ws, name)
    if not user.active:
        raise AuthError(_("用户 {name} 已于 {at} 吊销").format(name=user.name,
                                                         at=local_time(user.revoked_at)))
    return user


def _each(lead_ids: tuple[str, ...], expected_version: int | None,
          step: Callable[[str, int | None], workflow.ReviewStep]) -> None:
    """Apply ``step`` to every lead, print each outcome; exit 1 when one was refused."""
    if expected_version is not None and len(lead_ids) != 1:
        raise click.UsageError(_("--version 只能用于一条线索"))
    refused = 0
    for lead_id in lead_ids:
        try:
            done = step(lead_id, expected_version)
        except LvdunError as exc:
            refused += 1
            err_console.print(f"[bold red]{_('已拒绝：')}[/]{escape(str(exc))}", soft_wrap=True)
            continue
        console.print(_done(done))
    if refused:
        raise SystemExit(1)


def _done(done: workflow.ReviewStep) -> str:
    """``L003：市级 通过（版本 4）`` for a review step taken."""
    return _("{lead}：{what}（版本 {version}）").format(
        lead=escape(done.lead_id), what=escape(_(done.label)), version=done.version)


_QUEUE_HEADERS = {"lead_id": "线索编号", "county_name": "县", "reserve_name": "保护区",
                  "status_label": "核查状态", "review": "审核状态", "task": "待办",
                  "version": "版本"}


@review_group.command("queue")
@as_option
@workspace_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@handle_errors
def queue_cmd(as_user: str, workspace: str, fmt: str) -> None:
    """List what awaits USER: submissions to review, spot checks, returned leads.

    \b
    Example:
      lvdun review queue --as 某市局
    """
    with open_ws(workspace) as ws:
        user = _acting(ws, as_user)
        rows = workflow.queue(ws, user)
    if fmt == "json":
        click.echo(json.dumps(rows.astype(object).where(rows.notna(), None).to_dict("records"),
                              ensure_ascii=False, indent=2, default=str))
        return
    print_table(rows, _QUEUE_HEADERS, _("{name} 的待办").format(name=user.name),
                empty=_("无待办"))


@review_group.command("submit")
@click.argument("lead_ids", nargs=-1, required=True)
@as_option
@version_option
@click.option("--note", help="Kept in the history.")
@workspace_option
@handle_errors
def submit_cmd(lead_ids: tuple[str, ...], as_user: str, expected_version: int | None,
               note: str | None, workspace: str) -> None:
    """Submit the verdicts of LEAD_IDS (问题 / 非问题), or their rectification for
    acceptance (已整改 → 验收 → 已销号), to the first reviewing level.

    \b
    Example:
      lvdun review submit L001 L002 --as 某保护区
    """
    with open_ws(workspace) as ws:
        user = _acting(ws, as_user)
        _each(lead_ids, expected_version, lambda lead, v: workflow.submit(
            ws, user, lead, note=note, expected_version=v))


@review_group.command("approve")
@click.argument("lead_ids", nargs=-1, required=True)
@as_option
@version_option
@click.option("--note", help="Kept in the history.")
@workspace_option
@handle_errors
def approve_cmd(lead_ids: tuple[str, ...], as_user: str, expected_version: int | None,
                note: str | None, workspace: str) -> None:
    """Approve (通过) the submissions of LEAD_IDS awaiting USER's level.

    \b
    Example:
      lvdun review approve L001 --as 某市局 --note 照片清楚
    """
    with open_ws(workspace) as ws:
        user = _acting(ws, as_user)
        _each(lead_ids, expected_version, lambda lead, v: workflow.approve(
            ws, user, lead, note=note, expected_version=v))


@review_group.command("return")
@click.argument("lead_ids", nargs=-1, required=True)
@as_option
@version_option
@click.option("--reason", required=True, help="Why it goes back (required).")
@workspace_option
@handle_errors
def return_cmd(lead_ids: tuple[str, ...], as_user: str, expected_version: int | None,
               reason: str, workspace: str) -> None:
    """Return (退回) the submissions of LEAD_IDS to their editors, with the reason.

    \b
    Example:
      lvdun review return L001 --as 某市局 --reason 照片不清
    """
    with open_ws(workspace) as ws:
        user = _acting(ws, as_user)
        _each(lead_ids, expected_version, lambda lead, v: workflow.return_lead(
            ws, user, lead, reason=reason, expected_version=v))


@review_group.command("sample")
@as_option
@click.option("--rate", type=float, help="Share drawn from every county, e.g. 0.1.")
@click.option("--seed", type=int, help="The draw's seed: the same seed, the same sample.")
@click.option("--status", "statuses", multiple=True,
              help="Only leads in this status (not_problem / 非问题...); repeatable.")
@click.option("--redraw", "redraw_run", metavar="RUN_ID",
              help="Draw a recorded sample again and compare (no --rate/--seed).")
@workspace_option
@handle_errors
def sample_cmd(as_user: str, rate: float | None, seed: int | None, statuses: tuple[str, ...],
               redraw_run: str | None, workspace: str) -> None:
    """Draw a spot-check sample (抽样巡查) of USER's area, stratified by county.

    \b
    Example:
      lvdun review sample --as 某省厅 --rate 0.1 --seed 7 --status not_problem
      lvdun review sample --as 某省厅 --redraw 20250101T000000000000-abcdef
    """
    with open_ws(workspace) as ws:
        user = _acting(ws, as_user)
        if redraw_run:
            recorded, again = redraw(ws, redraw_run)
            same = _("相同") if recorded == again else _("不同（线索已变化）")
            console.print(_("抽样 {run} 重抽：{n} 条，与记录{same}").format(
                run=escape(redraw_run), n=len(again), same=same))
            console.print(_("，").join(again))
            if recorded != again:
                raise SystemExit(1)
            return
        if rate is None or seed is None:
            raise click.UsageError(_("请给出 --rate 和 --seed（或 --redraw RUN_ID）"))
        sample = draw(ws, user, rate=rate, seed=seed, statuses=statuses)
    counties = _("，").join(f"{k}: {v}" for k, v in sample.by_county.items())
    console.print(escape(_("抽样 {run} （{level} {name}，种子 {seed}，比例 {rate}）："
                           "从 {population} 条中抽取 {n} 条，标记为抽查；各县 {counties}").format(
        run=sample.run_id, level=_(LEVEL_LABELS[user.level]) if user.level else "",
        name=user.name, seed=sample.seed, rate=f"{sample.rate:g}",
        population=sample.population, n=len(sample.leads), counties=counties)))
    click.echo("\n".join(sample.leads))


@review_group.command("recheck")
@click.argument("lead_id")
@as_option
@click.option("--agree/--disagree", required=True, help="Does the recheck agree?")
@click.option("--note", help="What the recheck found (required to disagree).")
@version_option
@workspace_option
@handle_errors
def recheck_cmd(lead_id: str, as_user: str, agree: bool, note: str | None,
                expected_version: int | None, workspace: str) -> None:
    """Record the recheck (复核) of a spot-checked lead; --disagree returns it.

    \b
    Example:
      lvdun review recheck L003 --as 某省厅 --disagree --note 现场仍有建筑
    """
    with open_ws(workspace) as ws:
        user = _acting(ws, as_user)
        done = recheck(ws, user, lead_id, agree=agree, note=note,
                       expected_version=expected_version)
    console.print(_done(done))


@review_group.command("chain")
@click.option("--verdict", help="Levels approving verdicts, lowest first: city,province.")
@click.option("--closure", help="Levels accepting closures (验收), lowest first.")
@workspace_option
@handle_errors
def chain_cmd(verdict: str | None, closure: str | None, workspace: str) -> None:
    """Show or set which levels approve verdicts and closures (default: city, province).

    \b
    Example:
      lvdun review chain --verdict county,city,province --closure city
    """
    def split(text: str | None) -> list[str] | None:
        return None if text is None else [v for v in text.split(",") if v.strip()]

    with open_ws(workspace) as ws:
        chain = (workflow.set_review_chain(ws, verdict=split(verdict), closure=split(closure))
                 if verdict is not None or closure is not None else workflow.review_chain(ws))
    for kind, levels in chain.items():
        shown = " → ".join(_(LEVEL_LABELS[v]) for v in levels) or _("无需审核")
        console.print(f"{_(workflow.KINDS[kind])}{_('：')}{shown}")
