"""The Excel ledger (台账): sheets, styles, drop-down lists, chip thumbnails, summary.

The sheet 台账 has Chinese headers, a frozen header row and lead id, filters, drop-down
lists for 核查状态 and 原因, a date check on 整改期限, dates as dates, widths that fit,
editable columns with yellow headers and hidden columns 版本 and 台账标识; the sheet 汇总
counts by zone, status, reason and overdue; two very hidden sheets, ``_lvdun`` (format,
workspace id, export run) and ``_lvdun_rows`` (every value as exported), let
``lvdun status import`` recognise the file and tell what was edited.
"""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from layers.schema import NOT_PROBLEM_REASONS, STATUS_LABELS, ZONE_LABELS, Status, Zone
from pipelines.escape import xlsx_row
from pipelines.publish.export.formats import ExportContext
from pipelines.publish.export.ledger_format import (
    DATE_COLUMNS,
    DATETIME_COLUMNS,
    EDITABLE,
    FORMAT,
    FORMAT_VERSION,
    HIDDEN,
    IMAGE_COLUMNS,
    MAIN_SHEET,
    META_SHEET,
    ROWS_SHEET,
    SUMMARY_SHEET,
    THUMB_PX,
    cell_text,
    ledger_columns,
    ledger_rows,
)
from pipelines.verify.deadlines import OVERDUE_KINDS

__all__ = ["write_xlsx"]

log = logging.getLogger(__name__)

_HEADER_FILL, _EDIT_FILL, _EDIT_CELL = "DDEBF7", "FFE699", "FFF8E1"
_NUMBER_FORMATS = {"lon": "0.000000", "lat": "0.000000", "area_m2": "0.00",
                   "dist_boundary_m": "0.0"}


def write_xlsx(rows: gpd.GeoDataFrame, path: Path, title: str, ctx: ExportContext) -> Path:
    """Write the Excel ledger of ``rows``: sheets 台账 and 汇总 and the hidden identity.

    Parameters
    ----------
    rows : geopandas.GeoDataFrame
        Leads of one group, rows of :func:`pipelines.publish.views.leads_view`.
    path : pathlib.Path
        File to write.
    title : str
        The group (reserve or county name), shown in 汇总 and recorded in ``_lvdun``.
    ctx : ExportContext
        What the writers of this export share (ids, opinions, overdue leads, chips).

    Returns
    -------
    Path
        The file written.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    columns = ledger_columns()
    table = ledger_rows(rows, ctx.opinions, workspace=ctx.workspace_id, run_id=ctx.run_id)
    book = Workbook()
    sheet = book.active
    sheet.title = MAIN_SHEET
    xlsx_row(sheet, columns.values())
    for record in table.itertuples(index=False):
        xlsx_row(sheet, record)
    last = len(table) + 1
    letters = {c: get_column_letter(k) for k, c in enumerate(columns, start=1)}
    edit_fill = PatternFill("solid", fgColor=_EDIT_CELL)
    for canon, letter in letters.items():
        head = sheet[f"{letter}1"]
        head.font = Font(bold=True)
        head.fill = PatternFill("solid", fgColor=_EDIT_FILL if canon in EDITABLE
                                else _HEADER_FILL)
        head.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        number_format = ("yyyy-mm-dd" if canon in DATE_COLUMNS else "yyyy-mm-dd hh:mm"
                         if canon in DATETIME_COLUMNS else _NUMBER_FORMATS.get(canon))
        for (cell,) in sheet.iter_rows(min_row=2, max_row=last, min_col=head.column,
                                       max_col=head.column):
            if number_format and not isinstance(cell.value, str):
                cell.number_format = number_format
            if canon in EDITABLE:
                cell.fill = edit_fill
        values = [str(columns[canon]), *(cell_text(canon, v) for v in table[canon].head(500))]
        width = max(_display_width(v) for v in values) + 2
        sheet.column_dimensions[letter].width = min(max(width, 12 if canon in DATE_COLUMNS
                                                        else 8), 60)
        sheet.column_dimensions[letter].hidden = canon in HIDDEN
    sheet.freeze_panes = "B2"
    visible = [letters[c] for c in columns if c not in HIDDEN]
    sheet.auto_filter.ref = f"A1:{visible[-1]}{last}"
    if len(table):
        checks = [
            (DataValidation(type="list", formula1=f'"{",".join(STATUS_LABELS.values())}"',
                            allow_blank=True, showErrorMessage=True, errorTitle="核查状态",
                            error="请从下拉列表中选择核查状态"), "status_label"),
            (DataValidation(type="list", formula1=f'"{",".join(NOT_PROBLEM_REASONS)}"',
                            allow_blank=True, showErrorMessage=True, errorStyle="warning",
                            errorTitle="原因", error="非问题须选原因代码；退回、重新打开可填写"
                            "其他原因"), "reason"),
            (DataValidation(type="date", operator="greaterThan", formula1="36526",
                            allow_blank=True, showErrorMessage=True, errorTitle="整改期限",
                            error="请填写日期，例如 2025-06-30"), "deadline"),
        ]
        for check, canon in checks:
            check.add(f"{letters[canon]}2:{letters[canon]}{last}")
            sheet.add_data_validation(check)
    _write_summary(book.create_sheet(SUMMARY_SHEET), rows, title, ctx)
    meta = book.create_sheet(META_SHEET)
    for item in (("format", FORMAT), ("format_version", str(FORMAT_VERSION)),
                 ("workspace_id", ctx.workspace_id), ("run_id", ctx.run_id),
                 ("exported_at", ctx.exported_at.isoformat()), ("group", title),
                 ("scope", ctx.scope.text() if ctx.scope else ""),
                 ("workspace", ctx.location),
                 ("editable", ",".join(EDITABLE.values()))):
        xlsx_row(meta, item)
    snapshot = book.create_sheet(ROWS_SHEET)
    xlsx_row(snapshot, columns)
    for _, record in table.iterrows():
        xlsx_row(snapshot, [cell_text(c, record[c]) for c in columns])
    meta.sheet_state = snapshot.sheet_state = "veryHidden"
    _add_thumbnails(sheet, table, len(columns) + 1, ctx.chips)
    book.active = 0
    book.save(path)
    return path


def _add_thumbnails(sheet: Any, table: pd.DataFrame, first_col: int,
                    chips: dict[str, dict[str, str]]) -> None:
    """Put the leads' before/after chips, scaled to THUMB_PX high, after the last column.

    Nothing is added when no lead of the sheet has chips; a missing or unreadable chip
    file leaves its cell empty.
    """
    import io

    from openpyxl.drawing.image import Image as SheetImage
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from PIL import Image, UnidentifiedImageError

    leads = [str(v) for v in table["lead_id"]]
    if not any(chips.get(lead) for lead in leads):
        return
    widths: dict[str, int] = {}
    for offset, (kind, header) in enumerate(IMAGE_COLUMNS.items()):
        letter = get_column_letter(first_col + offset)
        head = sheet[f"{letter}1"]
        head.value = header
        head.font = Font(bold=True)
        head.fill = PatternFill("solid", fgColor=_HEADER_FILL)
        head.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        widths[letter] = THUMB_PX
        for number, lead in enumerate(leads, start=2):
            path = chips.get(lead, {}).get(kind)
            if not path:
                continue
            try:
                with Image.open(path) as source:
                    scale = THUMB_PX / max(source.height, 1)
                    thumb = source.convert("RGB").resize(
                        (max(1, round(source.width * scale)), THUMB_PX), Image.LANCZOS)
            except (OSError, UnidentifiedImageError, ValueError) as exc:
                log.warning("lead %s: %s chip %s cannot be read (%s): no thumbnail",
                            lead, kind, path, exc)
                continue
            buffer = io.BytesIO()
            thumb.save(buffer, format="PNG")
            buffer.seek(0)
            picture = SheetImage(buffer)
            picture.width, picture.height = thumb.width, thumb.height
            sheet.add_image(picture, f"{letter}{number}")
            widths[letter] = max(widths[letter], thumb.width)
            sheet.row_dimensions[number].height = THUMB_PX * 0.75 + 4  # points
    for letter, px in widths.items():
        sheet.column_dimensions[letter].width = round(px / 7 + 2, 1)


def _write_summary(sheet: Any, rows: gpd.GeoDataFrame, title: str, ctx: ExportContext) -> None:
    from openpyxl.styles import Font

    late = ctx.overdue[ctx.overdue["lead_id"].isin(rows["lead_id"])]
    reasons = rows.loc[rows["status"] == Status.NOT_PROBLEM.value, "reason"].fillna("未填")
    zones = rows["zone"].fillna(Zone.OUTSIDE.value).value_counts()
    statuses = rows["status"].value_counts()
    blocks: list[tuple[str, list[tuple[str, Any]]]] = [
        ("台账", [("保护区/分组", title), ("线索数", len(rows)),
                 ("导出时间", ctx.exported_at.strftime("%Y-%m-%d %H:%M")),
                 ("导出批号", ctx.run_id)]),
        ("功能区", [(ZONE_LABELS[Zone(z)], int(n)) for z, n in zones.items()]),
        ("核查状态", [(label, int(statuses.get(s.value, 0))) for s, label in
                    STATUS_LABELS.items()]),
        ("非问题原因", [(str(r), int(n)) for r, n in reasons.value_counts().items()]),
        (f"逾期（截至 {ctx.exported_at:%Y-%m-%d}）",
         [(label, int((late["kind"] == kind).sum())) for kind, label in OVERDUE_KINDS.items()]),
    ]
    for heading, items in blocks:
        xlsx_row(sheet, [heading, "线索数" if heading != "台账" else ""])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for item in items:
            xlsx_row(sheet, item)
        sheet.append([])
    xlsx_row(sheet, ["说明", "黄色表头的列（" + "、".join(EDITABLE.values()) + "）可填写，其余列"
                     "只读；填好后用 lvdun status import 导入，空白单元格不会清除已有内容。"])
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 40


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
