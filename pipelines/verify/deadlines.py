"""Deadlines: a batch's reporting deadline, and the leads past a deadline (逾期).

A rectification deadline (整改期限) belongs to a lead's record (:mod:`pipelines.verify.status`); a
reporting deadline (上报期限) to a monitoring batch, e.g. the 494 points due by June 30.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

import pandas as pd

from layers.i18n import LOCAL_TZ, _
from layers.schema import NO_COUNTY, OUTSIDE_NAME, Status
from pipelines.errors import NotFoundError, RecordError, TransitionError
from pipelines.store.base import Workspace, now_iso
from pipelines.verify.status import _text, parse_date

__all__ = ["OVERDUE_KINDS", "batch_deadlines", "overdue", "set_batch_deadline"]

log = logging.getLogger(__name__)

#: Statuses whose rectification deadline (整改期限) can pass.
_RECTIFICATION_OPEN = (Status.PROBLEM, Status.RECTIFYING)
#: Statuses that a batch's reporting deadline (上报期限) finds not reported yet.
_REPORT_OPEN = (Status.PENDING, Status.IN_FIELD)
OVERDUE_KINDS: dict[str, str] = {"rectification": "整改逾期", "report": "核查上报逾期"}
#: Group names for leads without a reserve / county (as the exports name them).
_NO_RESERVE, _NOT_CLASSIFIED, _NO_COUNTY = OUTSIDE_NAME, "未分类", NO_COUNTY


def set_batch_deadline(
    ws: Workspace, batch: str, deadline: str | date, *, note: str | None = None,
    by: str | None = None,
) -> str:
    """Give a monitoring batch a reporting deadline (e.g. the 494 points due by June 30).

    Parameters
    ----------
    ws : Workspace
        The workspace.
    batch : str
        The monitoring batch; at least one lead must belong to it.
    deadline : str or datetime.date
        The reporting deadline (上报期限), ``YYYY-MM-DD``.
    note, by : str, optional
        Free text kept with the deadline, and who set it.

    Returns
    -------
    str
        The deadline as ISO date.

    Raises
    ------
    NotFoundError
        When no lead belongs to ``batch`` (the message lists the batches).
    RecordError
        When ``deadline`` is not a date.
    """
    due = parse_date(deadline, what="上报期限")
    if due is None:
        raise RecordError(_("上报期限为空：请给出日期，例如 2025-06-30"))
    with ws.transaction():
        if not ws.count_equal("leads", "batch", batch):
            names = ", ".join(str(b) for b in ws.lead_batches()) or _("无")
            raise NotFoundError(_("没有线索属于批次 {batch!r}；已有批次：{names}").format(
                batch=batch, names=names))
        ws.upsert_rows("batches", pd.DataFrame([{
            "batch": batch, "report_deadline": due, "note": _text(note),
            "updated_at": now_iso(), "updated_by": by or "unknown",
        }]))
    log.info("batch %s: reporting deadline %s", batch, due)
    return due


def batch_deadlines(ws: Workspace) -> pd.DataFrame:
    """Return the batches with a reporting deadline, and their open and total leads."""
    batches = ws.read_table_ordered("batches", "batch")
    counts = ws.batch_lead_counts([s.value for s in _REPORT_OPEN])
    out = batches.merge(counts, on="batch", how="left")
    out[["leads", "open"]] = out[["leads", "open"]].fillna(0).astype(int)
    return out


def overdue(
    ws: Workspace, *, today: str | date | None = None, by: str | None = None
) -> pd.DataFrame:
    """Return the leads past a deadline, most overdue first (grouped when ``by`` is given).

    A lead is overdue when

    - it is 问题 or 整改中 and its rectification deadline (整改期限) has passed
      (``kind = rectification``), or
    - it is still 待核查 or 核查中 and its batch's reporting deadline has passed
      (``kind = report``).

    A deadline passes the day after it: a lead due today is not overdue yet.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    today : str, datetime.date or None
        The day to judge by (default: today's local date).
    by : {"reserve", "county"} or None
        ``reserve`` or ``county``: add a ``group`` column and sort by it.

    Returns
    -------
    pandas.DataFrame
        ``lead_id, batch, reserve_name, county_name, status, status_label, kind,
        kind_label, due, days_overdue, responsible_unit, updated_at, updated_by``
        (and ``group``).
    """
    from pipelines.publish.views import leads_view

    if by not in (None, "reserve", "county"):
        raise TransitionError(_("--by {by!r}：用 reserve 或 county").format(by=by))
    day = date.fromisoformat(parse_date(today, what="--today")
                         or datetime.now(LOCAL_TZ).date().isoformat())
    view = pd.DataFrame(leads_view(ws).drop(columns="geometry"))
    for column in ("reserve_name", "county_name", "zone", "deadline", "responsible_unit"):
        if column not in view.columns:
            view[column] = None
    deadlines = ws.read_table("batches")[["batch", "report_deadline"]]
    view = view.merge(deadlines, on="batch", how="left")
    rect = view[view["status"].isin([s.value for s in _RECTIFICATION_OPEN])].assign(
        kind="rectification", due=lambda f: f["deadline"])
    report = view[view["status"].isin([s.value for s in _REPORT_OPEN])].assign(
        kind="report", due=lambda f: f["report_deadline"])
    rows = pd.concat([rect, report], ignore_index=True)
    rows = rows[rows["due"].notna() & (rows["due"].astype(str).str.len() >= 10)]
    due = pd.to_datetime(rows["due"].astype(str).str[:10], errors="coerce")
    rows = rows.assign(days_overdue=(pd.Timestamp(day) - due).dt.days)
    rows = rows[rows["days_overdue"] > 0].copy()
    rows["kind_label"] = rows["kind"].map(OVERDUE_KINDS)
    rows["due"] = rows["due"].astype(str).str[:10]
    rows["reserve_name"] = rows["reserve_name"].where(
        rows["reserve_name"].notna(),
        rows["zone"].map(lambda z: _NOT_CLASSIFIED if pd.isna(z) else _NO_RESERVE))
    rows["county_name"] = rows["county_name"].fillna(_NO_COUNTY)
    columns = ["lead_id", "batch", "reserve_name", "county_name", "status", "status_label",
               "kind", "kind_label", "due", "days_overdue", "responsible_unit", "updated_at",
               "updated_by"]
    order: list[str] = ["days_overdue", "lead_id"]
    ascending = [False, True]
    if by:
        rows["group"] = rows["reserve_name" if by == "reserve" else "county_name"]
        columns, order, ascending = ["group", *columns], ["group", *order], [True, *ascending]
    rows = rows.sort_values(order, ascending=ascending)[columns].reset_index(drop=True)
    rows["days_overdue"] = rows["days_overdue"].astype(int)
    return rows.astype(object).where(rows.notna(), None)
