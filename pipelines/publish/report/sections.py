"""Assemble a report from the workspace: overview, progress, 调度表, 通报, wetlands, mines,
changes."""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd

from layers.i18n import _
from pipelines.progress import Progress, no_progress
from pipelines.publish.changes import changes_since
from pipelines.publish.report.charts import bar_chart
from pipelines.publish.report.dispatch import dispatch_section
from pipelines.publish.report.mines import mine_section
from pipelines.publish.report.model import Report, Section, Table
from pipelines.publish.report.notice import notice_section
from pipelines.publish.report.summaries import (
    AREA_HA,
    COUNT,
    NO_ACTIVITY,
    batch_progress,
    by_county,
    by_reserve_zone,
    counts_areas,
    filter_leads,
    overdue,
    reserve_table,
    status_table,
    zone_table,
)
from pipelines.publish.report.wetlands import wetland_section
from pipelines.publish.views import leads_view
from pipelines.store.base import Workspace, now_iso

__all__ = ["build_report"]

log = logging.getLogger(__name__)

_ONLY_LABELS = {"wetlands": "仅涉及湿地的线索（疑似侵占湿地）",
                "mines": "仅涉及矿山的线索（矿山内或有效矿权邻近）"}


def build_report(
    ws: Workspace,
    *,
    batch: str | None = None,
    only: str | None = None,
    since: str | None = None,
    today: date | None = None,
    refusing_months: int = 12,
    charts: bool = True,
    cjk: bool = True,
    progress: Progress = no_progress,
) -> Report:
    """Build the report of a workspace.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    batch : str or None
        Only leads whose current batch is this one.
    only : {"wetlands", "mines"} or None
        ``wetlands`` or ``mines``: only leads touching a wetland, or a mine.
    since : str or None
        A run id (or unique prefix): add what changed since that run, per reserve.
    today : datetime.date or None
        Reference date of deadlines, overdue rectifications and mine visits.
    refusing_months : int
        Closed mines 未治理 longer than this are listed as refusing restoration.
    charts : bool
        Draw charts (PNG) for the HTML and XLSX formats.
    cjk : bool
        Use a CJK font for chart labels when one is installed (False: numbered labels).
    progress : Progress
        Told of step ``汇总报告``: reading the leads, then each section.
    """
    today = today or date.today()
    step = _("汇总报告")
    total = 1 + 6 + (since is not None)  # the leads, then each section
    progress(step, 0, total)
    view = filter_leads(leads_view(ws), batch=batch, only=only)
    done = 1
    progress(step, done, total)
    parts = [lambda: _overview(ws, view, charts=charts, cjk=cjk),
             lambda: _progress(ws, view, today, charts=charts, cjk=cjk),
             lambda: dispatch_section(ws, view, today), lambda: notice_section(ws, view, today),
             lambda: wetland_section(view, ws.read_features("wetlands")),
             lambda: mine_section(ws, view, ws.read_features("mines"), today=today,
                                  refusing_months=refusing_months)]
    if since is not None:
        parts.insert(0, lambda: _changes(ws, since, view))
    scope = [f"生成时间：{now_iso()}；统计日期：{today.isoformat()}；工作空间：{ws.location}"]
    if batch is not None:
        scope.append(f"批次：{batch}")
    if only is not None:
        scope.append(f"范围：{_ONLY_LABELS[only]}")
    sections = []
    for part in parts:  # in the report's order: changes first, wetlands and mines last
        sections.append(part())
        done += 1
        progress(step, done, total)
    return Report(title="绿盾线索核查报告", scope=scope, sections=sections)


def _overview(ws: Workspace, view: pd.DataFrame, *, charts: bool, cjk: bool) -> Section:
    section = Section("overview", "线索概况")
    dims = pd.Series(view.geometry.geom_type.fillna("")).str.contains("Polygon")
    no_area = int(view["area_m2"].isna().sum())
    section.blocks.append(
        f"线索总数：{len(view)}（图斑 {int(dims.sum())}，点位 {int((~dims).sum())}）；"
        f"面积合计 {round(float(view['area_m2'].sum()) / 1e4, 2)} 公顷"
        + (f"，{no_area} 条点位线索无面积" if no_area else "") + "。")
    section.blocks.append("面积：图斑按等积投影（China Albers）计算，点位线索取上报面积。")
    by_reserve = reserve_table(ws, view)
    activity = counts_areas(view, "activity_type", "活动类型", NO_ACTIVITY)
    status = status_table(view)
    section.blocks += [
        Table("by_reserve", "按保护区（跨多个保护区的线索计入每个保护区；合计每条线索只计一次）",
              by_reserve),
        Table("by_zone", "按功能区（多保护区重叠时计入最严格的功能区）", zone_table(view)),
        Table("by_reserve_zone", "保护区 × 功能区（线索数；计入所在的每个保护区，合计每条计一次）",
              by_reserve_zone(ws, view).reset_index()),
        Table("by_activity", "按活动类型", activity),
        Table("by_county", "按县（市、区）", by_county(view)),
        Table("by_status", "按核查状态", status),
    ]
    if charts and len(view):
        top = by_reserve[by_reserve["保护区"] != "合计"].head(15)
        section.blocks.append(bar_chart("chart_reserve", "各保护区线索数（前15）",
                                        top["保护区"].tolist(), top[COUNT].tolist(),
                                        unit=COUNT, use_font=cjk))
        rows = status[status["核查状态"] != "合计"]
        section.blocks.append(bar_chart("chart_status", "核查状态", rows["核查状态"].tolist(),
                                        rows[COUNT].tolist(), unit=COUNT, use_font=cjk))
        rows = activity[activity["活动类型"] != "合计"]
        section.blocks.append(bar_chart("chart_activity", "活动类型面积（公顷）",
                                        rows["活动类型"].tolist(), rows[AREA_HA].tolist(),
                                        unit=AREA_HA, use_font=cjk))
    return section


def _progress(ws: Workspace, view: pd.DataFrame, today: date, *, charts: bool,
              cjk: bool) -> Section:
    section = Section("progress", "核查进度与逾期")
    progress = batch_progress(ws, view, today)
    if progress is None:
        section.blocks.append("工作空间没有批次上报期限表，未统计上报期限。")
    else:
        if not progress["上报期限"].astype(bool).any():
            section.blocks.append("尚未设置批次上报期限（lvdun status batch-deadline）。")
        section.blocks.append(Table("batch_progress", "各批次核查进度", progress))
        if charts and len(progress):
            share = (progress["已核查"] / progress[COUNT] * 100).round(1)
            section.blocks.append(bar_chart("chart_progress", "各批次核查进度（%）",
                                            progress["批次"].tolist(), share.tolist(),
                                            unit="%", use_font=cjk))
    late = overdue(ws, view, today)
    kinds = late["逾期类型"].value_counts()
    section.blocks.append(
        f"逾期线索 {len(late)} 条：" + ("，".join(f"{k} {v} 条" for k, v in kinds.items())
                                      or "无") + "（问题/整改中且整改期限已过；或待核查/核查中"
        "且批次上报期限已过）。")
    if len(late):
        section.blocks.append(Table("overdue", "逾期清单", late))
    return section


def _changes(ws: Workspace, since: str, view: pd.DataFrame) -> Section:
    changes = changes_since(ws, since, view=view)
    base = changes.baseline
    section = Section("changes", f"自运行 {base.run_id} 以来的变化")
    text = (f"基准：运行 {base.run_id}（{base.command}，完成于 {base.finished_at}）；"
            f"分类基准：{base.class_run or '无'}。")
    section.blocks.append(text)
    section.blocks.extend(changes.notes)
    section.blocks.append(Table("changes_by_reserve", "各保护区变化（条）",
                                changes.by_reserve().reset_index()))
    headers = {"lead_id": "线索编号", "kind_label": "变化", "before": "原", "after": "现",
               "detail": "说明"}
    for reserve, rows in changes.rows.groupby("reserve", sort=True):
        table = rows[list(headers)].rename(columns=headers).fillna("").reset_index(drop=True)
        section.blocks.append(Table(f"changes:{reserve}", str(reserve), table))
    return section
