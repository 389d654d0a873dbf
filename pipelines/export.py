"""Per-reserve (or per-county) verification lists: XLSX ledger, CSV, GPKG, SHP, KML, GeoJSON.

One folder per reserve (named safely whatever the reserve's name holds), one for leads
outside every reserve. XLSX and CSV carry Chinese headers; CSV is UTF-8 with BOM so that
Excel opens it as it is.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from layers.schema import ZONE_LABELS, Zone
from pipelines.errors import WorkspaceError
from pipelines.store.base import Workspace
from pipelines.views import LEDGER_COLUMNS, leads_view, ledger_frame

__all__ = ["FORMATS", "OUTSIDE_NAME", "ExportReport", "export", "safe_name"]

log = logging.getLogger(__name__)

FORMATS = ("xlsx", "csv", "gpkg", "shp", "kml", "geojson")
OUTSIDE_NAME = "保护区外"
NO_COUNTY = "县界外"

#: Short ASCII field names for shapefiles (10-byte limit).
_SHP_FIELDS = {
    "lead_id": "lead_id", "batch": "batch", "activity_type": "activity", "change_type": "change",
    "reserve_name": "reserve", "zone_label": "zone", "county_name": "county",
    "area_m2": "area_m2", "dist_boundary_m": "dist_m", "status_label": "status",
}


@dataclass
class ExportReport:
    """Files written per group."""

    out_dir: Path
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


def export(
    ws: Workspace,
    out_dir: str | Path,
    *,
    by: str = "reserve",
    formats: tuple[str, ...] = ("xlsx",),
) -> ExportReport:
    """Write one verification list per reserve (or county) in each of ``formats``.

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
    view = leads_view(ws)
    key = "reserve_name" if by == "reserve" else "county_name"
    view[key] = view[key].fillna(OUTSIDE_NAME if by == "reserve" else NO_COUNTY)
    out = Path(out_dir)
    report = ExportReport(out_dir=out)
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
        written = [_WRITERS[fmt](rows, folder / f"{stem}.{fmt}", str(group)) for fmt in formats]
        report.files[str(group)] = written
        report.rows[str(group)] = len(rows)
    log.info("exported %d groups to %s", len(report.files), out)
    return report


def _zone_sort(col: pd.Series) -> pd.Series:
    if col.name == "zone":
        order = {z.value: k for k, z in enumerate(
            [Zone.CORE, Zone.CORE_PROTECTION, Zone.BUFFER, Zone.EXPERIMENTAL,
             Zone.GENERAL_CONTROL, Zone.UNZONED, Zone.OUTSIDE])}
        return col.map(lambda z: order.get(z, 99))
    return col


def _write_xlsx(rows: gpd.GeoDataFrame, path: Path, title: str) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    table = ledger_frame(rows)
    book = Workbook()
    sheet = book.active
    sheet.title = "核查清单"
    sheet.append(list(table.columns))
    for record in table.itertuples(index=False):
        sheet.append([None if pd.isna(v) else v for v in record])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in sheet[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = sheet.dimensions
    for k, column in enumerate(table.columns, start=1):
        values = [str(column), *(str(v) for v in table[column].head(500) if not pd.isna(v))]
        width = max(_display_width(v) for v in values) + 2
        sheet.column_dimensions[get_column_letter(k)].width = min(max(width, 8), 60)
    summary = book.create_sheet("汇总")
    summary.append(["保护区/分组", title])
    summary.append(["线索数", len(table)])
    summary.append([])
    summary.append(["功能区", "线索数"])
    for zone, count in rows["zone"].fillna(Zone.OUTSIDE.value).value_counts().items():
        summary.append([ZONE_LABELS[Zone(zone)], int(count)])
    summary.append([])
    summary.append(["核查状态", "线索数"])
    for label, count in rows["status_label"].value_counts().items():
        summary.append([label, int(count)])
    book.save(path)
    return path


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _write_csv(rows: gpd.GeoDataFrame, path: Path, title: str) -> Path:
    ledger_frame(rows).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _geo_frame(rows: gpd.GeoDataFrame, *, short: bool = False) -> gpd.GeoDataFrame:
    names = _SHP_FIELDS if short else LEDGER_COLUMNS
    cols = [c for c in names if c in rows.columns]
    frame = rows[[*cols, "geometry"]].rename(columns=names)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=rows.crs)


def _write_gpkg(rows: gpd.GeoDataFrame, path: Path, title: str) -> Path:
    pyogrio.write_dataframe(_geo_frame(rows), path, layer="leads", driver="GPKG")
    return path


def _write_geojson(rows: gpd.GeoDataFrame, path: Path, title: str) -> Path:
    pyogrio.write_dataframe(_geo_frame(rows), path, driver="GeoJSON")
    return path


def _write_shp(rows: gpd.GeoDataFrame, path: Path, title: str) -> Path:
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


def _write_kml(rows: gpd.GeoDataFrame, path: Path, title: str) -> Path:
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
