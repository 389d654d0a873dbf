"""From a :class:`~layers.read.Source` to a canonical layer frame in CGCS2000.

The steps every layer shares: header aliases, required fields, typed values with units,
geometry from the file or from coordinate columns, CRS decision, repair, reprojection.
Every problem is collected per row; a row with any problem is rejected with all of them,
so that ``read = stored + rejected`` always holds.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.coords import parse_numbers
from geo.crs import CGCS2000, WGS84, as_crs, transformer
from geo.repair import repair
from layers.aliases import candidate_headers, map_headers, split_unit
from layers.coordinates import column_decimal_comma, points_from_columns
from layers.errors import FieldError, InputError, LayerError
from layers.i18n import _
from layers.read import Source, is_blank
from layers.schema import LAYER_FIELDS, SQM_PER_MU
from layers.text import iso_date

__all__ = [
    "AREA_UNITS",
    "CHINA_BOX",
    "Prepared",
    "Reject",
    "canonicalize",
    "reject_duplicates",
    "reject_where",
]

log = logging.getLogger(__name__)

#: Area units recognised in headers such as ``面积(亩)``: factor to m².
AREA_UNITS: dict[str, float] = {
    "m2": 1.0, "m²": 1.0, "平方米": 1.0, "㎡": 1.0, "平米": 1.0,
    "亩": SQM_PER_MU,
    "公顷": 10000.0, "ha": 10000.0, "hm2": 10000.0, "hm²": 10000.0,
    "km2": 1.0e6, "km²": 1.0e6, "平方公里": 1.0e6, "平方千米": 1.0e6,
}

#: Loose lon/lat box around China, for sanity checks after reprojection.
CHINA_BOX = (73.0, 3.0, 136.0, 54.0)

_COORDS = {"wgs84": WGS84, "cgcs2000": CGCS2000}


@dataclass
class Reject:
    """One rejected row: where, which field, which value, and why (with the fix)."""

    row: int
    field: str
    value: Any
    reason: str


@dataclass
class Prepared:
    """A canonical layer frame ready to store, with everything said about it."""

    frame: gpd.GeoDataFrame
    rejects: list[Reject]
    read: int
    notes: list[str] = field(default_factory=list)
    crs: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    #: Values of optional fields that could not be read: the row is kept, the value left
    #: empty, and each is listed next to the rejects.
    warnings: list[Reject] = field(default_factory=list)
    #: Per column of the file, how many values held control characters (removed on reading).
    control_chars: dict[str, int] = field(default_factory=dict)

    @property
    def rejected_rows(self) -> int:
        """Number of distinct rejected rows."""
        return len({r.row for r in self.rejects})


class _Problems:
    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows
        self.items: list[tuple[int, Reject]] = []
        self.warnings: list[Reject] = []

    def add(self, i: int, field_name: str, value: Any, reason: str) -> None:
        self.items.append((i, Reject(int(self.rows[i]), field_name, _show(value), reason)))

    def warn(self, i: int, field_name: str, value: Any, reason: str) -> None:
        self.warnings.append(Reject(int(self.rows[i]), field_name, _show(value),
                                    reason + _("；该值留空")))

    def bad(self, n: int) -> np.ndarray:
        mask = np.zeros(n, dtype=bool)
        for i, _reject in self.items:
            mask[i] = True
        return mask


def _show(value: Any) -> Any:
    if isinstance(value, shapely.Geometry):
        return value.wkt[:80]
    return value


def canonicalize(
    source: Source,
    layer: str,
    *,
    overrides: Mapping[str, str] | None = None,
    crs: str | int | CRS | None = None,
    coords: str | None = None,
    geom_kinds: tuple[str, ...] = ("Point", "Polygon"),
    hint_lon: float | None = None,
) -> Prepared:
    """Map a source to the canonical fields of ``layer`` in EPSG:4490.

    Parameters
    ----------
    source : Source
        What :func:`layers.read.read_source` returned.
    layer : str
        One of ``layers.schema.LAYERS``.
    overrides : Mapping[str, str] or None
        ``--field CANON=COLUMN`` mappings.
    crs : str, int, pyproj.CRS or None
        The input CRS when the file has none or has a wrong one (``--crs``).
    coords : str or None
        ``wgs84``, ``cgcs2000``, ``gcj02`` or ``bd09`` for lon/lat inputs (``--coords``).
    geom_kinds : tuple of str
        Geometry kinds the layer accepts: any of ``Point``, ``Polygon``.
    hint_lon : float or None
        Centre longitude of the workspace, to pick a Gauss-Krüger zone when eastings carry
        no zone number.

    Raises
    ------
    FieldError
        A required column is missing, or no geometry and no coordinate columns.
    InputError
        The file has no CRS and none was given.
    """
    name = source.path.name
    columns = map_headers(source.frame.columns, layer, overrides=overrides, file=name)
    n = len(source)
    problems = _Problems(source.rows)
    at = {int(r): i for i, r in enumerate(source.rows)}
    for p in source.problems:  # records the reader could not lay out (e.g. fields too many)
        if int(p.row) in at:
            problems.add(at[int(p.row)], p.field, p.value, p.reason)
    notes = list(source.notes)
    spec = LAYER_FIELDS[layer]
    missing = [f for f, (_kind, required) in spec.items() if required and f not in columns]
    if missing:
        raise FieldError(
            _("缺少必需的列 {missing}；文件中的列：{columns}；请用 --field {first}=COLUMN "
              "指定对应的列").format(missing=_("、").join(missing),
                                    columns=_("、").join(map(str, source.frame.columns)),
                                    first=missing[0]),
            file=name,
        )
    out = pd.DataFrame(index=range(n))
    for canon, (kind, required) in spec.items():
        header = columns.get(canon)
        if header is None:
            out[canon] = None
            continue
        raw = source.frame[header].to_numpy(dtype=object)
        if kind == "str" and canon not in (overrides or {}):
            raw = _fill_blanks(raw, source, canon, header, set(columns.values()), notes)
        out[canon] = _convert(raw, kind, header, canon, required, problems)
    geoms, crs_info = _geometry(source, columns, crs, coords, problems, notes, hint_lon)
    geoms = _check_geoms(geoms, geom_kinds, problems, notes, source.rows)
    bad = problems.bad(n)
    keep = ~bad
    frame = gpd.GeoDataFrame(
        out[keep].reset_index(drop=True),
        geometry=gpd.GeoSeries(geoms[keep], crs=CGCS2000),
    )
    frame["src_file"] = name
    frame["src_row"] = source.rows[keep].astype("int64")
    rejects = [r for _i, r in sorted(problems.items, key=lambda t: (t[1].row, t[1].field))]
    rejected = {r.row for r in rejects}
    warnings = [w for w in problems.warnings if w.row not in rejected]
    if warnings:
        notes.append(_("{name}：可选字段中有 {n} 个值无法读取，已留空（列在拒收文件中）").format(
            name=name, n=len(warnings)))
    return Prepared(frame=frame, rejects=rejects, read=n, notes=notes, crs=crs_info,
                    columns=columns, warnings=warnings,
                    control_chars=dict(source.control_chars))


def _fill_blanks(
    raw: np.ndarray, source: Source, canon: str, header: str, used: set[str], notes: list[str]
) -> np.ndarray:
    """Fill blank cells of a text field from other columns that are aliases of it."""
    blank = np.array([is_blank(v) for v in raw], dtype=bool)
    if not blank.any():
        return raw
    raw = raw.copy()
    for other in candidate_headers(source.frame.columns, canon):
        if other == header or other in used:
            continue
        values = source.frame[other].to_numpy(dtype=object)
        fill = blank & np.array([not is_blank(v) for v in values], dtype=bool)
        if fill.any():
            raw[fill] = values[fill]
            notes.append(_("{name}：{header} 的 {n} 个空单元格取自 {other}").format(
                name=source.path.name, header=header, n=int(fill.sum()), other=other))
            blank &= ~fill
    return raw


def _convert(
    raw: np.ndarray, kind: str, header: str, canon: str, required: bool, problems: _Problems
) -> list[Any]:
    values: list[Any] = [None] * len(raw)
    blank = np.array([is_blank(v) for v in raw], dtype=bool)
    for i in np.flatnonzero(blank):
        if required:
            problems.add(int(i), header, "",
                         _("{canon} 为必填项但为空：请填写").format(canon=canon))
    if kind == "str":
        for i in np.flatnonzero(~blank):
            value = raw[i]
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            values[i] = str(value).strip()
        return values
    if kind in ("float", "int"):
        idx = np.flatnonzero(~blank)
        nums, ok = parse_numbers(raw[idx], decimal_comma=column_decimal_comma(raw[idx]))
        factor = 1.0
        if canon == "area_m2":
            unit = split_unit(header)[1]
            if unit is not None:
                key = unit.replace(" ", "").lower()
                if key not in AREA_UNITS:
                    raise FieldError(
                        _("未知的面积单位 {unit!r}；可用的单位：{known}").format(
                            unit=unit, known=_("、").join(AREA_UNITS)),
                        field=header,
                    )
                factor = AREA_UNITS[key]
        for k, i in enumerate(idx):
            report = problems.add if required else problems.warn
            if not ok[k]:
                report(int(i), header, raw[i], _("不是数字：请写成 126.5 这样的形式"))
            elif kind == "int":
                if not float(nums[k]).is_integer():
                    report(int(i), header, raw[i], _("不是整数"))
                else:
                    values[i] = int(nums[k])
            else:
                values[i] = float(nums[k]) * factor
        return values
    if kind == "date":
        for i in np.flatnonzero(~blank):
            parsed = _parse_date(raw[i])
            if parsed is None:
                (problems.add if required else problems.warn)(
                    int(i), header, raw[i], _("不是日期：请写成 YYYY-MM-DD，例如 2025-06-30"))
            values[i] = parsed
        return values
    raise LayerError(f"unknown field kind {kind}")


def _parse_date(value: Any) -> str | None:
    try:  # the one rule of dates people write (layers.text.iso_date) ...
        return iso_date(value)
    except ValueError:
        pass
    text = str(value).strip()  # ... then what pandas reads besides (ISO times, month names)
    for candidate in (text, text.replace("年", "-").replace("月", "-").replace("日", ""),
                      text.replace(".", "-").replace("/", "-")):
        try:
            ts = pd.Timestamp(candidate)
        except (ValueError, TypeError):
            continue
        if pd.isna(ts):
            continue
        return ts.date().isoformat()
    if text.isdigit() and len(text) == 8:
        try:
            return pd.Timestamp(f"{text[:4]}-{text[4:6]}-{text[6:]}").date().isoformat()
        except ValueError:
            return None
    return None


def _geometry(
    source: Source,
    columns: Mapping[str, str],
    crs: str | int | CRS | None,
    coords: str | None,
    problems: _Problems,
    notes: list[str],
    hint_lon: float | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    name = source.path.name
    info: dict[str, Any] = {}
    if coords is not None and coords not in ("wgs84", "cgcs2000", "gcj02", "bd09"):
        raise InputError(_("--coords {coords!r}：请用 wgs84、cgcs2000、gcj02 或 bd09").format(
            coords=coords), file=name)
    if source.geometry is not None:
        geoms = np.asarray(source.geometry, dtype=object)
        src = source.crs
        info["from"] = "file"
    elif "x" in columns and "y" in columns:
        hx, hy = columns["x"], columns["y"]
        points = points_from_columns(
            source.frame[hx].to_numpy(dtype=object), source.frame[hy].to_numpy(dtype=object),
            x_name=hx, y_name=hy, rows=source.rows, file=name,
            crs_given=crs is not None or coords is not None, hint_lon=hint_lon,
        )
        for i, column, value, reason in points.problems:
            problems.add(i, column, value, reason)
        notes.extend(points.notes)
        bad = problems.bad(len(source))
        geoms = np.asarray(
            shapely.points(np.where(bad, np.nan, points.x), np.where(bad, np.nan, points.y)),
            dtype=object,
        )
        geoms[bad | np.isnan(points.x) | np.isnan(points.y)] = None
        src = points.detected_crs
        if points.detection:
            info["detected"] = points.detection
        info["from"] = f"columns {hx}, {hy}"
    else:
        raise FieldError(
            _("没有几何图形，也没有坐标列：请添加 经度/纬度 或 X/Y 列，"
              "或用 --field x=COLUMN --field y=COLUMN 指定"),
            file=name,
        )
    if crs is not None:
        src = as_crs(crs, source="--crs")
        info["decision"] = f"--crs {src.to_string()}"
    elif coords is not None:
        src = WGS84 if coords in ("gcj02", "bd09") else _COORDS[coords]
        info["decision"] = f"--coords {coords}"
    elif src is not None and "detected" in info:
        info["decision"] = f"detected from coordinate magnitudes: {src.to_string()}"
    elif src is not None:
        info["decision"] = f"file declares {src.to_string()}"
    else:
        raise InputError(
            _("文件未声明坐标系：CGCS2000 经纬度请用 --crs EPSG:4490，WGS84 请用 "
              "--crs EPSG:4326，投影坐标请用 --crs 加其投影的 EPSG 代码"),
            file=name,
        )
    info["source_crs"] = src.to_string()
    if coords in ("gcj02", "bd09"):
        geoms = _unshift(geoms, coords)
        info["shift"] = f"{coords} converted to WGS84"
        notes.append(_("{name}：{coords} 坐标已转换回 WGS84/CGCS2000").format(
            name=name, coords=coords.upper()))
    if not src.equals(CGCS2000):
        trans = transformer(src, CGCS2000)
        present = ~shapely.is_missing(geoms)
        geoms[present] = shapely.transform(
            geoms[present], lambda xy: np.column_stack(trans.transform(xy[:, 0], xy[:, 1]))
        )
        notes.append(_("{name}：已从 {src} 重投影到 EPSG:4490（CGCS2000）").format(
            name=name, src=src.to_string()))
    info["stored_crs"] = "EPSG:4490"
    return geoms, info


def _unshift(geoms: np.ndarray, coords: str) -> np.ndarray:
    from geo import shift as geocrs

    func = geocrs.gcj02_to_wgs84 if coords == "gcj02" else geocrs.bd09_to_wgs84

    def _apply(xy: np.ndarray) -> np.ndarray:
        lon, lat = func(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    present = ~shapely.is_missing(geoms)
    geoms = geoms.copy()
    geoms[present] = shapely.transform(geoms[present], _apply)
    return geoms


def _check_geoms(
    geoms: np.ndarray,
    kinds: tuple[str, ...],
    problems: _Problems,
    notes: list[str],
    rows: np.ndarray,
) -> np.ndarray:
    missing = shapely.is_missing(geoms)
    already = problems.bad(len(geoms))
    result = repair(geoms)
    geoms = result.geoms
    for i in np.flatnonzero(result.repaired):
        notes.append(_("第 {row} 行：无效的几何图形已修复（{reason}）").format(
            row=int(rows[i]), reason=result.reasons[i]))
    for i in np.flatnonzero(result.empty & ~already):
        problems.add(int(i), "geometry", None if missing[i] else "EMPTY",
                     _("几何图形为空：该要素没有形状；请绘制或删除该行"))
    ok = ~result.empty
    types = np.array(
        [g.geom_type.replace("Multi", "") if g is not None else "" for g in geoms], dtype=object
    )
    for i in np.flatnonzero(ok & ~np.isin(types, kinds)):
        problems.add(int(i), "geometry", geoms[i].geom_type,
                     _("此处不接受几何类型 {kind}；请用 {kinds}").format(
                         kind=geoms[i].geom_type, kinds=_(" 或 ").join(kinds)))
    bounds = np.full((len(geoms), 4), np.nan)
    bounds[ok] = shapely.bounds(geoms[ok])
    minx, miny, maxx, maxy = CHINA_BOX
    outside = ok & ~(
        (bounds[:, 0] >= minx) & (bounds[:, 2] <= maxx)
        & (bounds[:, 1] >= miny) & (bounds[:, 3] <= maxy)
    )
    for i in np.flatnonzero(outside):
        centre = shapely.centroid(geoms[i])
        problems.add(
            int(i), "geometry", f"{centre.x:.6f}, {centre.y:.6f}",
            _("重投影后位于中国境外：请检查 --crs，或经度与纬度是否写反"),
        )
    return geoms


def reject_where(
    prepared: Prepared, mask: np.ndarray, field_name: str, values: Any, reason: Any
) -> None:
    """Move the rows of ``prepared.frame`` selected by ``mask`` to the rejects.

    Parameters
    ----------
    prepared : Prepared
        The layer being canonicalised; its frame loses the rows, its rejects gain them.
    mask : numpy.ndarray
        Boolean, one per row of ``prepared.frame``.
    field_name : str
        The file's header of the field at fault.
    values : Any
        The bad values, one per selected row or one for all.
    reason : Any
        What is wrong and how to fix the row, one per selected row or one for all.
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    rows = prepared.frame["src_row"].to_numpy()[mask]
    vals = np.broadcast_to(np.asarray(values, dtype=object), rows.shape)
    why = np.broadcast_to(np.asarray(reason, dtype=object), rows.shape)
    prepared.rejects.extend(
        Reject(int(r), field_name, _show(v), str(w))
        for r, v, w in zip(rows, vals, why, strict=True)
    )
    prepared.rejects.sort(key=lambda r: (r.row, r.field))
    prepared.frame = prepared.frame[~mask].reset_index(drop=True)


def reject_duplicates(prepared: Prepared, key: str) -> None:
    """Reject every row whose ``key`` repeats an earlier row's, naming that row."""
    frame = prepared.frame
    present = frame[key].notna().to_numpy()
    dup = frame[key].duplicated(keep="first").to_numpy() & present
    if not dup.any():
        return
    first_row = frame[present].drop_duplicates(key).set_index(key)["src_row"]
    ids = frame[key].to_numpy()[dup]
    reasons = [_("{key} 重复：首次出现在第 {row} 行").format(key=key, row=int(first_row[i]))
               for i in ids]
    reject_where(prepared, dup, prepared.columns.get(key, key), ids, reasons)
