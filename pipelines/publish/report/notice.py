"""The section 通报 of a report: the units behind their deadlines, most overdue first.

A unit is the lead's 整改责任单位 for an overdue rectification, and the reserve (its
management office, which reports the verification) for an overdue report; leads outside
every reserve are the county's. The leads are those of
:func:`pipelines.verify.deadlines.overdue` within the report's view.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from layers.schema import OUTSIDE_NAME
from pipelines.publish.report.model import Section, Table
from pipelines.store.base import Workspace
from pipelines.verify.deadlines import overdue

__all__ = ["NOTICE_COLUMNS", "notice_section", "notice_table"]

#: The columns of the 通报 table.
NOTICE_COLUMNS = ("责任单位", "逾期类型", "逾期线索数", "最长逾期天数", "最早期限", "线索编号")


def _unit(row: dict[str, object]) -> str:
    unit = row.get("responsible_unit")
    if row["kind"] == "rectification" and isinstance(unit, str) and unit.strip():
        return unit.strip()
    if row["kind"] == "rectification":
        return f"{row['reserve_name']}（未填整改责任单位）"
    reserve = row["reserve_name"]
    return f"{row['county_name']}（保护区外）" if reserve == OUTSIDE_NAME else str(reserve)


def notice_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Return one row per unit behind a deadline, sorted by days overdue (most first).

    ``rows`` are overdue leads as :func:`pipelines.verify.deadlines.overdue` returns them.
    """
    if not len(rows):
        return pd.DataFrame(columns=list(NOTICE_COLUMNS))
    frame = rows.assign(unit=[_unit(r) for r in rows.to_dict("records")])
    out = []
    for unit, part in frame.groupby("unit", sort=False):
        part = part.sort_values(["days_overdue", "lead_id"], ascending=[False, True])
        out.append({
            "责任单位": unit,
            "逾期类型": "、".join(dict.fromkeys(part["kind_label"])),
            "逾期线索数": len(part),
            "最长逾期天数": int(part["days_overdue"].max()),
            "最早期限": str(min(part["due"])),
            "线索编号": "、".join(str(v) for v in part["lead_id"]),
        })
    table = pd.DataFrame(out, columns=list(NOTICE_COLUMNS))
    return table.sort_values(["最长逾期天数", "逾期线索数", "责任单位"],
                             ascending=[False, False, True]).reset_index(drop=True)


def notice_section(ws: Workspace, view: pd.DataFrame, today: date) -> Section:
    """The section 通报: the units whose leads are past a deadline, most overdue first.

    Parameters
    ----------
    ws : Workspace
        The workspace (deadlines, batches).
    view : pandas.DataFrame
        The leads reported; only these are counted.
    today : datetime.date
        The day deadlines are judged by.
    """
    rows = overdue(ws, today=today)
    rows = rows[rows["lead_id"].isin(set(view["lead_id"]))].reset_index(drop=True)
    table = notice_table(rows)
    section = Section("notice", "通报")
    section.blocks.append(
        f"截至 {today.isoformat()}，{len(table)} 个单位的 {len(rows)} 条线索逾期"
        "（整改逾期按整改责任单位，核查上报逾期按保护区），按最长逾期天数排序。"
        if len(table) else f"截至 {today.isoformat()}，没有逾期的单位。")
    section.blocks.append(Table("notice", "逾期单位通报", table))
    return section
