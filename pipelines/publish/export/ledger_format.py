"""What a ledger (台账) holds: its columns, the editable ones, values as shown, its identity.

The XLSX and CSV exports (:mod:`pipelines.publish.export.xlsx`,
:mod:`pipelines.publish.export.formats`) write ledgers with these columns and values;
``lvdun status import`` (:mod:`pipelines.verify.ledger_import`) reads them back and
compares cells by :func:`cell_text`.
The hidden column 台账标识 carries the workspace id, the export run and a digest of the
editable values as exported.

A ledger is exported for one group, its :class:`Scope`: a reserve (by its code) or a
county (by its adcode), or the leads outside every reserve (outside every county), whose
code is None, a value no reserve code can be. The Excel ledger names its scope in its
hidden sheet ``_lvdun``; every ledger export also keeps its own record in the workspace
(:func:`record_export`: table ``meta``, ``ledger_export:<run id>``) of each group it wrote
and the version of every lead it exported, so that an import knows, from the workspace
and not from the file, which leads a ledger may change and which version it showed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pandas as pd

from layers.aliases import normalize_level, normalize_status
from layers.read import is_blank
from layers.schema import LEVEL_LABELS, SQM_PER_MU
from pipelines.errors import RecordError
from pipelines.publish.views import LEDGER_COLUMNS
from pipelines.store.base import Workspace
from pipelines.verify.status import parse_date

__all__ = [
    "DATETIME_COLUMNS",
    "DATE_COLUMNS",
    "EDITABLE",
    "FORMAT",
    "FORMAT_VERSION",
    "HIDDEN",
    "IMAGE_COLUMNS",
    "LEDGER_TZ",
    "MAIN_SHEET",
    "META_SHEET",
    "NUMBER_COLUMNS",
    "ROWS_SHEET",
    "SCOPE_KINDS",
    "SUMMARY_SHEET",
    "THUMB_PX",
    "ExportRecord",
    "Scope",
    "cell_text",
    "column_texts",
    "digest",
    "export_record",
    "ledger_columns",
    "ledger_rows",
    "record_export",
    "workspace_id",
]

log = logging.getLogger(__name__)

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
NUMBER_COLUMNS: dict[str, int] = {"lon": 6, "lat": 6, "area_m2": 2, "area_mu": 2,
                                  "dist_boundary_m": 1, "rounds": 0, "version": 0}
#: The area in 亩, beside the area in square metres.
_AREA_MU = {"area_mu": "面积(亩)"}
#: Times in the ledger are China Standard Time (the workspace stores UTC).
LEDGER_TZ = timezone(timedelta(hours=8))
_WORKSPACE_ID = "workspace_id"
_EXPORT_RECORD = "ledger_export:"
#: What a ledger may be exported for: one reserve or one county.
SCOPE_KINDS = ("reserve", "county")


def ledger_columns() -> dict[str, str]:
    """Return every ledger column, canonical name -> Chinese header, in sheet order.

    The lead's own note (备注 as sent) is 线索备注 here; 备注(核查意见) is the editable
    verification opinion; 面积(亩) follows 面积(平方米).
    """
    skip = {*EDITABLE, *HIDDEN, *_TAIL, "note"}
    head: dict[str, str] = {}
    for key, label in LEDGER_COLUMNS.items():
        if key not in skip:
            head[key] = label
            if key == "area_m2":
                head.update(_AREA_MU)
    return {**head, "note": "线索备注", **EDITABLE, **_TAIL, **HIDDEN}


def workspace_id(ws: Workspace, *, create: bool = False) -> str | None:
    """Return the workspace's id (table ``meta``), creating it when ``create``.

    A copy made with ``lvdun db copy`` keeps the id: it is the same workspace elsewhere.
    """
    with ws.transaction():
        rows = ws.read_table_equal("meta", "name", _WORKSPACE_ID)
        if not rows.empty and isinstance(rows["value"].iloc[0], str):
            return str(rows["value"].iloc[0])
        if not create:
            return None
        value = uuid.uuid4().hex
        ws.upsert_rows("meta", pd.DataFrame([{"name": _WORKSPACE_ID, "value": value}]))
    log.info("workspace %s: id %s", ws.location, value)
    return value


# -- what a ledger was exported for ----------------------------------------------------
@dataclass(frozen=True)
class Scope:
    """The group a ledger was exported for.

    Parameters
    ----------
    by
        ``reserve`` or ``county``.
    code
        The reserve's code or the county's adcode; None for the leads outside every
        reserve (or outside every county), so that no reserve's code, whatever it holds
        (``outside``, ``保护区外``), can stand for them.

    Examples
    --------
    >>> Scope("reserve", None).text()
    '{"by": "reserve", "code": null}'
    >>> Scope.parse('{"by": "reserve", "code": "R01"}')
    Scope(by='reserve', code='R01')
    """

    by: str
    code: str | None

    def text(self) -> str:
        """Return the scope as the ledger's metadata holds it (JSON)."""
        return json.dumps({"by": self.by, "code": self.code}, ensure_ascii=False)

    @classmethod
    def parse(cls, text: object) -> Scope | None:
        """Return the scope :meth:`text` wrote, or None when ``text`` is not one."""
        try:
            value = json.loads(str(text))
        except (TypeError, ValueError):
            return None
        if not isinstance(value, dict) or value.get("by") not in SCOPE_KINDS:
            return None
        code = value.get("code")
        if code is not None and not isinstance(code, str):
            return None
        return cls(str(value["by"]), code)


@dataclass(frozen=True)
class ExportRecord:
    """What one ledger export wrote, as the workspace keeps it (:func:`record_export`).

    ``names`` holds the name of each group written, ``leads`` the group and the version
    (None without a status row) of every lead as exported.
    """

    run_id: str
    names: dict[Scope, str]
    leads: dict[str, tuple[Scope, int | None]]


def record_export(
    ws: Workspace,
    run_id: str,
    groups: Iterable[tuple[Scope, str, Mapping[str, int | None]]],
) -> None:
    """Keep the record of a ledger export: each group and the versions of its leads.

    The record is a row of table ``meta`` (``ledger_export:<run id>``), not of ``runs``:
    a web download exports too, and a new run makes the web app read every lead again.
    ``lvdun export`` still logs its run in ``runs``. Write it in the export's
    transaction; about 20 bytes per exported lead.

    Parameters
    ----------
    ws : Workspace
        The workspace exported from.
    run_id : str
        The export run, as 台账标识 and ``_lvdun`` carry it.
    groups : iterable of tuple
        ``(scope, name, {lead id: version})`` per group written.
    """
    value = {"run_id": run_id, "groups": [
        {"by": scope.by, "code": scope.code, "name": name,
         "versions": {str(k): (None if v is None else int(v)) for k, v in versions.items()}}
        for scope, name, versions in groups]}
    ws.upsert_rows("meta", pd.DataFrame([{
        "name": _EXPORT_RECORD + run_id,
        "value": json.dumps(value, ensure_ascii=False, separators=(",", ":")),
    }]))


def export_record(ws: Workspace, run_id: str) -> ExportRecord | None:
    """Return the record :func:`record_export` kept of ``run_id``, or None without one.

    Ledgers exported by an lvdun older than the records have none.
    """
    rows = ws.read_table_equal("meta", "name", _EXPORT_RECORD + run_id)
    if rows.empty or not isinstance(rows["value"].iloc[0], str):
        return None
    try:
        value = json.loads(rows["value"].iloc[0])
        names: dict[Scope, str] = {}
        leads: dict[str, tuple[Scope, int | None]] = {}
        for group in value["groups"]:
            scope = Scope(str(group["by"]), group["code"])
            names[scope] = str(group["name"])
            leads.update({str(k): (scope, v) for k, v in group["versions"].items()})
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("the record of export run %s cannot be read (%s)", run_id, exc)
        return None
    return ExportRecord(run_id, names, leads)


# -- values as the ledger shows them ---------------------------------------------------
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

    Numbers are rounded as the ledger shows them, dates are ISO, statuses are codes,
    reserve levels their Chinese labels (a ledger of an older lvdun wrote ``national``).

    Examples
    --------
    >>> cell_text("area_m2", "1333.3400001"), cell_text("deadline", "2025/6/30")
    ('1333.34', '2025-06-30')
    >>> cell_text("status_label", "整改中"), cell_text("lon", 126.5)
    ('rectifying', '126.5')
    >>> cell_text("reserve_level", "national"), cell_text("reserve_level", "省级")
    ('国家级', '省级')
    """
    if is_blank(value):
        return ""
    if column == "status_label":
        status = normalize_status(value)
        return status.value if status is not None else str(value).strip()
    if column == "reserve_level":
        level = normalize_level(value)
        return LEVEL_LABELS[level] if level is not None else str(value).strip()
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
    view : pandas.DataFrame
        Rows of :func:`pipelines.publish.views.leads_view`.
    opinions : dict of str to str
        The current 核查意见 per lead id.
    workspace, run_id : str
        The workspace id and the export run, written into 台账标识.
    """
    columns = ledger_columns()
    table = pd.DataFrame(index=view.index)
    for column in columns:
        if column == "opinion":
            table[column] = [opinions.get(i) for i in view["lead_id"]]
        elif column in view.columns:
            table[column] = view[column]
        elif column == "area_mu" and "area_m2" in view.columns:
            table[column] = pd.to_numeric(view["area_m2"], errors="coerce") / SQM_PER_MU
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
    editable = zip(*(column_texts(c, table[c]) for c in EDITABLE), strict=True)
    table["ledger_id"] = [f"lvdun:{workspace}:{run_id}:{digest(list(texts))}"
                          for texts in editable]
    return table.reset_index(drop=True)


def column_texts(column: str, values: Iterable[Any]) -> list[str]:
    """Return :func:`cell_text` of every value of a column (each distinct value once).

    Examples
    --------
    >>> column_texts("status_label", ["待核查", "整改中", "待核查", None])
    ['pending', 'rectifying', 'pending', '']
    """
    seen: dict[Any, str] = {}
    out = []
    for value in values:
        try:
            text = seen.get(value)
        except TypeError:  # not hashable
            out.append(cell_text(column, value))
            continue
        if text is None:
            text = seen[value] = cell_text(column, value)
        out.append(text)
    return out


def _as_date(value: Any) -> Any:
    """A date for a date-like value; text that is no date stays as it is."""
    try:
        iso = parse_date(value)
    except RecordError:
        return value
    return date.fromisoformat(iso) if iso else None
