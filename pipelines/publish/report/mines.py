"""The report's mine section: restoration of closed and historic mines, leads in mines."""

from __future__ import annotations

from datetime import date

import pandas as pd

from layers.mines import MINE_STATUSES, OUTSIDE_MARK, RESTORATION_PROGRESS, TRIAGE_MARK
from layers.schema import OUTSIDE_NAME
from pipelines.publish.report.model import Section, Table
from pipelines.publish.report.summaries import AREA_HA
from pipelines.store.base import Workspace
from pipelines.verify.mines import due_checks, refusing

__all__ = ["DUE_COLUMNS", "REFUSING_COLUMNS", "mine_section"]

#: Chinese headers of :func:`pipelines.verify.mines.due_checks` columns.
DUE_COLUMNS = {
    "mine_id": "许可证号", "mine_name": "矿山名称", "mine_status": "矿山状态",
    "restoration_progress": "治理进度", "kind_label": "检查类型", "every_months": "周期(月)",
    "last_date": "上次检查", "due_date": "应检日期", "days_overdue": "逾期天数",
}
#: Chinese headers of :func:`pipelines.verify.mines.refusing` columns (money in 万元).
REFUSING_COLUMNS = {
    "mine_id": "许可证号", "mine_name": "矿山名称", "mine_status": "矿山状态",
    "responsible_party": "责任主体", "closed_year": "关闭年份", "since": "未治理起算",
    "since_basis": "起算依据", "months_untreated": "未治理月数",
    "deposit_yuan": "保证金(万元)", "deposit_used_yuan": "保证金已使用(万元)",
    "deposit_left_yuan": "保证金余额(万元)", "reclamation_fund_yuan": "土地复垦费(万元)",
    "reclamation_used_yuan": "复垦费已使用(万元)", "reclamation_left_yuan": "复垦费余额(万元)",
}
_MONEY = {"deposit_yuan": "保证金(万元)", "deposit_used_yuan": "保证金已使用(万元)",
          "reclamation_fund_yuan": "土地复垦费(万元)",
          "reclamation_used_yuan": "复垦费已使用(万元)"}


def mine_section(
    ws: Workspace, view: pd.DataFrame, mines: pd.DataFrame, *, today: date,
    refusing_months: int = 12,
) -> Section:
    """Mines by status and restoration progress, money, visits due, refusals, flagged leads.

    Parameters
    ----------
    ws : Workspace
        The workspace (mine checks and refusals are read from it).
    view : pandas.DataFrame
        The leads of the report (:func:`pipelines.publish.views.leads_view`, filtered).
    mines : pandas.DataFrame
        The workspace's mines layer.
    today : datetime.date
        Reference date of the visits due and of the refusals.
    refusing_months : int
        Closed mines 未治理 longer than this are listed as refusing restoration.
    """
    section = Section("mines", "矿山：关闭及历史遗留矿山修复")
    if mines.empty:
        section.blocks.append("工作空间中没有矿山数据（lvdun ingest mines FILE）。")
    else:
        section.blocks.append(Table("mines_by_status", "矿山状态 × 治理进度（座）",
                                    _status_progress(mines)))
        section.blocks.append(Table("mine_funds", "保证金与土地复垦费（万元）", _funds(mines)))
    triage = view[view["mine_flag"].fillna("").str.contains(TRIAGE_MARK, regex=False)]
    beyond = view[view["mine_flag"].fillna("").str.contains(OUTSIDE_MARK, regex=False)]
    section.blocks.append(
        f"位于关闭或历史遗留矿山内的线索 {len(triage)} 条（修复施工或复采，需研判）；"
        f"位于有效矿权许可范围外邻近区域的线索 {len(beyond)} 条（疑似越界开采）。")
    if len(triage):
        section.blocks.append(Table("mine_triage", "关闭/历史遗留矿山内线索（需研判）",
                                    _leads(triage)))
    if len(beyond):
        section.blocks.append(Table("mine_beyond", "有效矿权许可范围外线索（疑似越界开采）",
                                    _leads(beyond)))
    if mines.empty:
        return section
    due = due_checks(ws, today=today)
    section.blocks.append(Table(
        "mine_due", f"截至 {today.isoformat()} 应监测（有效矿权，半年）或应巡查（关闭矿山，季度）",
        due[list(DUE_COLUMNS)].rename(columns=DUE_COLUMNS),
        note="上次检查为空：没有检查记录（lvdun mines inspected LICENCE --date D）。"))
    late = refusing(ws, months=refusing_months, today=today)
    table = late[list(REFUSING_COLUMNS)].copy()
    for col in REFUSING_COLUMNS:
        if col.endswith("_yuan"):
            table[col] = (pd.to_numeric(table[col], errors="coerce") / 1e4).round(2)
    section.blocks.append(Table(
        "mine_refusing", f"关闭超过 {refusing_months} 个月仍未治理的矿山",
        table.rename(columns=REFUSING_COLUMNS),
        note="仅关闭矿山（企业仍在）；关闭年份仅有年度时按年末起算。"))
    return section


def _status_progress(mines: pd.DataFrame) -> pd.DataFrame:
    status = mines["mine_status"].fillna("未填写")
    progress = mines["restoration_progress"].fillna("未填写")
    table = pd.crosstab(status, progress)
    cols = [p for p in (*RESTORATION_PROGRESS, "未填写") if p in table.columns]
    rows = [s for s in (*MINE_STATUSES, "未填写") if s in table.index]
    table = table.loc[rows, cols]
    table["合计"] = table.sum(axis=1)
    table.loc["合计"] = table.sum(axis=0)
    table.index.name = "矿山状态"
    return table.reset_index()


def _funds(mines: pd.DataFrame) -> pd.DataFrame:
    status = mines["mine_status"].fillna("未填写")
    rows = []
    for name in [*(s for s in MINE_STATUSES if (status == s).any()), "合计"]:
        part = mines if name == "合计" else mines[status == name]
        row: dict[str, object] = {"矿山状态": name, "矿山数": len(part)}
        for col, label in _MONEY.items():
            total = pd.to_numeric(part[col], errors="coerce").sum(min_count=1)
            row[label] = None if pd.isna(total) else round(float(total) / 1e4, 2)
        rows.append(row)
    return pd.DataFrame(rows)


def _leads(leads: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "线索编号": leads["lead_id"].to_numpy(),
        "批次": leads["batch"].to_numpy(),
        "保护区": leads["reserve_name"].fillna(OUTSIDE_NAME).to_numpy(),
        "研判提示": leads["mine_flag"].to_numpy(),
        "活动类型": leads["activity_type"].fillna("").to_numpy(),
        AREA_HA: (pd.to_numeric(leads["area_m2"], errors="coerce") / 1e4).round(4).to_numpy(),
        "核查状态": leads["status_label"].to_numpy(),
    }).sort_values("线索编号").reset_index(drop=True)
