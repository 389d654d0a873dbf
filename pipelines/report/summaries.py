"""Summaries of a workspace: leads per reserve and zone, per status; a Markdown report."""

from __future__ import annotations

import logging

import pandas as pd

from layers.schema import STATUS_LABELS, ZONE_LABELS, Status, Zone
from pipelines.export import OUTSIDE_NAME
from pipelines.store.base import Workspace
from pipelines.views import leads_view

__all__ = ["by_reserve_zone", "by_status", "markdown_report"]

log = logging.getLogger(__name__)

_ZONE_ORDER = [Zone.CORE, Zone.CORE_PROTECTION, Zone.BUFFER, Zone.EXPERIMENTAL,
               Zone.GENERAL_CONTROL, Zone.UNZONED, Zone.OUTSIDE]


def by_reserve_zone(view: pd.DataFrame) -> pd.DataFrame:
    """Return a reserve × zone table of lead counts (Chinese zone labels, with totals)."""
    frame = view.assign(
        reserve=view["reserve_name"].fillna(OUTSIDE_NAME),
        zone=view["zone"].fillna(Zone.OUTSIDE.value),
    )
    table = pd.crosstab(frame["reserve"], frame["zone"])
    cols = [z.value for z in _ZONE_ORDER if z.value in table.columns]
    table = table[cols].rename(columns={z: ZONE_LABELS[Zone(z)] for z in cols})
    table["合计"] = table.sum(axis=1)
    table = table.sort_values("合计", ascending=False)
    table.loc["合计"] = table.sum(axis=0)
    table.index.name = "保护区"
    return table


def by_status(view: pd.DataFrame) -> pd.DataFrame:
    """Return lead counts per verification status, in workflow order."""
    counts = view["status"].value_counts()
    rows = [(STATUS_LABELS[s], int(counts.get(s.value, 0))) for s in Status]
    table = pd.DataFrame(rows, columns=["核查状态", "线索数"]).set_index("核查状态")
    table.loc["合计"] = table["线索数"].sum()
    return table


def markdown_report(ws: Workspace) -> str:
    """Return a Markdown report: leads per reserve and zone, per status."""
    view = leads_view(ws)
    lines = ["# 绿盾线索核查报告", "", f"线索总数：{len(view)}", "",
             "## 各保护区、功能区线索数", "", _markdown(by_reserve_zone(view)), "",
             "## 核查状态", "", _markdown(by_status(view)), ""]
    return "\n".join(lines)


def _markdown(table: pd.DataFrame) -> str:
    header = [str(table.index.name or ""), *map(str, table.columns)]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for idx, row in table.iterrows():
        out.append("| " + " | ".join([str(idx), *(str(v) for v in row)]) + " |")
    return "\n".join(out)
