"""The monthly dispatch table (每月调度 / 调度表): progress per county, city and reserve.

For each group: 线索数; 已核查 (judged 非问题, 问题 or later) and 核查完成率; 审核通过 (the
lead's current verdict passed every level of the review chain, :mod:`pipelines.verify.review`)
and 审核通过率 over the verified leads; 问题数 (问题 and later); 整改完成率 (已整改 and
已销号 over the problems) and 销号率 (已销号 over the problems); 逾期数 (past a
rectification or reporting deadline, :func:`pipelines.verify.deadlines.overdue`); and
最久未结线索, the open lead (neither 已销号 nor 非问题) detected first, with its date.
Rates are shown as percentages; a rate without a denominator is blank. A city is the
first four digits of its counties' adcodes; leads without a county fall under 县界外.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from layers.schema import NO_COUNTY, OUTSIDE_NAME, Status
from pipelines.publish.report.model import Section, Table
from pipelines.publish.report.summaries import view_memberships
from pipelines.store.base import Workspace
from pipelines.verify.deadlines import overdue
from pipelines.verify.review import review_summary

__all__ = ["DISPATCH_COLUMNS", "dispatch_section", "dispatch_table", "dispatch_tables"]

_VERIFIED = {s.value for s in Status} - {Status.PENDING.value, Status.IN_FIELD.value}
_PROBLEM = {Status.PROBLEM.value, Status.RECTIFYING.value, Status.RECTIFIED.value,
            Status.CLOSED.value}
_RECTIFIED = {Status.RECTIFIED.value, Status.CLOSED.value}
#: The columns of every dispatch table after its group column.
DISPATCH_COLUMNS = ("线索数", "已核查", "核查完成率", "审核通过", "审核通过率", "问题数",
                    "整改完成率", "销号率", "逾期数", "最久未结线索")
#: Statuses of a lead whose work is done: closed, or judged no problem.
_DONE = {Status.CLOSED.value, Status.NOT_PROBLEM.value}


def _rate(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else ""


def _row(leads: pd.DataFrame) -> dict[str, object]:
    status = leads["status"]
    verified = int(status.isin(_VERIFIED).sum())
    approved = int((leads["verdict_approved"] & status.isin(_VERIFIED)).sum())
    problems = int(status.isin(_PROBLEM).sum())
    rectified = int(status.isin(_RECTIFIED).sum())
    closed = int((status == Status.CLOSED.value).sum())
    return {"线索数": len(leads), "已核查": verified, "核查完成率": _rate(verified, len(leads)),
            "审核通过": approved, "审核通过率": _rate(approved, verified), "问题数": problems,
            "整改完成率": _rate(rectified, problems), "销号率": _rate(closed, problems),
            "逾期数": int(leads["overdue"].sum()), "最久未结线索": _oldest_open(leads)}


def _oldest_open(leads: pd.DataFrame) -> str:
    """The open lead detected first (后时相, else its first batch), with that date."""
    open_leads = leads[~leads["status"].isin(_DONE)]
    if open_leads.empty:
        return ""
    order = open_leads.sort_values(["detected", "lead_id"], na_position="last", kind="stable")
    first = order.iloc[0]
    when = first["detected"] if isinstance(first["detected"], str) else ""
    return f"{first['lead_id']}（{when}）" if when else str(first["lead_id"])


def _frame(ws: Workspace, view: pd.DataFrame, today: date) -> pd.DataFrame:
    """The view's leads with their group keys, review approval and overdue flag."""
    statuses = pd.Series(view["status"].to_numpy(), index=view["lead_id"].to_numpy())
    summary = review_summary(ws, statuses)
    late = set(overdue(ws, today=today)["lead_id"])
    county = view["county_adcode"].astype(object)
    has_county = county.notna().to_numpy()
    names = ws.admin_names()
    rows = names[names["admin_level"] == "city"]
    city_names = {str(code)[:4]: name for code, name in zip(rows["adcode"], rows["admin_name"],
                                                             strict=True)}
    cities = [str(c)[:4] if ok else None for c, ok in zip(county, has_county, strict=True)]
    return pd.DataFrame({
        "lead_id": view["lead_id"].to_numpy(),
        "status": view["status"].to_numpy(),
        "county": [f"{n}（{c}）" if ok else NO_COUNTY for n, c, ok in zip(
            view["county_name"], county, has_county, strict=True)],
        "city": [f"{city_names.get(c) or c + '00'}" if c else NO_COUNTY for c in cities],
        "reserve": view["reserve_name"].astype(object).where(view["reserve_name"].notna(),
                                                             OUTSIDE_NAME).to_numpy(),
        "verdict_approved": summary["verdict_approved"].to_numpy(dtype=bool),
        "overdue": view["lead_id"].isin(late).to_numpy(),
        "detected": _detected(view),
    })


def _detected(view: pd.DataFrame) -> list[str | None]:
    """When each lead was detected: its 后时相 date, else its first monitoring round."""
    after = view["date_after"] if "date_after" in view else pd.Series([None] * len(view))
    first = view["first_batch"] if "first_batch" in view else pd.Series([None] * len(view))
    return [str(a) if isinstance(a, str) and a else (str(b) if isinstance(b, str) and b
            else None) for a, b in zip(after, first, strict=True)]


def dispatch_table(frame: pd.DataFrame, by: str, label: str,
                   total: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return the dispatch table of ``frame`` grouped by its column ``by``, with 合计.

    Parameters
    ----------
    frame : pandas.DataFrame
        As :func:`_frame` builds it.
    by : str
        ``county``, ``city`` or ``reserve``.
    label : str
        The group column's header.
    total : pandas.DataFrame, optional
        The rows 合计 counts, when ``frame`` repeats a lead (one row per reserve).
    """
    rows = [{label: key, **_row(part)} for key, part in frame.groupby(by, sort=True)]
    rows.append({label: "合计", **_row(frame if total is None else total)})
    return pd.DataFrame(rows, columns=[label, *DISPATCH_COLUMNS])


def member_frame(ws: Workspace, frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with one row per lead and reserve it lies in (``lead_reserves``).

    A lead inside two reserves is a row of each; a lead inside none keeps one row under
    保护区外. The rows keep ``frame``'s columns, ``reserve`` naming the member reserve.
    """
    members, outside = view_memberships(ws, frame)
    inside = frame.drop(columns="reserve").merge(
        members[["lead_id", "reserve_name"]].rename(columns={"reserve_name": "reserve"}),
        on="lead_id", how="inner")
    outside = outside.assign(reserve=OUTSIDE_NAME)
    return pd.concat([inside, outside], ignore_index=True)[list(frame.columns)]


def dispatch_section(ws: Workspace, view: pd.DataFrame, today: date) -> Section:
    """The section 调度表 (its own XLSX sheet): progress per county, city and reserve.

    Parameters
    ----------
    ws : Workspace
        The workspace (reviews, deadlines, city names).
    view : pandas.DataFrame
        The leads reported, as :func:`pipelines.publish.views.leads_view` (filtered).
    today : datetime.date
        The day overdue leads are judged by.
    """
    section = Section("dispatch", "调度表")
    section.blocks.append(
        f"截至 {today.isoformat()}：核查完成率 = 已核查/线索数；审核通过率 = 审核通过/已核查；"
        "整改完成率 = 已整改及已销号/问题数；销号率 = 已销号/问题数；"
        "逾期数含整改逾期与核查上报逾期。")
    section.blocks += dispatch_tables(ws, view, today)
    return section


def dispatch_tables(ws: Workspace, view: pd.DataFrame, today: date) -> list[Table]:
    """The three dispatch tables of ``view``: per county, city and reserve, each with 合计.

    The report's section 调度表 and the web app's progress (``/api/review/progress``,
    for a reviewer's area) both show these.

    Parameters
    ----------
    ws : Workspace
        The workspace (reviews, deadlines, city names).
    view : pandas.DataFrame
        The leads counted, as :func:`pipelines.publish.views.leads_view` (filtered).
    today : datetime.date
        The day overdue leads are judged by.
    """
    frame = _frame(ws, view, today)
    return [
        Table("dispatch_county", "各县（市、区）调度",
              dispatch_table(frame, "county", "县（市、区）")),
        Table("dispatch_city", "各市（州）调度", dispatch_table(frame, "city", "市（州）")),
        Table("dispatch_reserve", "各保护区调度（线索计入所在的每个保护区，合计每条计一次）",
              dispatch_table(member_frame(ws, frame), "reserve", "保护区", total=frame)),
    ]
