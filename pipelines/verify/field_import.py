"""Reading what field apps send back: ``lvdun field import``.

Three kinds of file, each read into the rows of a ledger (canonical names ``lead_id``,
``status_label``, ``reason``, ``opinion``, ``ledger_id``) and applied by
:func:`pipelines.verify.ledger_import.apply_ledger`, so the rules are the ledger
import's: legal transitions only (a jump along its unique forward path), a lead changes
only if it was in the package, judged by the version the package recorded (a stale edit
is a conflict showing both sides), a row-by-row report, and a second import of the same
file changes nothing.

- **QField** (``.gpkg``): the package's GeoPackage, layer ``leads``, edited in QField:
  ``status`` (Chinese label), ``reason``, ``note`` (becomes the 核查意见) and ``photo``
  (a path relative to the GeoPackage, recorded as evidence with its EXIF position).
  Every row carries its 台账标识 with the digest of its values as packaged, so an unedited
  row is not taken for an edit.
- **ODK Collect** (``.csv``): the submissions CSV that ODK Central or Briefcase exports of
  the package's form (columns of groups are ``group-name``; geopoints ``position-Latitude``
  ...). The verdict and reason become the status, notes and the officer's GPS position the
  核查意见, photos found next to the CSV (or in ``media/``) evidence. Several submissions
  of one lead are refused as duplicates: delete the superseded ones.
- **奥维 / 两步路** (``.kml`` / ``.kmz`` saved back): placemarks matched by lead id (their
  ``ExtendedData`` ``lead_id`` or ``线索编号``, else their name); the text written in the
  description (after the package's table) becomes the 核查意见, a line ``核查状态：问题`` /
  ``原因：手续合法`` in it the status and reason, and a placemark moved away from the lead
  adds its position.
"""

from __future__ import annotations

import csv
import html
import io
import logging
import math
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
from pyproj import Geod

from geo.shift import gcj02_to_wgs84
from layers.i18n import _
from layers.read import is_blank
from layers.schema import NOT_PROBLEM_REASONS
from pipelines.errors import LedgerError
from pipelines.escape import csv_unescape
from pipelines.publish.export import EDITABLE
from pipelines.store.base import Workspace
from pipelines.verify.ledger_import import EVIDENCE, ImportReport, LedgerFile, apply_ledger

__all__ = ["import_field", "read_field_file"]

log = logging.getLogger(__name__)

_GEOD = Geod(ellps="GRS80")
#: A placemark moved farther than this from the lead's centre records its position.
MOVED_M = 5.0
_KINDS = {".gpkg": "QField GeoPackage", ".csv": "ODK submissions CSV",
          ".kml": "奥维 / 两步路 KML", ".kmz": "奥维 / 两步路 KMZ"}


def _row(lead: Any, **values: Any) -> dict[str, Any]:
    """A ledger row: every editable column (None: keep), plus what is given."""
    row: dict[str, Any] = {c: None for c in EDITABLE}
    row.update(lead_id=None if is_blank(lead) else str(lead).strip(), **values)
    return row


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return float(_GEOD.inv(lon1, lat1, lon2, lat2)[2])


# -- QField ---------------------------------------------------------------------------------
#: Chinese field names a package's layer may carry instead of its own (the ledger's).
_GPKG_NAMES = {"线索编号": "lead_id", "核查状态": "status", "原因": "reason", "备注": "note",
               "核查意见": "note", "台账标识": "ledger_id", "照片": "photo"}


def _read_gpkg(path: Path) -> LedgerFile:
    try:
        layers = {name for name, _kind in pyogrio.list_layers(path)}
    except pyogrio.errors.DataSourceError as exc:
        raise LedgerError(_("{path}：无法作为 GeoPackage 读取（{error}）").format(
            path=path, error=exc)) from exc
    if "leads" not in layers:
        raise LedgerError(_("{path}：没有 leads 图层：不是 lvdun 的 QField 野外包"
                            "（用 `lvdun field package --app qfield` 制作）").format(path=path))
    frame = pyogrio.read_dataframe(path, layer="leads", read_geometry=False, fid_as_index=True)
    frame = frame.rename(columns={k: v for k, v in _GPKG_NAMES.items()
                                  if k in frame.columns and v not in frame.columns})
    missing = [c for c in ("lead_id", "status", "ledger_id") if c not in frame.columns]
    if missing:
        raise LedgerError(_("{path}，leads 图层：没有列 {columns}：不是 lvdun 的 QField 野外包"
                            ).format(path=path, columns=", ".join(missing)))
    rows: list[tuple[int, dict[str, Any]]] = []
    for fid, rec in zip(frame.index, frame.to_dict(orient="records"), strict=True):
        photos = []
        photo = rec.get("photo")
        if not is_blank(photo):
            file = (path.parent / str(photo)).resolve()
            if file.is_file():
                photos.append(file)
            else:
                log.warning("%s, feature %s: photo %s not found next to the GeoPackage",
                            path, fid, photo)
        rows.append((int(fid), _row(rec["lead_id"], status_label=rec.get("status"),
                                    reason=rec.get("reason"), opinion=rec.get("note"),
                                    ledger_id=rec.get("ledger_id"), **{EVIDENCE: photos})))
    return LedgerFile(path, "field", rows, ["lead_id", "status_label", "reason", "opinion"])


# -- ODK ------------------------------------------------------------------------------------
def _odk_column(headers: list[str], name: str) -> int | None:
    """The index of ODK field ``name``: ``name`` itself or ``<group>-name``."""
    for k, header in enumerate(headers):
        if header == name or header.endswith("-" + name):
            return k
    return None


def _number(value: str, path: Path, row: int, column: str) -> float:
    """``value`` as a number, or a :class:`LedgerError` naming file, row and column."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise LedgerError(_("{path}，第 {row} 行，{column} 列：{value!r} 不是数字").format(
            path=path, row=row, column=column, value=value))
    return number


def _read_odk(path: Path) -> LedgerFile:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LedgerError(_("{path}：不是 UTF-8 文本（ODK 导出 UTF-8）").format(
            path=path)) from exc
    lines = [[csv_unescape(c) for c in r] for r in csv.reader(io.StringIO(text))]
    if not lines:
        raise LedgerError(_("{path}：空文件").format(path=path))
    headers = [h.strip() for h in lines[0]]
    at = {n: _odk_column(headers, n) for n in (
        "lead", "verdict", "reason", "notes", "package_id", "position-Latitude",
        "position-Longitude", "position-Accuracy", "photo1", "photo2", "photo3")}
    if at["lead"] is None or at["verdict"] is None or at["package_id"] is None:
        raise LedgerError(_("{path}：没有 lead、verdict 和 package_id 列：不是 lvdun ODK "
                            "表单的提交数据（从 ODK Central 导出为 CSV）").format(path=path))
    media = [path.parent / "media", path.parent]
    reasons = {f"r{k}": r for k, r in enumerate(NOT_PROBLEM_REASONS, 1)}
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(lines[1:], 2):
        def cell(name: str, line: list[str] = line) -> str | None:
            k = at[name]
            value = line[k].strip() if k is not None and k < len(line) else ""
            return value or None

        if not any(c.strip() for c in line):
            continue
        reason = cell("reason")
        notes = cell("notes")
        lat, lon = cell("position-Latitude"), cell("position-Longitude")
        if lat and lon:
            accuracy = cell("position-Accuracy")
            where = (f"核查位置 {_number(lon, path, number, 'position-Longitude'):.6f},"
                     f"{_number(lat, path, number, 'position-Latitude'):.6f}") + (
                f"（精度 {_number(accuracy, path, number, 'position-Accuracy'):.1f} 米）"
                if accuracy else "")
            notes = f"{notes}（{where}）" if notes else where
        photos = [file for name in ("photo1", "photo2", "photo3") if (value := cell(name))
                  for file in [next((d / value for d in media if (d / value).is_file()), None)]
                  if file is not None]
        rows.append((number, _row(cell("lead"), status_label=cell("verdict"),
                                  reason=reasons.get(reason or "", reason), opinion=notes,
                                  ledger_id=cell("package_id"), **{EVIDENCE: photos})))
    return LedgerFile(path, "field", rows, ["lead_id", "status_label", "reason", "opinion"])


# -- 奥维 / 两步路 ----------------------------------------------------------------------------
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(node: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in node if _local(c.tag) == name), None)


def _extended(node: ET.Element) -> dict[str, str]:
    data = _child(node, "ExtendedData")
    if data is None:
        return {}
    out = {}
    for item in data.iter():
        if _local(item.tag) == "Data" and item.get("name"):
            value = _child(item, "value")
            out[item.get("name", "")] = (value.text or "").strip() if value is not None else ""
    return out


_TABLE = re.compile(r"<table\b.*?</table>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
_FIELD = re.compile(r"^\s*(核查状态|状态|原因|非问题原因)\s*[:：]\s*(.+?)\s*$", re.M)


def _note_fields(description: str) -> tuple[str | None, str | None, str | None]:
    """What a person wrote in a placemark's description: (status, reason, note)."""
    text = _TAG.sub("\n", _TABLE.sub("", description))
    text = html.unescape(text)
    status = reason = None
    for key, value in _FIELD.findall(text):
        if key in ("核查状态", "状态"):
            status = value
        else:
            reason = value
    note = "\n".join(line.strip() for line in _FIELD.sub("", text).splitlines()
                     if line.strip()) or None
    return status, reason, note


def _kml_root(path: Path) -> ET.Element:
    try:
        if path.suffix.lower() == ".kmz":
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.lower().endswith(".kml")]
                if not names:
                    raise LedgerError(_("{path}：KMZ 中没有 .kml 文件").format(path=path))
                main = "doc.kml" if "doc.kml" in names else names[0]
                data = archive.read(main)
        else:
            data = path.read_bytes()
        return ET.fromstring(data)
    except zipfile.BadZipFile as exc:
        raise LedgerError(_("{path}：无法作为 KMZ（zip）文件读取（{error}）").format(
            path=path, error=exc)) from exc
    except ET.ParseError as exc:
        raise LedgerError(_("{path}：不是有效的 KML（{error}）").format(
            path=path, error=exc)) from exc


def _read_kml(path: Path, centres: dict[str, tuple[float, float]]) -> LedgerFile:
    root = _kml_root(path)
    document = next((n for n in root.iter() if _local(n.tag) == "Document"), root)
    doc_data = _extended(document)
    package = doc_data.get("lvdun:package")
    gcj = doc_data.get("lvdun:coords") == "gcj02"
    rows: list[tuple[int, dict[str, Any]]] = []
    skipped = 0
    placemarks = [n for n in root.iter() if _local(n.tag) == "Placemark"]
    for number, placemark in enumerate(placemarks, 1):
        data = _extended(placemark)
        name = _child(placemark, "name")
        given = data.get("lead_id") or data.get("线索编号")
        lead = given or ((name.text or "").strip() if name is not None else "")
        point = next((n for n in placemark.iter() if _local(n.tag) == "Point"), None)
        if not lead or point is None or (not given and lead not in centres):
            skipped += 1  # zones, outlines, patches, the user's own marks and tracks
            continue
        description = _child(placemark, "description")
        status, reason, note = _note_fields(description.text or "" if description is not None
                                            else "")
        coords = _child(point, "coordinates")
        moved = _moved(lead, (coords.text or "") if coords is not None else "", gcj, centres)
        if moved:
            note = f"{note}（{moved}）" if note else moved
        identity = data.get("台账标识") or package
        rows.append((number, _row(lead, status_label=status, reason=reason, opinion=note,
                                  ledger_id=identity)))
    if not rows:
        raise LedgerError(_("{path}：文件中没有线索的标注（以线索编号命名）").format(path=path))
    if not any(v["ledger_id"] for _number, v in rows):
        raise LedgerError(_("{path}：标注没有野外包的台账标识（ExtendedData），被应用丢掉了；"
                            "未作任何改动。请把“线索”文件夹连同属性另存为 KMZ，或重新导出野外包"
                            ).format(path=path))
    log.info("%s: %d lead placemarks, %d other placemarks ignored", path, len(rows), skipped)
    return LedgerFile(path, "field", rows, ["lead_id", "status_label", "reason", "opinion"])


def _moved(lead: str, text: str, gcj: bool, centres: dict[str, tuple[float, float]]) -> str:
    """``奥维标注位置 lon,lat（距线索 N 米）`` when the placemark left the lead's centre."""
    parts = text.strip().split()
    if not parts or lead not in centres:
        return ""
    try:
        lon, lat = (float(v) for v in parts[0].split(",")[:2])
    except ValueError:
        return ""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return ""
    if gcj:
        lon_a, lat_a = gcj02_to_wgs84(np.array([lon]), np.array([lat]))
        lon, lat = float(lon_a[0]), float(lat_a[0])
    distance = _metres(lon, lat, *centres[lead])
    if distance <= MOVED_M:
        return ""
    return f"奥维标注位置 {lon:.6f},{lat:.6f}（距线索中心 {distance:.0f} 米）"


# -- the import -----------------------------------------------------------------------------
def _centres(ws: Workspace) -> dict[str, tuple[float, float]]:
    leads = ws.read_features("leads")
    centre = leads.geometry.representative_point()
    return {str(k): (round(float(x), 6), round(float(y), 6))
            for k, x, y in zip(leads["lead_id"], centre.x, centre.y, strict=True)}


def read_field_file(ws: Workspace, path: str | Path) -> LedgerFile:
    """Read a file sent back by a field app into ledger rows (see the module's description).

    Raises
    ------
    LedgerError
        When the file does not exist, is of an unknown kind or cannot be read as its
        kind, naming the file and what is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise LedgerError(_("{path} 不存在").format(path=path))
    suffix = path.suffix.lower()
    if suffix == ".gpkg":
        return _read_gpkg(path)
    if suffix == ".csv":
        return _read_odk(path)
    if suffix in (".kml", ".kmz"):
        return _read_kml(path, _centres(ws))
    kinds = ", ".join(f"{k} ({v})" for k, v in _KINDS.items())
    raise LedgerError(_("{path}：野外应用的文件是 {kinds} 之一，不是 {suffix}").format(
        path=path, kinds=kinds, suffix=suffix or _("无扩展名的文件")))


def import_field(
    ws: Workspace, path: str | Path, *, by: str | None = None, dry_run: bool = False
) -> ImportReport:
    """Apply what a field app sent back (QField GeoPackage, ODK CSV, 奥维 KML/KMZ).

    Parameters
    ----------
    ws : Workspace
        The workspace the package was made from.
    path : str or Path
        The file.
    by : str or None
        Who did the field work (recorded in every history entry).
    dry_run : bool
        Judge every row and report, but change nothing.

    Raises
    ------
    LedgerError
        When the file cannot be read, or is not a package of this workspace; nothing
        changes.
    """
    ledger = read_field_file(ws, path)
    return apply_ledger(ws, ledger, by=by, dry_run=dry_run, command="field import")
