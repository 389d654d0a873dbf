"""Change rasters become patch leads: vectorise, measure, drop small patches, store.

A change mask is a GeoTIFF whose non-zero pixels mark change between two image dates;
its values may code the activity type through a mapping file (``1,采石场``). Every patch
(adjacent pixels of one value) becomes one lead with a deterministic id
``R-<batch>-<raster stem>-<patch number>``; patches are numbered top to bottom, left to
right, so re-ingesting the same raster updates the same leads. Patches smaller than
``min_area_m2`` (measured in the Albers equal-area projection ``geo.crs.CHINA_ALBERS``)
count as read and rejected, each listed in the rejects file by patch number and centroid,
so ``read = stored + rejected`` holds as for every ingest.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from pyproj import CRS

from geo.crs import CGCS2000, CHINA_ALBERS, CHINA_BOUNDS, as_crs
from geo.errors import RasterError
from geo.overlay import project
from geo.vectorize import Vectorized, vectorize
from layers.canonical import Prepared, Reject
from layers.i18n import _
from layers.schema import ACTIVITY_TYPES
from pipelines.errors import IngestError
from pipelines.ingest.files import IngestReport, store_prepared
from pipelines.store.base import Workspace, now_iso

__all__ = ["PATCH_TABLE", "ingest_change_raster", "patch_lead_ids", "read_mapping"]

log = logging.getLogger(__name__)

#: Table holding what a raster says about each patch lead (class, pixels, centroid).
PATCH_TABLE = "lead_patches"

_KNOWN_ACTIVITIES = set(ACTIVITY_TYPES) | {s for subs in ACTIVITY_TYPES.values() for s in subs}


def patch_lead_ids(batch: str, raster: str | Path, serials: np.ndarray) -> list[str]:
    """Return the lead ids ``R-<batch>-<raster stem>-<serial:06d>``.

    Parameters
    ----------
    batch : str
        The monitoring batch; runs of whitespace become ``_``.
    raster : str or pathlib.Path
        The raster file, whose stem (whitespace as ``_``) is part of the id.
    serials : numpy.ndarray
        Serial numbers of the patches.

    Examples
    --------
    >>> patch_lead_ids("2024-H1", "/data/变化 图斑.tif", np.array([1, 12]))
    ['R-2024-H1-变化_图斑-000001', 'R-2024-H1-变化_图斑-000012']
    """
    stem = re.sub(r"\s+", "_", Path(raster).stem.strip())
    batch = re.sub(r"\s+", "_", str(batch).strip())
    return [f"R-{batch}-{stem}-{int(s):06d}" for s in serials]


def read_mapping(path: str | Path) -> dict[int, str]:
    """Read a class mapping (raster value -> activity type) from CSV or JSON.

    CSV: two columns, value and activity type, with or without a header row (UTF-8 or
    GBK). JSON: an object ``{"1": "采石场", "2": "光伏"}``.

    Raises
    ------
    IngestError
        Naming the file and row of a value that is not a whole number or a missing label.
    """
    path = Path(path)
    pairs: list[tuple[int, Any, Any]] = []
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as exc:
            raise IngestError(_("{file}：不是 JSON 对照表（{error}）").format(
                file=path.name, error=exc)) from exc
        if not isinstance(data, dict):
            raise IngestError(_('{file}：对照表写成 {{"1": "采石场", ...}}').format(file=path.name))
        pairs = [(k + 1, key, value) for k, (key, value) in enumerate(data.items())]
    else:
        text = _read_text(path)
        rows = [r for r in csv.reader(text.splitlines()) if any(c.strip() for c in r)]
        if rows and not _is_int(rows[0][0]):
            rows = rows[1:]
            start = 2
        else:
            start = 1
        pairs = [(k + start, r[0], r[1] if len(r) > 1 else "") for k, r in enumerate(rows)]
    mapping: dict[int, str] = {}
    problems = []
    for row, key, value in pairs:
        if not _is_int(key):
            problems.append(_("第 {row} 行：值 {key!r} 不是整数").format(row=row, key=key))
        elif not str(value or "").strip():
            problems.append(_("第 {row} 行：值 {key} 没有活动类型").format(row=row, key=key))
        else:
            mapping[int(float(str(key).strip()))] = str(value).strip()
    if problems:
        raise IngestError(_("{file}：{problems}（每个类别写一行：1,采石场）").format(
            file=path.name, problems=_("；").join(problems)))
    return mapping


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise IngestError(_("{file}：既不是 UTF-8 也不是 GBK 文本").format(  # pragma: no cover
        file=path.name))


def _is_int(value: Any) -> bool:
    try:
        return float(str(value).strip()).is_integer()
    except ValueError:
        return False


def _date(value: str | None, option: str) -> str | None:
    if value is None or not str(value).strip():
        return None
    try:
        return pd.Timestamp(str(value).strip()).date().isoformat()
    except ValueError as exc:
        raise IngestError(_("{option} {value!r} 不是日期：写成 YYYY-MM-DD").format(
            option=option, value=value)) from exc


def ingest_change_raster(
    ws: Workspace,
    path: str | Path,
    *,
    batch: str,
    min_area_m2: float = 200.0,
    date_before: str | None = None,
    date_after: str | None = None,
    mapping: str | Path | Mapping[int, str] | None = None,
    band: int = 1,
    window_size: int = 2048,
    connectivity: int = 4,
    crs: str | int | CRS | None = None,
    strict: bool = False,
    by: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Vectorise a change mask into patch leads of ``batch`` and store them.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    path : str or pathlib.Path
        A GeoTIFF (any raster GDAL reads) whose non-zero pixels mark change.
    batch : str
        The monitoring batch, part of every lead id.
    min_area_m2 : float
        Patches smaller than this (equal-area m²) are dropped and counted as rejected.
    date_before, date_after : str or None
        Image dates (前时相, 后时相), ``YYYY-MM-DD``.
    mapping : str, pathlib.Path, mapping of int to str, or None
        Raster value -> activity type: a CSV/JSON file (:func:`read_mapping`) or a dict.
        Without it, the activity type stays empty and the class is kept in ``lead_patches``.
    band : int
        The band holding the classes.
    window_size : int
        Pixels per side of the windows read at a time.
    connectivity : {4, 8}
        4 (pixels sharing an edge form a patch) or 8 (corners too).
    crs : str, int, pyproj.CRS or None
        The raster's CRS when the file declares none (or a wrong one).
    strict : bool
        Store nothing when any patch is rejected.
    by : str or None
        Who runs it (lead history).
    progress : callable or None
        Called with ``(windows done, windows in all)``.

    Returns
    -------
    IngestReport
        ``read`` counts every patch, ``rejected`` those below ``min_area_m2`` or outside
        China after reprojection.

    Raises
    ------
    IngestError
        No CRS, a bad date or mapping, or ``strict`` with rejected patches.
    """
    path = Path(path)
    if not str(batch or "").strip():
        raise IngestError(_("变化栅格需要 --batch NAME（监测批次）"))
    if min_area_m2 < 0:
        raise IngestError(_("--min-area-m2 {value} 是负数").format(value=f"{min_area_m2:g}"))
    before, after = _date(date_before, "--before-date"), _date(date_after, "--after-date")
    mapping_path = Path(mapping) if isinstance(mapping, str | Path) else None
    classes = read_mapping(mapping_path) if mapping_path else dict(mapping or {})
    started = now_iso()
    try:
        with rasterio.open(path) as src:
            src_crs = as_crs(crs, source="--crs") if crs is not None else (
                CRS.from_wkt(src.crs.to_wkt()) if src.crs else None)
            if src_crs is None:
                raise IngestError(_(
                    "{file} 没有声明坐标系：请给出 --crs，例如 EPSG:32652（UTM 52N）或 "
                    "EPSG:4525（CGCS2000 3° 高斯-克吕格 43 带）").format(file=path.name))
            if not 1 <= band <= src.count:
                raise IngestError(_("{file} 只有波段 1-{count}，没有波段 {band}").format(
                    file=path.name, count=src.count, band=band))
            shape = (src.height, src.width)
            resolution = src.res
            vec = vectorize(src, band=band, window_size=window_size,
                            connectivity=connectivity, progress=progress)
    except rasterio.errors.RasterioIOError as exc:
        raise IngestError(_("{file}：无法读取栅格（{error}）").format(
            file=path.name, error=exc)) from exc
    except RasterError as exc:
        raise IngestError(str(exc)) from exc
    prepared, patches = _prepare(vec, path, src_crs, batch=str(batch), classes=classes,
                                 min_area_m2=min_area_m2, before=before, after=after)
    prepared.crs = {
        "source_crs": src_crs.to_string(),
        "decision": f"--crs {src_crs.to_string()}" if crs is not None
        else f"raster declares {src_crs.to_string()}",
        "stored_crs": "EPSG:4490",
        "area_crs": "China Albers equal-area (geo.crs.CHINA_ALBERS)",
    }
    params = {
        "batch": batch, "min_area_m2": min_area_m2, "date_before": before,
        "date_after": after, "mapping": {str(k): v for k, v in classes.items()},
        "band": band, "window_size": window_size, "connectivity": connectivity,
        "raster": {"height": shape[0], "width": shape[1], "resolution": list(resolution),
                   "windows": vec.windows},
        "classes": {str(k): int(v) for k, v in sorted(Counter(vec.values.tolist()).items())},
    }
    inputs = [path, *([mapping_path] if mapping_path else [])]
    with ws.transaction():
        report = store_prepared(ws, "leads", prepared, inputs=inputs, params=params,
                                strict=strict, by=by, started=started,
                                command="ingest change-raster")
        if len(patches):
            # the store may give a patch the id of an earlier lead with the same footprint
            stored = ws.read_features_equal("leads", "run_id", report.run_id)
            final = dict(zip(stored["src_row"].astype(int), stored["lead_id"], strict=True))
            patches["lead_id"] = [final.get(int(n), i) for n, i in
                                  zip(patches["patch_no"], patches["lead_id"], strict=True)]
            ws.upsert_rows(PATCH_TABLE, patches.assign(run_id=report.run_id))
    return report


def _prepare(
    vec: Vectorized,
    path: Path,
    src_crs: CRS,
    *,
    batch: str,
    classes: Mapping[int, str],
    min_area_m2: float,
    before: str | None,
    after: str | None,
) -> tuple[Prepared, pd.DataFrame]:
    """Build the canonical leads frame, the rejects, and the ``lead_patches`` rows."""
    n = len(vec)
    serials = np.arange(1, n + 1)
    ids = patch_lead_ids(batch, path, serials)
    with np.errstate(invalid="ignore"):  # a wrong CRS can project to infinity
        geoms = project(vec.geoms, src_crs, CGCS2000) if n else np.empty(0, dtype=object)
        area = shapely.area(project(vec.geoms, src_crs, CHINA_ALBERS)) if n else np.empty(0)
        centre = shapely.centroid(geoms) if n else np.empty(0, dtype=object)
        lon = shapely.get_x(centre) if n else np.empty(0)
        lat = shapely.get_y(centre) if n else np.empty(0)
    activity = [classes.get(int(v)) for v in vec.values]
    notes: list[str] = []
    if not src_crs.equals(CGCS2000):
        notes.append(_("{file}：图斑已从 {crs} 重投影到 EPSG:4490（CGCS2000）").format(
            file=path.name, crs=src_crs.to_string()))
    unmapped = Counter(int(v) for v, a in zip(vec.values, activity, strict=True) if a is None)
    if classes and unmapped:
        notes.append(_("{file}：对照表中没有的栅格值，活动类型留空：{values}").format(
            file=path.name, values=_("，").join(
                _("{value}（{n} 个图斑）").format(value=v, n=c)
                for v, c in sorted(unmapped.items()))))
    unknown = sorted({a for a in classes.values() if a not in _KNOWN_ACTIVITIES})
    if unknown:
        notes.append(_("对照表中不属于生态环境部活动类型的名称（按原样保留）：{labels}").format(
            labels=_("，").join(unknown)))
    rejects: list[Reject] = []
    small = area < min_area_m2
    minx, miny, maxx, maxy = CHINA_BOUNDS
    outside = ~((lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)
                & np.isfinite(area))
    for i in np.flatnonzero(small | outside):
        where = f"patch {serials[i]} at {lon[i]:.6f}, {lat[i]:.6f}"
        if outside[i]:
            rejects.append(Reject(int(serials[i]), "geometry", where,
                                  "outside China after reprojection: check the raster's CRS "
                                  "(--crs)"))
        else:
            rejects.append(Reject(
                int(serials[i]), "area_m2", f"{area[i]:.1f} m² ({where})",
                f"below --min-area-m2 {min_area_m2:g}: {int(vec.pixels[i])} px of class "
                f"{int(vec.values[i])}",
            ))
    if small.any():
        notes.append(_("{file}：{n} 个小于 {m} 平方米的图斑未入库（列在拒绝文件中）").format(
            file=path.name, n=int(small.sum()), m=f"{min_area_m2:g}"))
    keep = ~(small | outside)
    note = [f"变化图斑 {path.name} 第{s}号, 类别 {int(v)}, {int(p)} 像元"
            for s, v, p in zip(serials, vec.values, vec.pixels, strict=True)]
    frame = gpd.GeoDataFrame(
        {
            "lead_id": ids, "batch": batch, "activity_type": activity, "change_type": None,
            "area_m2": area, "date_before": before, "date_after": after,
            "county_sent": None, "reserve_sent": None, "zone_sent": None, "note": note,
            "id_source": "generated",
            "src_file": path.name, "src_row": serials.astype("int64"),
        },
        geometry=gpd.GeoSeries(geoms, crs=CGCS2000),
    )
    frame = frame[keep].reset_index(drop=True)
    patches = pd.DataFrame({
        "lead_id": ids, "raster": path.name, "patch_no": serials, "class_value": vec.values,
        "activity_type": activity, "pixels": vec.pixels, "area_m2": area,
        "centroid_lon": np.round(lon, 7), "centroid_lat": np.round(lat, 7),
    })[keep].reset_index(drop=True)
    log.info("%s: %d patches, %d below %g m², %d outside China", path.name, n,
             int(small.sum()), min_area_m2, int((outside & ~small).sum()))
    rejects.sort(key=lambda r: (r.row, r.field))
    return Prepared(frame=frame, rejects=rejects, read=n, notes=notes), patches
