"""Per-reserve (or per-county) verification lists: the XLSX/CSV ledger (台账), GPKG, SHP,
KML, GeoJSON.

One folder per reserve (named safely whatever the reserve's name holds), one for leads
outside every reserve. The XLSX and CSV files are the ledger that bureau staff fill in and
``lvdun status import`` reads back (:mod:`pipelines.ledger`): this module defines what a
ledger holds (columns, editable ones, values as shown, the hidden identity) and writes it.
CSV is UTF-8 with BOM so that Excel opens it as it is.

An Excel ledger has the sheet 台账 (Chinese headers, frozen header row and lead id, filters,
drop-down lists for 核查状态 and 原因, a date check on 整改期限, dates as dates, widths
that fit, editable columns with yellow headers, hidden columns 版本 and 台账标识), the
sheet 汇总 (counts by zone, status, reason, overdue) and two very hidden sheets: ``_lvdun``
(format, workspace id, export run) and ``_lvdun_rows`` (every value as exported).
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from layers.aliases import normalize_status
from layers.read import is_blank
from layers.schema import (
    LEVEL_LABELS,
    NOT_PROBLEM_REASONS,
    STATUS_LABELS,
    ZONE_LABELS,
    Status,
    Zone,
)
from pipelines.deadlines import OVERDUE_KINDS, overdue
from pipelines.errors import RecordError, WorkspaceError
from pipelines.store.base import Workspace, new_run_id, now_iso
from pipelines.verify import parse_date
from pipelines.views import LEDGER_COLUMNS, leads_view

__all__ = [
    "DATE_COLUMNS",
    "EDITABLE",
    "FORMAT",
    "FORMATS",
    "HIDDEN",
    "IMAGE_COLUMNS",
    "LEDGER_FORMATS",
    "OUTSIDE_NAME",
    "ExportReport",
    "cell_text",
    "digest",
    "export",
    "ledger_columns",
    "ledger_rows",
    "safe_name",
    "workspace_id",
]

log = logging.getLogger(__name__)

FORMATS = ("xlsx", "csv", "gpkg", "shp", "kml", "geojson")
#: The formats that are ledgers (read back by ``lvdun status import``).
LEDGER_FORMATS = ("xlsx", "csv")
OUTSIDE_NAME = "保护区外"
NO_COUNTY = "县界外"

#: Short ASCII field names for shapefiles (10-byte limit).
_SHP_FIELDS = {
    "lead_id": "lead_id", "batch": "batch", "activity_type": "activity", "change_type": "change",
    "reserve_name": "reserve", "zone_label": "zone", "county_name": "county",
    "area_m2": "area_m2", "dist_boundary_m": "dist_m", "status_label": "status",
}


# -- the ledger: columns, values, identity ---------------------------------------------
FORMAT = "lvdun-ledger"
FORMAT_VERSION = 1
MAIN_SHEET, SUMMARY_SHEET, META_SHEET, ROWS_SHEET = "台账", "汇总", "_lvdun", "_lvdun_rows"

#: Columns a person may edit, in sheet order.
EDITABLE: dict[str, str] = {
    "status_label": "核查状态",
    "reason": "原因",
    "responsible_unit": "整改责任单位",
    "measures": "整改措施",
    "deadline": "整改期限",
    "opinion": "备注(核查意见)",
}
#: Columns hidden in Excel (last in the sheet).
HIDDEN: dict[str, str] = {"version": "版本", "ledger_id": "台账标识"}
_TAIL = {"updated_at": "更新时间", "updated_by": "更新人"}
#: Thumbnail columns of an Excel ledger (after the hidden ones, only when a lead of the
#: file has chips): chip kind -> header. They hold pictures, no values; import ignores them.
IMAGE_COLUMNS: dict[str, str] = {"before": "前时相影像", "after": "后时相影像"}
#: Thumbnail height in pixels.
THUMB_PX = 96
DATE_COLUMNS = frozenset({"date_before", "date_after", "deadline"})
DATETIME_COLUMNS = frozenset({"updated_at"})
#: Numbers and the decimals the ledger shows them with.
NUMBER_COLUMNS: dict[str, int] = {"lon": 6, "lat": 6, "area_m2": 2, "dist_boundary_m": 1,
                                  "rounds": 0, "version": 0}
#: Times in the ledger are China Standard Time (the workspace stores UTC).
LEDGER_TZ = timezone(timedelta(hours=8))
_WORKSPACE_ID = "workspace_id"


def ledger_columns() -> dict[str, str]:
    """Return every ledger column, canonical name -> Chinese header, in sheet order.

    The lead's own note (备注 as sent) is 线索备注 here; 备注(核查意见) is the editable
    verification opinion.
    """
    skip = {*EDITABLE, *HIDDEN, *_TAIL, "note"}
    head = {k: v for k, v in LEDGER_COLUMNS.items() if k not in skip}
    return {**head, "note": "线索备注", **EDITABLE, **_TAIL, **HIDDEN}


def workspace_id(ws: Workspace, *, create: bool = False) -> str | None:
    """Return the workspace's id (table ``meta``), creating it when ``create``.

    A copy made with ``lvdun db copy`` keeps the id: it is the same workspace elsewhere.
    """
    with ws.transaction():
        rows = ws.read_table("meta", where='"name" = ?', params=[_WORKSPACE_ID])
        if not rows.empty and isinstance(rows["value"].iloc[0], str):
            return str(rows["value"].iloc[0])
        if not create:
            return None
        value = uuid.uuid4().hex
        ws.upsert_rows("meta", pd.DataFrame([{"name": _WORKSPACE_ID, "value": value}]))
    log.info("workspace %s: id %s", ws.location, value)
    return value


# -- values as the ledger shows them ------------------------------------------------------
def _local_time(value: Any) -> datetime | None:
    """An ISO UTC timestamp of the workspace as a naive China Standard Time datetime."""
    if is_blank(value):
        return None
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(LEDGER_TZ).replace(tzinfo=None)
    return stamp.replace(microsecond=0)


def cell_text(column: str, value: Any) -> str:
    """Return the text a ledger cell stands for, the same whether read from Excel or CSV.

    Numbers are rounded as the ledger shows them, dates are ISO, statuses are codes.

    Examples
    --------
    >>> cell_text("area_m2", "1333.3400001"), cell_text("deadline", "2025/6/30")
    ('1333.34', '2025-06-30')
    >>> cell_text("status_label", "整改中"), cell_text("lon", 126.5)
    ('rectifying', '126.5')
    """
    if is_blank(value):
        return ""
    if column == "status_label":
        status = normalize_status(value)
        return status.value if status is not None else str(value).strip()
    if column in DATE_COLUMNS:
        try:
            return parse_date(value) or ""
        except RecordError:
            return str(value).strip()
    if column in DATETIME_COLUMNS:
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M")
        return str(value).strip()[:16].replace("T", " ")
    if column in NUMBER_COLUMNS or isinstance(value, int | float):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value).strip()
        places = NUMBER_COLUMNS.get(column, 6)
        return f"{round(number, places):.{places}f}".rstrip("0").rstrip(".") or "0"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def digest(texts: list[str]) -> str:
    """Return the short digest of a row's editable values that 台账标识 carries."""
    return hashlib.sha256("\x1f".join(texts).encode("utf-8")).hexdigest()[:12]


def ledger_rows(
    view: pd.DataFrame, opinions: dict[str, str], *, workspace: str, run_id: str
) -> pd.DataFrame:
    """Return the ledger of some leads: canonical columns, values as the sheet holds them.

    Parameters
    ----------
    view
        Rows of :func:`pipelines.views.leads_view`.
    opinions
        The current 核查意见 per lead id.
    workspace, run_id
        The workspace id and the export run, written into 台账标识.
    """
    columns = ledger_columns()
    table = pd.DataFrame(index=view.index)
    for column in columns:
        if column == "opinion":
            table[column] = [opinions.get(i) for i in view["lead_id"]]
        elif column in view.columns:
            table[column] = view[column]
        else:
            table[column] = None
    table = table.astype(object).where(table.notna(), None)
    for column in DATE_COLUMNS:
        table[column] = [_as_date(v) for v in table[column]]
    table["updated_at"] = [_local_time(v) for v in table["updated_at"]]
    levels = {level.value: label for level, label in LEVEL_LABELS.items()}
    table["reserve_level"] = [levels.get(v, v) for v in table["reserve_level"]]
    for column, places in NUMBER_COLUMNS.items():
        if column in table.columns:
            table[column] = [None if is_blank(v) else (int(v) if places == 0 else
                             round(float(v), places)) for v in table[column]]
    table["ledger_id"] = [
        f"lvdun:{workspace}:{run_id}:{digest([cell_text(c, r[c]) for c in EDITABLE])}"
        for _, r in table.iterrows()
    ]
    return table.reset_index(drop=True)


def _as_date(value: Any) -> Any:
    """A date for a date-like value; text that is no date stays as it is."""
    try:
        iso = parse_date(value)
    except RecordError:
        return value
    return date.fromisoformat(iso) if iso else None



# -- exports ------------------------------------------------------------------------------
@dataclass
class ExportReport:
    """Files written per group; the export run and the workspace id the ledgers carry."""

    out_dir: Path
    run_id: str = ""
    workspace_id: str = ""
    files: dict[str, list[Path]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def safe_name(name: str, *, max_len: int = 60) -> str:
    """Return a file-system-safe folder/file name that keeps Chinese characters.

    Examples
    --------
    >>> safe_name("长白山/国家级: 保护区*?")
    '长白山_国家级_保护区'
    >>> safe_name("..")
    '_'
    """
    text = unicodedata.normalize("NFKC", str(name)).strip()
    text = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", text)
    text = re.sub(r"\s+", "_", text)
    text = re.sub(r"_+", "_", text).strip("._ ")
    return text[:max_len] or "_"


@dataclass
class _Context:
    """What every writer of one export shares."""

    workspace_id: str
    run_id: str
    exported_at: datetime
    location: str
    opinions: dict[str, str]
    overdue: pd.DataFrame
    #: Chip PNG paths per lead id and kind (table ``lead_chips``).
    chips: dict[str, dict[str, str]] = field(default_factory=dict)


def export(
    ws: Workspace,
    out_dir: str | Path,
    *,
    by: str = "reserve",
    formats: tuple[str, ...] = ("xlsx",),
) -> ExportReport:
    """Write one verification list per reserve (or county) in each of ``formats``.

    The XLSX and CSV lists are ledgers: they carry each lead's version and the
    workspace's identity, and ``lvdun status import`` reads them back. A ledger export is
    recorded in the run log (``runs``, command ``export``).

    Parameters
    ----------
    ws
        A classified workspace.
    out_dir
        Folder to write into; one sub-folder per group.
    by
        ``reserve`` (the winning reserve) or ``county``.
    formats
        Any of ``FORMATS``.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise WorkspaceError(f"unknown format {unknown[0]!r}; use one of {', '.join(FORMATS)}")
    if by not in ("reserve", "county"):
        raise WorkspaceError(f"--by {by!r}: use reserve or county")
    if not ws.count("lead_class"):
        raise WorkspaceError("leads are not classified yet: run `lvdun classify` first")
    started = now_iso()
    view = leads_view(ws)
    key = "reserve_name" if by == "reserve" else "county_name"
    view[key] = view[key].fillna(OUTSIDE_NAME if by == "reserve" else NO_COUNTY)
    out = Path(out_dir)
    ledger = any(f in LEDGER_FORMATS for f in formats)
    opinions = ws.read_table("lead_opinion")
    ctx = _Context(
        workspace_id=(workspace_id(ws, create=True) or "") if ledger else "",
        run_id=new_run_id(),
        exported_at=datetime.now(LEDGER_TZ).replace(tzinfo=None, microsecond=0),
        location=ws.location,
        opinions=dict(zip(opinions["lead_id"], opinions["opinion"], strict=True)),
        overdue=overdue(ws) if "xlsx" in formats else pd.DataFrame(columns=["lead_id", "kind"]),
        chips=_chip_paths(ws) if "xlsx" in formats else {},
    )
    report = ExportReport(out_dir=out, run_id=ctx.run_id, workspace_id=ctx.workspace_id)
    used: dict[str, str] = {}
    for group, rows in view.groupby(key, sort=True):
        folder_name = safe_name(str(group))
        if used.get(folder_name, group) != group:  # two names that sanitise alike
            folder_name = f"{folder_name}_{len(used)}"
        used[folder_name] = str(group)
        folder = out / folder_name
        folder.mkdir(parents=True, exist_ok=True)
        rows = rows.sort_values(["zone", "lead_id"], key=_zone_sort)
        stem = f"{folder_name}_核查清单"
        written = [_WRITERS[fmt](rows, folder / f"{stem}.{fmt}", str(group), ctx)
                   for fmt in formats]
        report.files[str(group)] = written
        report.rows[str(group)] = len(rows)
    if ledger:
        ws.record_run(ctx.run_id, "export", started_at=started,
                      params={"by": by, "formats": list(formats), "out": str(out),
                              "workspace_id": ctx.workspace_id},
                      counts=report.rows)
    log.info("exported %d groups to %s (run %s)", len(report.files), out, ctx.run_id)
    return report


def _chip_paths(ws: Workspace) -> dict[str, dict[str, str]]:
    """Return the chip PNG paths per lead id and kind (empty when there are none)."""
    if not ws.count("lead_chips"):
        return {}
    chips: dict[str, dict[str, str]] = {}
    for row in ws.read_table("lead_chips").itertuples(index=False):
        if row.kind in IMAGE_COLUMNS and isinstance(row.path, str) and row.path:
            chips.setdefault(str(row.lead_id), {})[str(row.kind)] = row.path
    return chips


def _zone_sort(col: pd.Series) -> pd.Series:
    if col.name == "zone":
        order = {z.value: k for k, z in enumerate(
            [Zone.CORE, Zone.CORE_PROTECTION, Zone.BUFFER, Zone.EXPERIMENTAL,
             Zone.GENERAL_CONTROL, Zone.UNZONED, Zone.OUTSIDE])}
        return col.map(lambda z: order.get(z, 99))
    return col


_HEADER_FILL, _EDIT_FILL, _EDIT_CELL = "DDEBF7", "FFE699", "FFF8E1"
_NUMBER_FORMATS = {"lon": "0.000000", "lat": "0.000000", "area_m2": "0.00",
                   "dist_boundary_m": "0.0"}


def _write_xlsx(rows: gpd.GeoDataFrame, path: Path, title: str, ctx: _Context) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    columns = ledger_columns()
    table = ledger_rows(rows, ctx.opinions, workspace=ctx.workspace_id, run_id=ctx.run_id)
    book = Workbook()
    sheet = book.active
    sheet.title = MAIN_SHEET
    sheet.append(list(columns.values()))
    for record in table.itertuples(index=False):
        sheet.append(list(record))
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
                 ("workspace", ctx.location),
                 ("editable", ",".join(EDITABLE.values()))):
        meta.append(list(item))
    snapshot = book.create_sheet(ROWS_SHEET)
    snapshot.append(list(columns))
    for _, record in table.iterrows():
        snapshot.append([cell_text(c, record[c]) for c in columns])
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


def _write_summary(sheet: Any, rows: gpd.GeoDataFrame, title: str, ctx: _Context) -> None:
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
        sheet.append([heading, "线索数" if heading != "台账" else ""])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for item in items:
            sheet.append(list(item))
        sheet.append([])
    sheet.append(["说明", "黄色表头的列（" + "、".join(EDITABLE.values()) + "）可填写，其余列"
                  "只读；填好后用 lvdun status import 导入，空白单元格不会清除已有内容。"])
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 40


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _write_csv(rows: gpd.GeoDataFrame, path: Path, title: str, ctx: _Context) -> Path:
    columns = ledger_columns()
    table = ledger_rows(rows, ctx.opinions, workspace=ctx.workspace_id, run_id=ctx.run_id)
    for canon in columns:
        if canon in DATE_COLUMNS or canon in DATETIME_COLUMNS:
            table[canon] = [cell_text(canon, v) for v in table[canon]]
    table.rename(columns=columns).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _geo_frame(rows: gpd.GeoDataFrame, *, short: bool = False) -> gpd.GeoDataFrame:
    names = _SHP_FIELDS if short else LEDGER_COLUMNS
    cols = [c for c in names if c in rows.columns]
    frame = rows[[*cols, "geometry"]].rename(columns=names)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=rows.crs)


def _write_gpkg(rows: gpd.GeoDataFrame, path: Path, title: str, ctx: _Context) -> Path:
    pyogrio.write_dataframe(_geo_frame(rows), path, layer="leads", driver="GPKG")
    return path


def _write_geojson(rows: gpd.GeoDataFrame, path: Path, title: str, ctx: _Context) -> Path:
    pyogrio.write_dataframe(_geo_frame(rows), path, driver="GeoJSON")
    return path


def _write_shp(rows: gpd.GeoDataFrame, path: Path, title: str, ctx: _Context) -> Path:
    frame = _geo_frame(rows, short=True)
    points = frame[frame.geom_type == "Point"]
    polys = frame[frame.geom_type != "Point"]
    if len(polys) and len(points):  # a shapefile holds one geometry type
        pyogrio.write_dataframe(points, path.with_name(path.stem + "_points.shp"),
                                encoding="UTF-8")
        pyogrio.write_dataframe(polys, path.with_name(path.stem + "_patches.shp"),
                                encoding="UTF-8")
        return path.with_name(path.stem + "_points.shp")
    pyogrio.write_dataframe(frame, path, encoding="UTF-8")
    return path


def _write_kml(rows: gpd.GeoDataFrame, path: Path, title: str, ctx: _Context) -> Path:
    frame = _geo_frame(rows).rename(columns={"线索编号": "Name"})
    pyogrio.write_dataframe(frame.to_crs(4326), path, driver="KML")
    return path


_WRITERS = {
    "xlsx": _write_xlsx,
    "csv": _write_csv,
    "gpkg": _write_gpkg,
    "shp": _write_shp,
    "kml": _write_kml,
    "geojson": _write_geojson,
}
