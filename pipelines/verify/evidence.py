"""Evidence files of a status change: sha256, and for photos the EXIF position and time.

A field photo says where and when it was taken. Both are compared with the lead: the
distance in metres from the photo's GPS position to the lead's geometry (0 inside a patch),
and whether the photo was taken before, on or after the detection date (后时相,
``date_after``). A photo taken before the detection, or far from the lead, does not show
what the satellite saw; the history shows it so that a reviewer notices.

Photo GPS positions are WGS 84; leads are CGCS2000 (EPSG:4490). The two datums differ by
centimetres, far below GPS precision, so the position is used as it is. Distances are
computed in an azimuthal equidistant projection on the GRS 80 ellipsoid centred on the
photo, which is exact for the distance from its centre. A photo farther from its lead
than a threshold (:data:`PHOTO_WARN_M` unless the caller gives the ``LVDUN_PHOTO_WARN_M``
setting) is flagged: its entry says so, the summary line warns, and so does the history
note.

Evidence files are kept in the workspace, named by their sha256, never by the path they
came from (:func:`store_evidence`): beside a GeoPackage in its evidence folder, inside a
PostGIS workspace in the ``evidence_files`` table (base64).
"""

from __future__ import annotations

import base64
import logging
import math
import shutil
import warnings
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from PIL import ExifTags, Image, UnidentifiedImageError
from pyproj import CRS, Transformer

from geo.crs import CGCS2000
from layers.files import file_sha256
from layers.i18n import _
from pipelines.errors import EvidenceError
from pipelines.store.base import now_iso

__all__ = [
    "PHOTO_WARN_M",
    "PhotoInfo",
    "add_evidence",
    "describe_evidence",
    "distance_to_m",
    "evidence_folder",
    "evidence_summary",
    "far_photos_note",
    "read_photo",
    "store_evidence",
    "stored_evidence",
]

log = logging.getLogger(__name__)

#: Metres from its lead beyond which a photo is flagged (the default of the setting).
PHOTO_WARN_M = 500.0
#: The table of a workspace without a folder (PostGIS) that keeps evidence files.
EVIDENCE_TABLE = "evidence_files"

_GPS = ExifTags.GPS
_BASE = ExifTags.Base


@dataclass(frozen=True)
class PhotoInfo:
    """What a photo's EXIF says: GPS position (WGS 84) and the time it was taken.

    ``taken_at`` is the camera's local time (EXIF ``DateTimeOriginal``), with its UTC
    offset when the camera recorded one.
    """

    lon: float | None
    lat: float | None
    taken_at: datetime | None


def read_photo(path: str | Path) -> PhotoInfo | None:
    """Return the EXIF position and time of an image, or None for a file that is no image.

    Parameters
    ----------
    path
        A JPEG, TIFF, PNG or WebP file (whatever Pillow opens); other files give None.

    Returns
    -------
    PhotoInfo or None
        Fields are None when the EXIF data does not hold them (or holds zeros, which
        cameras write without a GPS fix).
    """
    try:
        with warnings.catch_warnings():
            # Only the header is read, never the pixels: a huge image is harmless here.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                exif = image.getexif()
    except (UnidentifiedImageError, Image.DecompressionBombError):
        return None
    except OSError as exc:
        raise EvidenceError(_("证据文件 {path}：无法读取（{error}）").format(
            path=path, error=exc)) from exc
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    details = exif.get_ifd(ExifTags.IFD.Exif)
    lat = _coordinate(gps.get(_GPS.GPSLatitude), gps.get(_GPS.GPSLatitudeRef), limit=90)
    lon = _coordinate(gps.get(_GPS.GPSLongitude), gps.get(_GPS.GPSLongitudeRef), limit=180)
    if lat is None or lon is None or (lat == 0 and lon == 0):
        lat = lon = None
    taken = (
        _exif_time(details.get(_BASE.DateTimeOriginal), details.get(_BASE.OffsetTimeOriginal))
        or _exif_time(exif.get(_BASE.DateTime), details.get(_BASE.OffsetTime))
    )
    return PhotoInfo(lon=lon, lat=lat, taken_at=taken)


def _coordinate(value: Any, ref: Any, *, limit: float) -> float | None:
    """Degrees from EXIF (degrees, minutes, seconds) rationals and an N/S/E/W reference."""
    if value is None:
        return None
    try:
        parts = [float(v) for v in (value if isinstance(value, tuple | list) else [value])]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    parts = [*parts, 0.0, 0.0][:3]
    if not all(math.isfinite(p) for p in parts):
        return None
    degrees = parts[0] + parts[1] / 60 + parts[2] / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if str(ref or "").strip().upper() in ("S", "W"):
        degrees = -degrees
    return degrees if abs(degrees) <= limit else None


def _exif_time(value: Any, offset: Any) -> datetime | None:
    """Parse ``YYYY:MM:DD HH:MM:SS`` (EXIF) with an optional ``+08:00`` offset."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        taken = datetime.strptime(value.strip().rstrip("\x00")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if isinstance(offset, str) and len(offset.strip()) >= 6:
        text = offset.strip()
        try:
            sign = -1 if text[0] == "-" else 1
            hours, minutes = int(text[1:3]), int(text[4:6])
        except ValueError:
            return taken
        taken = taken.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
    return taken


def distance_to_m(geometry: shapely.Geometry, lon: float, lat: float) -> float:
    """Return the distance in metres from (lon, lat) to ``geometry`` (EPSG:4490); 0 inside.

    Parameters
    ----------
    geometry : shapely.Geometry
        The lead's geometry, EPSG:4490.
    lon, lat : float
        The point, in degrees.

    Examples
    --------
    >>> import shapely
    >>> round(distance_to_m(shapely.Point(126.5, 43.5), 126.5, 43.501))
    111
    >>> distance_to_m(shapely.box(126.4, 43.4, 126.6, 43.6), 126.5, 43.5)
    0.0
    """
    local = CRS.from_proj4(
        f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=GRS80 +units=m +no_defs"
    )
    to_local = Transformer.from_crs(CGCS2000, local, always_xy=True)

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = to_local.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return float(shapely.distance(shapely.transform(geometry, project), shapely.Point(0, 0)))


def describe_evidence(
    paths: list[str | Path] | tuple[str | Path, ...],
    *,
    geometry: shapely.Geometry | None = None,
    detected: str | date | None = None,
    warn_m: float = PHOTO_WARN_M,
) -> list[dict[str, Any]]:
    """Describe evidence files for the history: sha256, and photos compared with the lead.

    Parameters
    ----------
    paths : list or tuple of str or pathlib.Path
        The evidence files.
    geometry : shapely.Geometry or None
        The lead's geometry in EPSG:4490, for the distance; None skips it.
    detected : str, datetime.date or None
        The detection date (后时相, the lead's ``date_after``), ISO ``YYYY-MM-DD``.
    warn_m : float
        A photo farther than this from the lead gets ``far_m`` (the threshold).

    Returns
    -------
    list of dict
        Per file: ``path, name, sha256, bytes, kind`` (``photo`` or ``file``); photos add
        ``lon, lat`` (WGS 84), ``taken_at`` (ISO), ``distance_m`` (to the lead),
        ``far_m`` (when farther than ``warn_m``) and ``taken`` (``before``, ``same_day``
        or ``after`` the detection date), each only when known.

    Raises
    ------
    EvidenceError
        When a file does not exist or cannot be read.
    """
    detected_on = _as_date(detected)
    out: list[dict[str, Any]] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise EvidenceError(_("证据文件 {path} 不存在（或是文件夹）").format(path=path))
        entry: dict[str, Any] = {
            "path": str(path), "name": path.name, "sha256": file_sha256(path),
            "bytes": path.stat().st_size, "kind": "file",
        }
        photo = read_photo(path)
        if photo is not None:
            entry["kind"] = "photo"
            if photo.lon is not None and photo.lat is not None:
                entry["lon"], entry["lat"] = round(photo.lon, 7), round(photo.lat, 7)
                if geometry is not None and not shapely.is_empty(geometry):
                    entry["distance_m"] = round(distance_to_m(geometry, photo.lon, photo.lat), 1)
                    if entry["distance_m"] > warn_m:
                        entry["far_m"] = float(warn_m)
                        log.warning("evidence %s: photo taken %.0f m from the lead (more "
                                    "than %g m)", path.name, entry["distance_m"], warn_m)
            if photo.taken_at is not None:
                entry["taken_at"] = photo.taken_at.isoformat()
                if detected_on is not None:
                    day = photo.taken_at.date()
                    entry["taken"] = ("before" if day < detected_on else
                                      "same_day" if day == detected_on else "after")
            log.info("evidence %s: photo at %s, %s, taken %s", path.name,
                     entry.get("lon"), entry.get("lat"), entry.get("taken_at"))
        out.append(entry)
    return out


def _as_date(value: str | date | None) -> date | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


_TAKEN_LABELS = {"before": "检测前拍摄", "same_day": "检测当日拍摄", "after": "检测后拍摄"}


def evidence_summary(entry: dict[str, Any]) -> str:
    """Return one line describing an evidence entry of the history, in Chinese.

    Examples
    --------
    >>> evidence_summary({"name": "a.jpg", "sha256": "ab12cd34ef", "kind": "photo",
    ...                   "distance_m": 35.2, "taken": "after",
    ...                   "taken_at": "2024-07-02T10:00:00"})
    'a.jpg [ab12cd34] 距线索 35 米, 检测后拍摄 2024-07-02'
    >>> evidence_summary({"name": "plan.pdf", "sha256": "0f0f0f0f0f", "kind": "file"})
    'plan.pdf [0f0f0f0f]'
    """
    text = f"{entry.get('name') or Path(str(entry.get('path', ''))).name} " \
           f"[{str(entry.get('sha256', ''))[:8]}]"
    if entry.get("kind") != "photo":
        return text
    parts = []
    if entry.get("distance_m") is not None:
        parts.append(f"距线索 {entry['distance_m']:.0f} 米")
        if entry.get("far_m") is not None:
            parts.append(f"超过 {entry['far_m']:.0f} 米，请核实拍摄地点")
    elif entry.get("lon") is None:
        parts.append("无GPS位置")
    taken_at = str(entry.get("taken_at") or "")[:10]
    if entry.get("taken") in _TAKEN_LABELS:
        parts.append(f"{_TAKEN_LABELS[entry['taken']]} {taken_at}")
    elif taken_at:
        parts.append(f"拍摄于 {taken_at}")
    else:
        parts.append("无拍摄时间")
    return f"{text} " + ", ".join(parts)


def far_photos_note(entries: list[dict[str, Any]], note: str | None = None) -> str | None:
    """Return ``note`` with a sentence naming the photos taken far from the lead, if any.

    Examples
    --------
    >>> far_photos_note([{"name": "a.jpg", "kind": "photo", "distance_m": 64012.0,
    ...                   "far_m": 500.0}], "现场核查")
    '现场核查；照片远离线索（超过 500 米）：a.jpg 距线索 64012 米'
    >>> far_photos_note([{"name": "b.jpg", "kind": "photo", "distance_m": 12.0}]) is None
    True
    """
    far = [e for e in entries if e.get("far_m") is not None]
    if not far:
        return note
    text = (f"照片远离线索（超过 {far[0]['far_m']:.0f} 米）：" +
            "，".join(f"{e.get('name')} 距线索 {e['distance_m']:.0f} 米" for e in far))
    return f"{note}；{text}" if note else text


def _suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return suffix if suffix.isascii() and suffix[1:].isalnum() and len(suffix) <= 6 else ""


def store_evidence(
    ws: Any, entries: list[dict[str, Any]], files: list[str | Path] | tuple[str | Path, ...]
) -> list[dict[str, Any]]:
    """Keep evidence files in the workspace by content hash; entries then name the copy.

    A GeoPackage keeps them in :func:`evidence_folder` as ``<sha256><suffix>``; a workspace
    without a folder (PostGIS) in its ``evidence_files`` table. The same content is kept
    once. Each entry's ``path`` becomes the stored copy (``evidence_files:<sha256>`` in a
    table); the file's own path is not recorded, its name is.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    entries : list of dict
        What :func:`describe_evidence` returned for ``files``, changed in place.
    files : list or tuple of str or pathlib.Path
        The files, in the order of ``entries``.

    Returns
    -------
    list of dict
        ``entries``.
    """
    home = getattr(ws, "path", None)
    if home is None:
        with ws.transaction():
            for entry, raw in zip(entries, files, strict=True):
                sha = str(entry["sha256"])
                if not ws.count(EVIDENCE_TABLE, '"sha256" = ?', [sha]):
                    ws.upsert_rows(EVIDENCE_TABLE, pd.DataFrame([{
                        "sha256": sha, "name": entry["name"], "bytes": entry["bytes"],
                        "content": base64.b64encode(Path(raw).read_bytes()).decode("ascii"),
                        "stored_at": now_iso()}]))
                entry["path"] = f"{EVIDENCE_TABLE}:{sha}"
        return entries
    folder = evidence_folder(ws)
    folder.mkdir(parents=True, exist_ok=True)
    for entry, raw in zip(entries, files, strict=True):
        target = folder / f"{entry['sha256']}{_suffix(str(entry['name']))}"
        if not target.is_file() or file_sha256(target) != entry["sha256"]:
            partial = target.with_name(target.name + ".part")
            shutil.copyfile(raw, partial)
            partial.replace(target)
        entry["path"] = str(target)
    return entries


def stored_evidence(ws: Any, entry: dict[str, Any]) -> bytes | None:
    """Return the bytes of an evidence entry's stored copy, or None when none is kept.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    entry : dict
        An evidence entry of the history (as :func:`store_evidence` left it).
    """
    where = str(entry.get("path") or "")
    if where.startswith(f"{EVIDENCE_TABLE}:"):
        rows = ws.read_table_equal(EVIDENCE_TABLE, "sha256", where.split(":", 1)[1])
        return base64.b64decode(rows["content"].iloc[0]) if len(rows) else None
    path = Path(where)
    return path.read_bytes() if where and path.is_file() else None


def evidence_folder(ws: Any) -> Path:
    """Return the folder beside a GeoPackage workspace that keeps its evidence files.

    ``<folder>/<workspace stem>_evidence``; files in it are named by their sha256.

    Raises
    ------
    EvidenceError
        For a workspace without a folder (PostGIS).
    """
    home = getattr(ws, "path", None)
    if home is None:
        raise EvidenceError(_(
            "工作空间 {location} 没有存放证据文件的文件夹（PostGIS）；请用 GeoPackage 工作空间，"
            "或用 `lvdun status set --evidence` 记录文件").format(location=ws.location))
    home = Path(home)
    return home.parent / f"{home.stem}_evidence"


def add_evidence(
    ws: Any,
    lead_id: str,
    files: list[str | Path] | tuple[str | Path, ...],
    *,
    by: str,
    expected_version: int | None = None,
    note: str | None = None,
    warn_m: float = PHOTO_WARN_M,
) -> Any:
    """Store evidence files in the workspace and record them in the lead's history.

    Each file is copied to :func:`evidence_folder` as ``<sha256><suffix>`` (the same
    content is stored once); the history gets an entry with the lead's current status as
    both from- and to-status, the files as :func:`describe_evidence` describes them (with
    the stored path) and a new version.

    Parameters
    ----------
    ws : Workspace
        The workspace (a GeoPackage one).
    lead_id : str
        The lead.
    files : list or tuple of str or pathlib.Path
        The evidence files; their names are kept in the history, never used as paths.
    by : str
        Who added them.
    expected_version : int, optional
        The version the caller saw; a different current version is a conflict.
    note : str, optional
        Kept in the history, with a sentence on photos taken farther than ``warn_m``.
    warn_m : float
        Metres from the lead beyond which a photo is flagged.

    Returns
    -------
    pipelines.verify.status.StatusChange
        The change, with the stored files' descriptions.

    Raises
    ------
    EvidenceError, NotFoundError, ConflictError
    """
    from pipelines.verify import status as st  # status imports this module

    if not files:
        raise EvidenceError(_("线索 {lead}：没有给出证据文件").format(lead=lead_id))
    evidence_folder(ws)  # the web app serves photos from the folder: refuse early without
    texts, removed = st._cleaned(note=note, by=by)
    geometry, detected = st._lead_for_evidence(ws, lead_id)
    described = store_evidence(ws, describe_evidence(
        list(files), geometry=geometry, detected=detected, warn_m=warn_m), files)
    with ws.transaction():
        state = st.current_state(ws, lead_id)
        st._check_version(lead_id, state, expected_version)
        current = st.Status(state["status"])
        at = now_iso()
        new_version = int(state["version"]) + 1
        ws.upsert_rows("lead_status", pd.DataFrame([{
            **{k: state[k] for k in ("lead_id", "status", "reason", *st.RECORD_FIELDS)},
            "version": new_version, "updated_at": at, "updated_by": texts["by"],
        }]))
        st._append_history(ws, lead_id, new_version, at, texts["by"], current, current,
                           st._text(state["reason"]),
                           far_photos_note(described, st._note_with(st._text(texts["note"]),
                                                                     removed)), described, None)
    log.info("lead %s: %d evidence file(s) added by %s (v%d)", lead_id, len(described), by,
             new_version)
    return st.StatusChange(lead_id, current, current, new_version, at, texts["by"],
                           tuple(described))
