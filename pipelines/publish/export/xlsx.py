"""The Excel ledger (台账): sheets, styles, drop-down lists, chip thumbnails, summary.

The sheet 台账 has a title row (保护区名称（代码）, 批次, 导出日期) above its Chinese headers,
a frozen header row and lead id, filters, drop-down lists for 核查状态 (the Chinese
statuses) and 原因, a date check on 整改期限, dates as dates, 面积(亩) beside 面积(平方米),
widths that fit, editable columns with yellow headers and hidden columns 版本 and 台账标识;
it prints landscape on A4, one page wide, the header row on every page. The sheet 汇总
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

from layers.read import is_blank
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
    column_texts,
    ledger_columns,
    ledger_rows,
)
from pipelines.publish.export.sheet_rows import SheetRows, insert_rows
from pipelines.verify.deadlines import OVERDUE_KINDS

__all__ = ["FIRST_ROW", "HEADER_ROW", "TITLE_ROW", "ledger_title", "write_xlsx"]

log = logging.getLogger(__name__)

_HEADER_FILL, _EDIT_FILL, _EDIT_CELL = "DDEBF7", "FFE699", "FFF8E1"
_NUMBER_FORMATS = {"lon": "0.000000", "lat": "0.000000", "area_m2": "0.00", "area_mu": "0.00",
                   "dist_boundary_m": "0.0"}
#: The sheet's rows: the title, the header, the first lead.
TITLE_ROW, HEADER_ROW, FIRST_ROW = 1, 2, 3


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
    import io

    from openpyxl import Workbook
    from openpyxl.cell import Cell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    columns = ledger_columns()
    table = ledger_rows(rows, ctx.opinions, workspace=ctx.workspace_id, run_id=ctx.run_id)
    book = Workbook()
    sheet = book.active
    sheet.title = MAIN_SHEET
    xlsx_row(sheet, [ledger_title(rows, title, ctx)])
    xlsx_row(sheet, columns.values())
    last = len(table) + HEADER_ROW
    letters = {c: get_column_letter(k) for k, c in enumerate(columns, start=1)}
    edit_fill = PatternFill("solid", fgColor=_EDIT_CELL)
    styles: list[tuple[int, int]] = []  # per column: style id of text, of other values
    for canon, letter in letters.items():
        head = sheet[f"{letter}{HEADER_ROW}"]
        head.font = Font(bold=True)
        head.fill = PatternFill("solid", fgColor=_EDIT_FILL if canon in EDITABLE
                                else _HEADER_FILL)
        head.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        number_format = ("yyyy-mm-dd" if canon in DATE_COLUMNS else "yyyy-mm-dd hh:mm"
                         if canon in DATETIME_COLUMNS else _NUMBER_FORMATS.get(canon))
        text, other = Cell(sheet), Cell(sheet)  # never in the sheet: their styles are
        if canon in EDITABLE:
            text.fill = other.fill = edit_fill
        if number_format:  # text keeps General, as typed
            other.number_format = number_format
        styles.append((text.style_id, other.style_id))
        values = {str(columns[canon]), *column_texts(canon, table[canon].head(500))}
        width = max(_display_width(v) for v in values) + 2
        sheet.column_dimensions[letter].width = min(max(width, 12 if canon in DATE_COLUMNS
                                                        else 8), 60)
        sheet.column_dimensions[letter].hidden = canon in HIDDEN
    sheet.freeze_panes = f"B{FIRST_ROW}"
    visible = [letters[c] for c in columns if c not in HIDDEN]
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{visible[-1]}{last}"
    _title_and_print(sheet, visible[-1], last)
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
            check.add(f"{letters[canon]}{FIRST_ROW}:{letters[canon]}{last}")
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
    meta.sheet_state = snapshot.sheet_state = "veryHidden"
    tall = _add_thumbnails(sheet, table, len(columns) + 1, ctx.chips)
    book.active = 0
    # the leads' rows, written straight as sheet XML (see sheet_rows)
    main = SheetRows(FIRST_ROW, len(columns))
    height = THUMB_PX * 0.75 + 4  # points: a thumbnail's row
    cells = zip(*(table[c] for c in columns), strict=True)
    for number, record in enumerate(cells, start=FIRST_ROW):
        main.add(record, styles, height if number in tall else None)
    texts = SheetRows(2, len(columns))  # under its header: every value as exported
    plain = [(0, 0)] * len(columns)
    shown = zip(*(column_texts(c, table[c]) for c in columns), strict=True)
    for record in shown:
        texts.add(record, plain)
    saved = io.BytesIO()
    book.save(saved)
    sheets = book.worksheets
    return insert_rows(saved.getvalue(), path, [(sheets.index(sheet) + 1, main),
                                                (sheets.index(snapshot) + 1, texts)])


def ledger_title(rows: pd.DataFrame, title: str, ctx: ExportContext) -> str:
    """Return the title row of a ledger: the group and its code, the batches, the date.

    ``甲保护区（R01）核查台账　批次：2024-H1　导出日期：2025-06-30``; the date is the
    export's, in China Standard Time.

    Parameters
    ----------
    rows : pandas.DataFrame
        The ledger's leads (their ``batch``).
    title : str
        The group's name, as :func:`write_xlsx` gets it.
    ctx : ExportContext
        The export (its time and the group's scope).
    """
    code = ctx.scope.code if ctx.scope is not None else None
    heading = title if code is None or title.endswith(f"（{code}）") else f"{title}（{code}）"
    batches = sorted({str(b).strip() for b in rows.get("batch", ()) if not is_blank(b)})
    shown = "、".join(batches) if len(batches) <= 4 else (
        f"{batches[0]} 至 {batches[-1]}（{len(batches)} 批）")
    return (f"{heading}核查台账　批次：{shown or '—'}　"
            f"导出日期：{ctx.exported_at:%Y-%m-%d}")


def _title_and_print(sheet: Any, last_letter: str, last_row: int) -> None:
    """The title's style over the visible columns, and the page setup for printing."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.properties import PageSetupProperties

    sheet.merge_cells(f"A{TITLE_ROW}:{last_letter}{TITLE_ROW}")
    cell = sheet[f"A{TITLE_ROW}"]
    cell.font = Font(bold=True, size=14)
    cell.alignment = Alignment(horizontal="left", vertical="center")
    sheet.row_dimensions[TITLE_ROW].height = 24
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the leads need
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.print_area = f"A{TITLE_ROW}:{last_letter}{last_row}"
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"


def _add_thumbnails(sheet: Any, table: pd.DataFrame, first_col: int,
                    chips: dict[str, dict[str, str]]) -> set[int]:
    """Put the leads' before/after chips, scaled to THUMB_PX high, after the last column.

    Nothing is added when no lead of the sheet has chips; a missing or unreadable chip
    file leaves its cell empty. Returns the sheet rows holding a thumbnail (they are
    made as high as one).
    """
    import io

    from openpyxl.drawing.image import Image as SheetImage
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from PIL import Image, UnidentifiedImageError

    leads = [str(v) for v in table["lead_id"]]
    tall: set[int] = set()
    if not any(chips.get(lead) for lead in leads):
        return tall
    widths: dict[str, int] = {}
    for offset, (kind, header) in enumerate(IMAGE_COLUMNS.items()):
        letter = get_column_letter(first_col + offset)
        head = sheet[f"{letter}{HEADER_ROW}"]
        head.value = header
        head.font = Font(bold=True)
        head.fill = PatternFill("solid", fgColor=_HEADER_FILL)
        head.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        widths[letter] = THUMB_PX
        for number, lead in enumerate(leads, start=FIRST_ROW):
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
            tall.add(number)
    for letter, px in widths.items():
        sheet.column_dimensions[letter].width = round(px / 7 + 2, 1)
    return tall


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
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
