"""Lead summaries: counts and areas by reserve, zone, activity, county and status; batch
progress against deadlines; overdue rectifications.

Every function works on a :func:`pipelines.publish.views.leads_view` frame (possibly filtered),
so that the numbers are those of the workspace. Areas are ``area_m2`` of the view: the
equal-area (China Albers) area of patches, the reported area of point leads; they are shown
in hectares (公顷) rounded to 0.01.
"""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd

from layers.schema import (
    NO_COUNTY,
    OUTSIDE_NAME,
    STATUS_LABELS,
    ZONE_LABELS,
    ZONE_ORDER,
    Status,
    Zone,
)
from pipelines.errors import ReportError
from pipelines.store.base import Workspace
from pipelines.store.tables import TABLES
from pipelines.verify.deadlines import overdue as verify_overdue

__all__ = [
    "AREA_HA",
    "COUNT",
    "NO_ACTIVITY",
    "ONLY",
    "batch_progress",
    "by_county",
    "by_reserve_zone",
    "by_status",
    "counts_areas",
    "filter_leads",
    "overdue",
    "reserve_table",
    "status_table",
    "zone_table",
]

log = logging.getLogger(__name__)

COUNT = "线索数"
AREA_HA = "面积(公顷)"
NO_ACTIVITY = "未填写"
#: Lead filters of ``--only``: leads touching a wetland, or a mine (inside or flagged near).
ONLY = ("wetlands", "mines")
_VERIFIED = {s.value for s in Status} - {Status.PENDING.value, Status.IN_FIELD.value}
_PROBLEM = {Status.PROBLEM.value, Status.RECTIFYING.value, Status.RECTIFIED.value,
            Status.CLOSED.value}


def filter_leads(
    view: pd.DataFrame, *, batch: str | None = None, only: str | None = None
) -> pd.DataFrame:
    """Return the leads of one batch and/or only those in wetlands or mines.

    ``only="wetlands"`` keeps leads touching a wetland (suspected 侵占湿地); ``"mines"``
    keeps leads inside a mine or flagged near a valid one.

    Parameters
    ----------
    view : pandas.DataFrame
        Rows of :func:`pipelines.publish.views.leads_view`.
    batch : str, optional
        Only leads of this batch.
    only : {"wetlands", "mines"}, optional
        Only leads touching a wetland, or in or near a mine.
    """
    keep = pd.Series(True, index=view.index)
    if batch is not None:
        keep &= view["batch"] == batch
    if only == "wetlands":
        keep &= view["wetland_ids"].notna()
    elif only == "mines":
        keep &= view["mine_ids"].notna() | view["mine_flag"].notna()
    elif only is not None:
        raise ReportError(f"only={only!r}: use one of {', '.join(ONLY)}")
    return view[keep]


def _ha(values: pd.Series) -> float:
    return round(float(pd.to_numeric(values, errors="coerce").sum()) / 1e4, 2)


def counts_areas(view: pd.DataFrame, column: str, label: str, fill: str) -> pd.DataFrame:
    """Return ``label | 线索数 | 面积(公顷)`` grouped by ``column``, most leads first, with 合计.

    Leads with an empty ``column`` are counted under ``fill``.

    Parameters
    ----------
    view : pandas.DataFrame
        Rows of :func:`pipelines.publish.views.leads_view`, with ``area_m2``.
    column : str
        The column to group by.
    label : str
        Header of the first column of the table.
    fill : str
        The group of leads whose ``column`` is empty.
    """
    keys = view[column].astype(object).where(view[column].notna(), fill)
    frame = pd.DataFrame({label: keys.to_numpy(), "_a": view["area_m2"].to_numpy()})
    grouped = frame.groupby(label, sort=False)
    table = pd.DataFrame({COUNT: grouped.size(), AREA_HA: grouped["_a"].apply(_ha)})
    table = table.sort_values([COUNT, AREA_HA], ascending=False).reset_index()
    total = pd.DataFrame([{label: "合计", COUNT: len(view), AREA_HA: _ha(view["area_m2"])}])
    table = pd.concat([table, total], ignore_index=True)
    table[COUNT] = table[COUNT].astype(int)
    return table


def view_memberships(ws: Workspace, view: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the memberships of the leads of ``view`` and the rows of ``view`` in none.

    Parameters
    ----------
    ws : Workspace
        The workspace holding the memberships (``lead_reserves``).
    view : pandas.DataFrame
        Rows with ``lead_id`` (the leads view, possibly filtered).

    Returns
    -------
    (members, outside)
        :meth:`lead_memberships` rows of the leads of ``view`` (one per lead and reserve it
        lies in), and the rows of ``view`` whose lead lies in no reserve.
    """
    members = ws.lead_memberships()
    members = members[members["lead_id"].isin(set(view["lead_id"]))]
    return members, view[~view["lead_id"].isin(set(members["lead_id"]))]


def reserve_table(ws: Workspace, view: pd.DataFrame) -> pd.DataFrame:
    """Counts and areas per reserve, each reserve counting every lead lying in it.

    A lead inside several reserves (``lead_reserves``) is in the row of each; the 合计 row
    counts every lead once (it is :func:`counts_areas`' total of ``view``).

    Parameters
    ----------
    ws : Workspace
        The workspace holding the memberships.
    view : pandas.DataFrame
        Rows of :func:`pipelines.publish.views.leads_view` (possibly filtered).
    """
    members, outside = view_memberships(ws, view)
    area = dict(zip(view["lead_id"], view["area_m2"], strict=True))
    rows = pd.DataFrame({
        "reserve_name": [*members["reserve_name"].tolist(), *[None] * len(outside)],
        "area_m2": [*(area[i] for i in members["lead_id"]), *outside["area_m2"].tolist()],
    })
    table = counts_areas(rows, "reserve_name", "保护区", OUTSIDE_NAME)
    table = table[table["保护区"] != "合计"]
    total = pd.DataFrame([{"保护区": "合计", COUNT: len(view), AREA_HA: _ha(view["area_m2"])}])
    return pd.concat([table, total], ignore_index=True)


def zone_table(view: pd.DataFrame) -> pd.DataFrame:
    """Counts and areas per functional zone, strictest first (unclassified as 保护区外)."""
    zone = view["zone"].fillna(Zone.OUTSIDE.value)
    rows = [{"功能区": ZONE_LABELS[z], COUNT: int((zone == z.value).sum()),
             AREA_HA: _ha(view["area_m2"][zone == z.value])} for z in ZONE_ORDER]
    rows.append({"功能区": "合计", COUNT: len(view), AREA_HA: _ha(view["area_m2"])})
    return pd.DataFrame(rows)


def status_table(view: pd.DataFrame) -> pd.DataFrame:
    """Counts and areas per verification status, in workflow order."""
    rows = [{"核查状态": STATUS_LABELS[s], COUNT: int((view["status"] == s.value).sum()),
             AREA_HA: _ha(view["area_m2"][view["status"] == s.value])} for s in Status]
    rows.append({"核查状态": "合计", COUNT: len(view), AREA_HA: _ha(view["area_m2"])})
    return pd.DataFrame(rows)


def by_reserve_zone(ws: Workspace, view: pd.DataFrame) -> pd.DataFrame:
    """Return a reserve × zone table of lead counts (Chinese zone labels, with totals).

    A lead inside several reserves counts in each reserve's row under its zone in that
    reserve (``lead_reserves``); the 合计 row counts every lead once, under its strictest
    zone.

    Parameters
    ----------
    ws : Workspace
        The workspace holding the memberships.
    view : pandas.DataFrame
        Rows of :func:`pipelines.publish.views.leads_view` (possibly filtered).
    """
    members, outside = view_memberships(ws, view)
    frame = pd.DataFrame({
        "reserve": [*members["reserve_name"].tolist(), *[OUTSIDE_NAME] * len(outside)],
        "zone": [*members["zone"].fillna(Zone.OUTSIDE.value).tolist(),
                 *outside["zone"].fillna(Zone.OUTSIDE.value).tolist()],
    })
    zones = view["zone"].fillna(Zone.OUTSIDE.value)
    table = pd.crosstab(frame["reserve"], frame["zone"]) if len(frame) else pd.DataFrame()
    present = set(table.columns) | set(zones)
    cols = [z.value for z in ZONE_ORDER if z.value in present]
    table = table.reindex(columns=cols, fill_value=0)
    table["合计"] = table.sum(axis=1)
    table = table.sort_values("合计", ascending=False)
    total = zones.value_counts()
    table.loc["合计"] = [int(total.get(z, 0)) for z in cols] + [len(view)]
    table = table.astype(int).rename(columns={z: ZONE_LABELS[Zone(z)] for z in cols})
    table.index.name = "保护区"
    return table


def by_status(view: pd.DataFrame) -> pd.DataFrame:
    """Return lead counts per verification status, in workflow order."""
    counts = view["status"].value_counts()
    rows = [(STATUS_LABELS[s], int(counts.get(s.value, 0))) for s in Status]
    table = pd.DataFrame(rows, columns=["核查状态", COUNT]).set_index("核查状态")
    table.loc["合计"] = table[COUNT].sum()
    return table


def by_county(view: pd.DataFrame) -> pd.DataFrame:
    """Counts and areas per county (县界外 when in none)."""
    return counts_areas(view, "county_name", "县（市、区）", NO_COUNTY)


def batch_progress(ws: Workspace, view: pd.DataFrame, today: date) -> pd.DataFrame | None:
    """Verification progress per batch against its report deadline, or None without one.

    Deadlines come from the ``batches`` table (``report_deadline``) when the workspace has
    it; a batch without a deadline shows its progress with an empty deadline. Verified
    means judged (非问题 or 问题 and later); days left are negative once the deadline passed.

    Parameters
    ----------
    ws : Workspace
        The workspace, whose ``batches`` table holds the deadlines.
    view : pandas.DataFrame
        The leads of the report (:func:`pipelines.publish.views.leads_view`, filtered).
    today : datetime.date
        Reference date of the days left.
    """
    if "batches" not in TABLES or not any(c == "report_deadline" for c, _ in TABLES["batches"]):
        return None
    deadlines = ws.read_table("batches")
    deadline_of = dict(zip(deadlines["batch"], deadlines["report_deadline"], strict=True))
    rows = []
    for batch, leads in view.groupby(view["batch"].fillna(""), sort=True):
        verified = int(leads["status"].isin(_VERIFIED).sum())
        deadline = deadline_of.get(batch)
        left = (date.fromisoformat(str(deadline)[:10]) - today).days if deadline else None
        state = "" if left is None else (
            "已完成" if verified == len(leads) else "已逾期" if left < 0 else "进行中")
        rows.append({"批次": batch or "（无批次）", COUNT: len(leads), "已核查": verified,
                     "核查进度": f"{verified / len(leads):.1%}",
                     "问题线索": int(leads["status"].isin(_PROBLEM).sum()),
                     "上报期限": deadline or "", "剩余天数": left, "状态": state})
    return pd.DataFrame(rows, columns=["批次", COUNT, "已核查", "核查进度", "问题线索",
                                       "上报期限", "剩余天数", "状态"])


def overdue(ws: Workspace, view: pd.DataFrame, today: date) -> pd.DataFrame:
    """Leads of ``view`` past a deadline, as ``lvdun status overdue`` lists them.

    Overdue rectification: 问题/整改中 after the lead's 整改期限; overdue report: still
    待核查/核查中 after its batch's 上报期限 (see :func:`pipelines.verify.deadlines.overdue`).

    Parameters
    ----------
    ws : Workspace
        The workspace.
    view : pandas.DataFrame
        The leads of the report; only these are listed.
    today : datetime.date
        Reference date of the deadlines.
    """
    rows = verify_overdue(ws, today=today)
    rows = rows[rows["lead_id"].isin(set(view["lead_id"]))]
    table = pd.DataFrame({
        "线索编号": rows["lead_id"].to_numpy(),
        "批次": rows["batch"].to_numpy(),
        "保护区": rows["reserve_name"].to_numpy(),
        "县（市、区）": rows["county_name"].to_numpy(),
        "核查状态": rows["status_label"].to_numpy(),
        "逾期类型": rows["kind_label"].to_numpy(),
        "期限": rows["due"].to_numpy(),
        "逾期天数": rows["days_overdue"].astype(int).to_numpy(),
        "整改责任单位": rows["responsible_unit"].fillna("").to_numpy(),
    })
    return table.reset_index(drop=True)
