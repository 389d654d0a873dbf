"""Joined views of the workspace that several jobs publish: leads with class and status."""

from __future__ import annotations

import json
from collections.abc import Collection

import geopandas as gpd
import pandas as pd

from layers.schema import STATUS_LABELS, ZONE_LABELS, Status, Zone
from pipelines.errors import WorkspaceError
from pipelines.store.base import Workspace

__all__ = ["GROUP_COLUMNS", "LEDGER_COLUMNS", "leads_view", "ledger_frame"]

#: Ledger columns (台账): canonical name -> Chinese header, in the order bureaus use.
LEDGER_COLUMNS: dict[str, str] = {
    "lead_id": "线索编号",
    "batch": "批次",
    "first_batch": "首次监测批次",
    "rounds": "监测次数",
    "activity_type": "活动类型",
    "change_type": "变化类型",
    "reserve_name": "保护区名称",
    "reserve_code": "保护区编码",
    "reserve_level": "保护区级别",
    "zone_label": "功能区",
    "primary_reserve": "主归属保护区",
    "primary_zone": "主归属功能区",
    "overlaps_text": "涉及保护区及功能区",
    "wetland_names": "涉及湿地",
    "mine_ids": "涉及矿山",
    "county_name": "所在县",
    "county_adcode": "行政区划代码",
    "lon": "中心点经度",
    "lat": "中心点纬度",
    "area_m2": "面积(平方米)",
    "dist_boundary_m": "距保护区边界(米)",
    "near_boundary_text": "临近边界",
    "date_before": "前时相",
    "date_after": "后时相",
    "status_label": "核查状态",
    "reason": "原因",
    "responsible_unit": "整改责任单位",
    "measures": "整改措施",
    "deadline": "整改期限",
    "updated_at": "更新时间",
    "updated_by": "更新人",
    "version": "版本",
    "note": "备注",
}


#: The column of ``lead_class`` that names a lead's group, per kind of group.
GROUP_COLUMNS: dict[str, str] = {"reserve": "reserve_code", "county": "county_adcode"}


def leads_view(
    ws: Workspace, *, by: str | None = None, codes: Collection[str | None] | None = None,
    members: bool = False,
) -> gpd.GeoDataFrame:
    """Return the leads with their classification and status, one row per lead.

    Leads not classified yet have empty class columns and zone ``None``.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    by : {"reserve", "county"} or None
        How ``codes`` are read; default ``reserve``.
    codes : collection of str or None, optional
        Only the leads of these groups (read so from the workspace, not filtered after):
        ``by="reserve"`` and reserve codes (the winning reserve), or ``by="county"`` and
        county adcodes. None in ``codes`` stands for the leads outside every reserve
        (county), not classified ones included. Without ``codes``, every lead.
    members : bool
        With ``by="reserve"`` and ``codes``: every lead lying in one of those reserves
        (``lead_reserves``), not only those they won.

    ``primary_reserve`` and ``primary_zone`` name the winning reserve and its zone (the
    ledger's 主归属保护区 / 主归属功能区).
    """
    by = by or "reserve"
    if by not in GROUP_COLUMNS:
        raise WorkspaceError(f"--by {by!r}: use reserve or county")
    if members and by == "reserve" and codes is not None:
        leads, klass, status = ws.read_member_lead_tables(list(codes))
    else:
        leads, klass, status = ws.read_lead_tables(GROUP_COLUMNS[by], codes)
    klass = klass.drop(columns=["batch", "run_id"])
    area_sent = leads.pop("area_m2")
    view = leads.merge(klass, on="lead_id", how="left").merge(status, on="lead_id", how="left")
    view["area_m2"] = view["area_m2"].where(view["area_m2"].notna(), area_sent)
    view["status"] = view["status"].fillna(Status.PENDING.value)
    view["status_label"] = [STATUS_LABELS[Status(s)] for s in view["status"]]
    centre = view.geometry.representative_point()
    view["lon"] = centre.x.round(6)
    view["lat"] = centre.y.round(6)
    view["near_boundary_text"] = view["near_boundary"].map({1: "是", 0: "否"})
    view["primary_reserve"] = view["reserve_name"]
    view["primary_zone"] = view["zone_label"]
    view["overlaps_text"] = [
        "; ".join(f"{o['reserve_name']}·{_zone_label(o['zone'])}"
                  + (f" {o['share']:.0%}" if o["share"] < 1 else "")
                  for o in json.loads(v))
        if isinstance(v, str) else None
        for v in view["overlaps"]
    ]
    return gpd.GeoDataFrame(view, geometry="geometry", crs=leads.crs)


def _zone_label(zone: str) -> str:
    return ZONE_LABELS[Zone(zone)]


def ledger_frame(view: pd.DataFrame) -> pd.DataFrame:
    """Return the ledger columns of a :func:`leads_view` with Chinese headers."""
    cols = [c for c in LEDGER_COLUMNS if c in view.columns]
    return view[cols].rename(columns=LEDGER_COLUMNS)
