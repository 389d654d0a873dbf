"""Closed and historic mines: restoration progress with history, monitoring due, refusals.

Rules, as the bureaus apply them (DOMAIN.md, Mines):

- Restoration progress goes 未治理 → 治理中 → 已治理 → 验收; steps may be skipped, a step
  back needs a note saying why. Every change updates the mine record and appends to
  ``mine_history`` (who, when, the date it happened, note).
- Mines with valid rights (有效) are monitored twice a year (every 6 months); closed and
  historic mines are inspected quarterly (every 3 months) until their restoration is
  accepted (验收). The last date is the latest of ``mine_checks`` (``lvdun mines
  inspected``) and the 最近巡查日期 column of the mine file.
- A closed mine refuses restoration when its progress has stayed 未治理 for more than N
  months since it closed (关闭日期, or the end of its closing year when only the year is
  known), or since it was sent back to 未治理, or, without any date, since it was recorded
  in the workspace. Its deposit and reclamation fund are listed, as they pay for the work.
- Leads inside a closed or historic mine are flagged for triage (restoration work or
  renewed illegal mining); leads within ``margin_m`` of a valid mine's licence polygon but
  not inside it (or sticking out of it) are flagged as suspected mining beyond the licence
  (越界开采). The licence polygon is the mine record's geometry; the margin is the simple
  stand-in for "the mine's wider area" (default 500 m).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import pandas as pd

from layers.i18n import _
from layers.mines import CLOSED_STATUSES, RESTORATION_PROGRESS, normalize_progress
from pipelines.errors import NotFoundError, TransitionError
from pipelines.store.base import Workspace, new_run_id, now_iso

__all__ = [
    "CHECK_KINDS",
    "CHECK_MONTHS",
    "ProgressChange",
    "due_checks",
    "find_mine",
    "list_mines",
    "mine_history",
    "parse_day",
    "record_check",
    "refusing",
    "set_progress",
]

log = logging.getLogger(__name__)

#: Kinds of visits: twice-yearly monitoring of valid rights, quarterly inspection of closed.
CHECK_KINDS: dict[str, str] = {"monitoring": "监测", "inspection": "巡查"}
CHECK_MONTHS: dict[str, int] = {"monitoring": 6, "inspection": 3}


@dataclass(frozen=True)
class ProgressChange:
    """One applied change of a mine's restoration progress."""

    mine_id: str
    from_progress: str | None
    to_progress: str
    version: int
    at: str
    on_date: str
    by: str


def parse_day(value: str | date | None, *, what: str = "date") -> date:
    """Return a date from ``YYYY-MM-DD`` (today when None).

    Raises
    ------
    TransitionError
        When the text is not a date.
    """
    if value is None:
        return date.today()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise TransitionError(_("{what} {value!r} 不是日期：写成 YYYY-MM-DD").format(
            what=what, value=value)) from None


# -- records ---------------------------------------------------------------------------
def list_mines(ws: Workspace, *, status: str | None = None) -> pd.DataFrame:
    """Return mine records without geometry, optionally of one status (关闭/历史遗留/有效)."""
    frame = pd.DataFrame(ws.read_features("mines").drop(columns="geometry"))
    if status is not None:
        frame = frame[frame["mine_status"] == status]
    return frame.reset_index(drop=True)


def find_mine(ws: Workspace, key: str) -> pd.Series:
    """Return the mine whose 许可证号 (``mine_id``) or, failing that, name is ``key``.

    Raises
    ------
    NotFoundError
        When no mine, or several mines of that name, match.
    """
    mines = list_mines(ws)
    hit = mines[mines["mine_id"] == key]
    if hit.empty:
        hit = mines[mines["mine_name"] == key]
    if len(hit) > 1:
        raise NotFoundError(_("有 {n} 座矿山名为 {key!r}：请用许可证号，{ids} 之一").format(
            n=len(hit), key=key, ids=", ".join(hit["mine_id"])))
    if hit.empty:
        raise NotFoundError(_("工作空间 {location} 中没有矿山 {key!r}（许可证号或名称）；"
                              "`lvdun mines list` 列出全部").format(key=key,
                                                                location=ws.location))
    return hit.iloc[0]


def set_progress(
    ws: Workspace,
    key: str,
    progress: str,
    *,
    by: str | None = None,
    note: str | None = None,
    on: str | date | None = None,
) -> ProgressChange:
    """Set a mine's restoration progress and append the change to ``mine_history``.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    key : str
        The mine's 许可证号 or name.
    progress : str
        未治理, 治理中, 已治理 or 验收 (or a known spelling: 已验收, 修复中 ...).
    by, note : str or None
        Who, and why; a step back (e.g. 已治理 → 治理中) needs a note.
    on : str, datetime.date or None
        The date the progress was reached (default today), ``YYYY-MM-DD``.

    Raises
    ------
    NotFoundError, TransitionError
    """
    target = normalize_progress(progress)
    if target is None:
        raise TransitionError(_("未知的治理进度 {progress!r}；可用：{known}").format(
            progress=progress, known=", ".join(RESTORATION_PROGRESS)))
    day = parse_day(on, what="--date")
    with ws.transaction():
        mine = find_mine(ws, key)
        mine_id = str(mine["mine_id"])
        current = normalize_progress(mine["restoration_progress"])
        if current == target:
            raise TransitionError(_("矿山 {mine}：治理进度已是{target}").format(
                mine=mine_id, target=target))
        back = current is not None and (RESTORATION_PROGRESS.index(target)
                                        < RESTORATION_PROGRESS.index(current))
        if back and not (note and note.strip()):
            raise TransitionError(_("矿山 {mine}：从{current}退回{target}需要说明原因（--note）"
                                    ).format(mine=mine_id, current=current, target=target))
        version = ws.count_equal("mine_history", "mine_id", mine_id) + 1
        at, who = now_iso(), by or "unknown"
        ws.set_mine_progress(mine_id, target)
        ws.append_rows("mine_history", pd.DataFrame([{
            "event_id": new_run_id(), "mine_id": mine_id, "version": version, "at": at,
            "on_date": day.isoformat(), "by": who, "from_progress": current,
            "to_progress": target, "note": note,
        }]))
    log.info("mine %s: %s -> %s (v%d)", mine_id, current, target, version)
    return ProgressChange(mine_id, current, target, version, at, day.isoformat(), who)


def mine_history(ws: Workspace, key: str) -> pd.DataFrame:
    """Return a mine's progress changes, oldest first.

    Raises
    ------
    NotFoundError
        When the mine does not exist.
    """
    mine_id = str(find_mine(ws, key)["mine_id"])
    return ws.read_table_equal("mine_history", "mine_id", mine_id, order_by="version")


def record_check(
    ws: Workspace,
    key: str,
    *,
    on: str | date | None = None,
    kind: str | None = None,
    by: str | None = None,
    note: str | None = None,
) -> dict[str, str | None]:
    """Record a monitoring or inspection visit of a mine on date ``on`` (default today).

    ``kind`` is ``monitoring`` (监测) or ``inspection`` (巡查); by default monitoring for
    valid rights, inspection for closed and historic mines.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    key : str
        The mine's 许可证号 or name.
    on : str, datetime.date or None
        The day of the visit (default today), ``YYYY-MM-DD``; not in the future.
    kind : {"monitoring", "inspection"}, optional
        The kind of visit; default by the mine's status (see above).
    by, note : str, optional
        Who visited, and free text.

    Raises
    ------
    NotFoundError, TransitionError
        Unknown mine; unknown kind; a date that is not a date or lies in the future.
    """
    day = parse_day(on, what="--date")
    if day > date.today():
        raise TransitionError(_("--date {day} 在今天之后").format(day=day.isoformat()))
    mine = find_mine(ws, key)
    kind = kind or ("monitoring" if mine["mine_status"] == "有效" else "inspection")
    if kind not in CHECK_KINDS:
        known = ", ".join(f"{k} ({v})" for k, v in CHECK_KINDS.items())
        raise TransitionError(_("未知的检查类型 {kind!r}；可用：{known}").format(
            kind=kind, known=known))
    row = {"check_id": new_run_id(), "mine_id": str(mine["mine_id"]),
           "on_date": day.isoformat(), "kind": kind, "by": by or "unknown", "note": note,
           "recorded_at": now_iso()}
    with ws.transaction():
        ws.append_rows("mine_checks", pd.DataFrame([row]))
    return row


# -- due and refusing ------------------------------------------------------------------
def due_checks(
    ws: Workspace, *, today: str | date | None = None, within_days: int = 0
) -> pd.DataFrame:
    """Return mines whose monitoring (有效, 6-monthly) or inspection (closed, quarterly) is due.

    A mine is due when its last visit plus the interval falls on or before ``today`` plus
    ``within_days``, or when no visit is known at all. Closed mines whose restoration is
    accepted (验收) and mines without a status are left out.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    today : str, datetime.date or None
        The reference date (default today).
    within_days : int
        Also list the visits due within this many days after ``today``.

    Returns
    -------
    pandas.DataFrame
        ``mine_id, mine_name, mine_status, restoration_progress, kind, kind_label,
        every_months, last_date, due_date, days_overdue`` (negative: days left), never
        visited first, then the most overdue.
    """
    day = parse_day(today, what="--today")
    mines = list_mines(ws)
    last = _last_checks(ws, mines)
    rows = []
    for m in mines.itertuples(index=False):
        if m.mine_status == "有效":
            kind = "monitoring"
        elif m.mine_status in CLOSED_STATUSES and m.restoration_progress != "验收":
            kind = "inspection"
        else:
            continue
        months = CHECK_MONTHS[kind]
        seen = last.get(str(m.mine_id))
        due = None if seen is None else (pd.Timestamp(seen) + pd.DateOffset(months=months)).date()
        overdue = None if due is None else (day - due).days
        if overdue is not None and overdue < -within_days:
            continue
        rows.append({"mine_id": m.mine_id, "mine_name": m.mine_name,
                     "mine_status": m.mine_status, "restoration_progress": m.restoration_progress,
                     "kind": kind, "kind_label": CHECK_KINDS[kind], "every_months": months,
                     "last_date": seen, "due_date": None if due is None else due.isoformat(),
                     "days_overdue": overdue})
    cols = ["mine_id", "mine_name", "mine_status", "restoration_progress", "kind",
            "kind_label", "every_months", "last_date", "due_date", "days_overdue"]
    frame = pd.DataFrame(rows, columns=cols)
    if frame.empty:
        return frame
    never = frame["last_date"].isna()
    frame = frame.assign(_never=~never, _od=-frame["days_overdue"].fillna(0))
    return frame.sort_values(["_never", "_od", "mine_id"]).drop(
        columns=["_never", "_od"]).reset_index(drop=True)


def _last_checks(ws: Workspace, mines: pd.DataFrame) -> dict[str, str]:
    """Latest known visit per mine: ``mine_checks`` or the file's 最近巡查日期."""
    last: dict[str, str] = {}
    for mine_id, day in zip(mines["mine_id"], mines["last_checked"], strict=True):
        if isinstance(day, str) and day:
            last[str(mine_id)] = day
    checks = ws.read_table("mine_checks")
    for mine_id, day in checks.groupby("mine_id")["on_date"].max().items():
        last[str(mine_id)] = max(day, last.get(str(mine_id), ""))
    return last


def refusing(
    ws: Workspace,
    *,
    months: int,
    today: str | date | None = None,
    include_historic: bool = False,
) -> pd.DataFrame:
    """Return closed mines whose restoration has stayed 未治理 for more than ``months``.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    months : int
        How long 未治理 is tolerated.
    today : str, datetime.date or None
        The reference date (default today).
    include_historic : bool
        Also list historic mines (历史遗留), whose restoration falls to the government.

    Returns
    -------
    pandas.DataFrame
        ``mine_id, mine_name, mine_status, responsible_party, closed_year, since,
        since_basis, months_untreated``, the deposit and fund amounts in 元 with what is
        left; the longest first.
    """
    day = parse_day(today, what="--today")
    statuses = CLOSED_STATUSES if include_historic else ("关闭",)
    mines = list_mines(ws)
    mines = mines[mines["mine_status"].isin(statuses) & (mines["restoration_progress"] ==
                                                        "未治理")]
    history = ws.read_table("mine_history")
    back = history[history["to_progress"] == "未治理"].groupby("mine_id")["on_date"].max()
    first_seen = _first_seen(ws, history)
    rows = []
    for m in mines.itertuples(index=False):
        since, basis = _since(m, back.get(m.mine_id), first_seen.get(str(m.mine_id)))
        if since is None or (pd.Timestamp(since) + pd.DateOffset(months=months)).date() >= day:
            continue
        elapsed = (day.year - since.year) * 12 + day.month - since.month - (day.day < since.day)
        rows.append({
            "mine_id": m.mine_id, "mine_name": m.mine_name, "mine_status": m.mine_status,
            "responsible_party": m.responsible_party, "closed_year": m.closed_year,
            "since": since.isoformat(), "since_basis": basis, "months_untreated": elapsed,
            "deposit_yuan": m.deposit_yuan, "deposit_used_yuan": m.deposit_used_yuan,
            "deposit_left_yuan": _left(m.deposit_yuan, m.deposit_used_yuan),
            "reclamation_fund_yuan": m.reclamation_fund_yuan,
            "reclamation_used_yuan": m.reclamation_used_yuan,
            "reclamation_left_yuan": _left(m.reclamation_fund_yuan, m.reclamation_used_yuan),
        })
    cols = ["mine_id", "mine_name", "mine_status", "responsible_party", "closed_year", "since",
            "since_basis", "months_untreated", "deposit_yuan", "deposit_used_yuan",
            "deposit_left_yuan", "reclamation_fund_yuan", "reclamation_used_yuan",
            "reclamation_left_yuan"]
    frame = pd.DataFrame(rows, columns=cols)
    return frame.sort_values(["months_untreated", "mine_id"], ascending=[False, True]
                             ).reset_index(drop=True)


def _left(total: object, used: object) -> float | None:
    if total is None or pd.isna(total):
        return None
    return float(total) - (0.0 if used is None or pd.isna(used) else float(used))


def _first_seen(ws: Workspace, history: pd.DataFrame) -> dict[str, str]:
    """When each mine was first recorded: its earliest history, else its ingest run."""
    runs = ws.runs().set_index("run_id")["started_at"]
    seen: dict[str, str] = {}
    for m in list_mines(ws).itertuples(index=False):
        if m.run_id in runs.index:
            seen[str(m.mine_id)] = str(runs[m.run_id])[:10]
    for mine_id, at in history.groupby("mine_id")["at"].min().items():
        seen[str(mine_id)] = min(str(at)[:10], seen.get(str(mine_id), "9999"))
    return seen


def _since(mine: object, back: str | None, first_seen: str | None) -> tuple[date | None, str]:
    """The date 未治理 counts from, and what it rests on."""
    closed_date = getattr(mine, "closed_date", None)
    closed_year = getattr(mine, "closed_year", None)
    if isinstance(closed_date, str) and closed_date:
        since, basis = date.fromisoformat(closed_date[:10]), "关闭日期"
    elif closed_year is not None and not pd.isna(closed_year):
        since, basis = date(int(closed_year), 12, 31), "关闭年份（按年末计）"
    elif first_seen:
        since, basis = date.fromisoformat(first_seen), "入库日期（无关闭日期）"
    else:
        return None, ""
    if back and date.fromisoformat(back[:10]) > since:
        since, basis = date.fromisoformat(back[:10]), "退回未治理日期"
    return since, basis
