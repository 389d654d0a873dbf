"""The report's wetland section: suspected occupation of wetlands (侵占湿地)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from layers.schema import OUTSIDE_NAME
from layers.wetlands import match_geometries
from pipelines.publish.report.model import Section, Table
from pipelines.publish.report.summaries import AREA_HA, COUNT

__all__ = ["OCCUPIED_HA", "wetland_section"]

OCCUPIED_HA = "湿地内图斑面积(公顷)"
_STATED_HA = "点位上报面积(公顷)"


def _split(value: object) -> list[str]:
    return str(value).split("; ") if isinstance(value, str) else []


def _ha(values: object) -> float:
    return round(float(pd.to_numeric(pd.Series(values), errors="coerce").sum()) / 1e4, 2)


def wetland_section(view: pd.DataFrame, wetlands: pd.DataFrame) -> Section:
    """Leads touching a listed wetland: per wetland, per level, and the list of leads.

    A patch's occupied area is its area inside the wetland(s) it touches (China Albers); a
    point lead has only its reported area, shown apart. Wetlands listed as points are
    matched by a circle of their area: the match column says ``radius≈N m
    (approximation)``.
    """
    section = Section("wetlands", "湿地：疑似侵占湿地线索")
    leads = view[view["wetland_ids"].notna()]
    patch = leads["wetland_area_m2"].notna()
    approx = leads["wetland_match"].fillna("").str.contains("approximation")
    section.blocks.append(
        f"涉及湿地的线索 {len(leads)} 条：图斑 {int(patch.sum())} 条，湿地内图斑面积 "
        f"{_ha(leads['wetland_area_m2'])} 公顷；点位 {int((~patch).sum())} 条，上报面积 "
        f"{_ha(leads.loc[~patch, 'area_m2'])} 公顷。")
    if approx.any():
        section.blocks.append(
            f"其中 {int(approx.sum())} 条按湿地名录面积折算的圆形范围匹配（radius≈N m，"
            "r = √(面积/π)，为近似，需现场核实）。")
    kinds = _kinds(wetlands)
    unlocated = wetlands[kinds == "unmatched"]
    if len(unlocated):
        section.blocks.append(
            f"名录中 {len(unlocated)} 处湿地无坐标或无面积，未参与匹配："
            + "、".join(map(str, unlocated["wetland_name"])) + "。")
    if leads.empty:
        return section
    section.blocks.append(Table("wetland_by_level", "按湿地级别（每条线索计入其最高级别）",
                                _by_level(leads)))
    section.blocks.append(Table("wetland_by_wetland", "按湿地", _by_wetland(leads),
                                note="一条线索涉及多处湿地时计入每一处。"))
    section.blocks.append(Table("wetland_leads", "疑似侵占湿地线索清单", _lead_list(leads)))
    return section


def _kinds(wetlands: pd.DataFrame) -> np.ndarray:
    if wetlands.empty:
        return np.empty(0, dtype=object)
    shapes, _, _ = match_geometries(wetlands.geometry.values, wetlands["area_m2"])
    return np.array(["matched" if s is not None else "unmatched" for s in shapes],
                    dtype=object)


def _by_level(leads: pd.DataFrame) -> pd.DataFrame:
    top = [(_split(v) or [""])[0] or "未填写" for v in leads["wetland_levels"]]
    frame = pd.DataFrame({"湿地级别": top, "_o": leads["wetland_area_m2"].to_numpy(),
                          "_s": leads["area_m2"].where(leads["wetland_area_m2"].isna()
                                                       ).to_numpy()})
    order = {"国家重要湿地": 0, "省级重要湿地": 1, "一般湿地": 2}
    grouped = frame.groupby("湿地级别")
    table = pd.DataFrame({COUNT: grouped.size(), OCCUPIED_HA: grouped["_o"].apply(_ha),
                          _STATED_HA: grouped["_s"].apply(_ha)}).reset_index()
    table = table.sort_values("湿地级别", key=lambda s: s.map(order).fillna(9))
    total = {"湿地级别": "合计", COUNT: len(leads), OCCUPIED_HA: _ha(frame["_o"]),
             _STATED_HA: _ha(frame["_s"])}
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    table[COUNT] = table[COUNT].astype(int)
    return table


def _by_wetland(leads: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in leads.itertuples(index=False):
        for name, level, match in zip(_split(r.wetland_names), _split(r.wetland_levels),
                                      _split(r.wetland_match), strict=False):
            rows.append({"湿地名称": name, "湿地级别": level, "匹配方式": match,
                         "_o": r.wetland_area_m2, "_patch": r.wetland_area_m2 is not None
                         and not pd.isna(r.wetland_area_m2)})
    frame = pd.DataFrame(rows)
    grouped = frame.groupby(["湿地名称", "湿地级别", "匹配方式"], dropna=False)
    table = pd.DataFrame({COUNT: grouped.size(), "其中图斑": grouped["_patch"].sum(),
                          OCCUPIED_HA: grouped["_o"].apply(_ha)}).reset_index()
    table[[COUNT, "其中图斑"]] = table[[COUNT, "其中图斑"]].astype(int)
    return table.sort_values([COUNT, "湿地名称"], ascending=[False, True]).reset_index(
        drop=True)


def _lead_list(leads: pd.DataFrame) -> pd.DataFrame:
    table = pd.DataFrame({
        "线索编号": leads["lead_id"].to_numpy(),
        "批次": leads["batch"].to_numpy(),
        "保护区": leads["reserve_name"].fillna(OUTSIDE_NAME).to_numpy(),
        "湿地": leads["wetland_names"].to_numpy(),
        "湿地级别": leads["wetland_levels"].to_numpy(),
        "匹配方式": leads["wetland_match"].to_numpy(),
        "活动类型": leads["activity_type"].fillna("").to_numpy(),
        AREA_HA: (pd.to_numeric(leads["area_m2"], errors="coerce") / 1e4).round(4).to_numpy(),
        OCCUPIED_HA: (pd.to_numeric(leads["wetland_area_m2"], errors="coerce") / 1e4
                      ).round(4).to_numpy(),
        "核查状态": leads["status_label"].to_numpy(),
    })
    return table.sort_values(["湿地", "线索编号"]).reset_index(drop=True)
