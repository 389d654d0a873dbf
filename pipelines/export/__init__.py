"""Per-reserve (or per-county) verification lists: the XLSX/CSV ledger (台账), GPKG, SHP,
KML, GeoJSON.

One folder per reserve (named safely whatever the reserve's name holds), one for leads
outside every reserve. The XLSX and CSV files are the ledger that bureau staff fill in and
``lvdun status import`` reads back (:mod:`pipelines.ledger`): this module defines what a
ledger holds (columns, editable ones, values as shown, the hidden identity) and writes it.
CSV is UTF-8 with BOM so that Excel opens it as it is.

:func:`export` is here; what a ledger holds is defined in
:mod:`pipelines.export.ledger_format`, the Excel ledger is written by
:mod:`pipelines.export.xlsx`, the other files by :mod:`pipelines.export.formats`.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from layers.schema import Zone
from pipelines.deadlines import overdue
from pipelines.errors import WorkspaceError
from pipelines.export.formats import (
    ExportContext,
    write_csv,
    write_geojson,
    write_gpkg,
    write_kml,
    write_shp,
)
from pipelines.export.ledger_format import (
    DATE_COLUMNS,
    DATETIME_COLUMNS,
    EDITABLE,
    FORMAT,
    FORMAT_VERSION,
    HIDDEN,
    IMAGE_COLUMNS,
    LEDGER_TZ,
    MAIN_SHEET,
    META_SHEET,
    NUMBER_COLUMNS,
    ROWS_SHEET,
    SUMMARY_SHEET,
    THUMB_PX,
    cell_text,
    digest,
    ledger_columns,
    ledger_rows,
    workspace_id,
)
from pipelines.export.xlsx import write_xlsx
from pipelines.store.base import Workspace, new_run_id, now_iso
from pipelines.views import leads_view

__all__ = [
    "DATETIME_COLUMNS",
    "DATE_COLUMNS",
    "EDITABLE",
    "FORMAT",
    "FORMATS",
    "FORMAT_VERSION",
    "HIDDEN",
    "IMAGE_COLUMNS",
    "LEDGER_FORMATS",
    "LEDGER_TZ",
    "MAIN_SHEET",
    "META_SHEET",
    "NO_COUNTY",
    "NUMBER_COLUMNS",
    "OUTSIDE_NAME",
    "ROWS_SHEET",
    "SUMMARY_SHEET",
    "THUMB_PX",
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
    ctx = ExportContext(
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


_WRITERS = {
    "xlsx": write_xlsx,
    "csv": write_csv,
    "gpkg": write_gpkg,
    "shp": write_shp,
    "kml": write_kml,
    "geojson": write_geojson,
}
