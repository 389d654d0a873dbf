"""Points from coordinate columns: number formats, DMS, Gauss-Krüger and swapped columns.

Everything said about the columns goes back to the caller as notes and per-row problems,
so the ingest can report it: how many values were in degrees-minutes-seconds, which CRS
was detected from the magnitudes, which rows had longitude and latitude swapped.

Bureau tables of lon/lat never declare a coordinate system. Degrees that lie inside China
are read as CGCS2000 (EPSG:4490), the datum of official data, and the ingest says so in
one line (:data:`CGCS2000_DEFAULT_NOTE`) with how to say otherwise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from pyproj import CRS

from geo.coords import parse_coordinates_detail
from geo.crs import (
    CGCS2000,
    CHINA_BOUNDS,
    ambiguous_lonlat_order,
    detect_gauss_kruger,
    detect_swapped_lonlat,
)
from geo.errors import CRSError
from layers.errors import InputError
from layers.i18n import _
from layers.read import is_blank

__all__ = ["CGCS2000_DEFAULT_NOTE", "ColumnPoints", "column_decimal_comma",
           "points_from_columns"]

log = logging.getLogger(__name__)

#: The line an ingest prints when lon/lat degrees without a declared CRS are read as CGCS2000
#: (the Chinese msgid; the note itself is ``_(CGCS2000_DEFAULT_NOTE)``).
CGCS2000_DEFAULT_NOTE = (
    "经纬度位于中国境内，文件未声明坐标系：按 CGCS2000（EPSG:4490）读取；"
    "如果不是，请用 --crs EPSG:4326（WGS84 GPS）或 --coords gcj02（高德、腾讯）"
    "/ --coords bd09（百度）"
)


@dataclass
class ColumnPoints:
    """Coordinates read from two columns.

    Attributes
    ----------
    x, y
        Values (NaN where unreadable), swapped rows already put right.
    problems
        ``(row_index, column, value, reason)`` for every row that cannot be used.
    notes
        Sentences for the user: DMS counts, detected CRS, swapped rows fixed.
    detected_crs
        A CRS detected from the magnitudes (Gauss-Krüger), or None.
    """

    x: np.ndarray
    y: np.ndarray
    problems: list[tuple[int, str, object, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    detected_crs: CRS | None = None
    detection: str | None = None


def column_decimal_comma(values: np.ndarray) -> bool | None:
    """Return True when a column writes decimals with commas throughout, else None.

    A column where some value has a comma, none has a dot, and no value has two commas
    reads ``126,500`` as 126.5 rather than refusing it as an ambiguous thousands grouping.

    Examples
    --------
    >>> import numpy as np
    >>> column_decimal_comma(np.array(["126,5", "43,125"], dtype=object))
    True
    >>> column_decimal_comma(np.array(["126.5", "1,234"], dtype=object)) is None
    True
    """
    texts = [v for v in values if isinstance(v, str) and v.strip()]
    if not any("," in t for t in texts):
        return None
    if any("." in t or t.count(",") > 1 for t in texts):
        return None
    return True


def points_from_columns(
    xs_raw: np.ndarray,
    ys_raw: np.ndarray,
    *,
    x_name: str,
    y_name: str,
    rows: np.ndarray,
    file: str,
    crs_given: bool,
    hint_lon: float | None = None,
) -> ColumnPoints:
    """Read x/y columns into coordinates, detecting DMS, Gauss-Krüger and swapped rows.

    Parameters
    ----------
    xs_raw, ys_raw : numpy.ndarray
        The two columns as read.
    x_name, y_name : str
        Their headers, for messages.
    rows : numpy.ndarray
        Row numbers to quote.
    file : str
        File name, for messages.
    crs_given : bool
        True when the user gave the CRS (``--crs``/``--coords``): no detection then.
        Otherwise Gauss-Krüger eastings and northings are detected from their magnitudes,
        and degrees mostly inside China are read as CGCS2000 (with a note saying so).
    hint_lon : float or None
        Longitude of the workspace's centre, to pick a Gauss-Krüger zone when the eastings
        carry no zone number.

    Raises
    ------
    InputError
        When the magnitudes are projected but the zone cannot be told, or mix zones.
    """
    px = parse_coordinates_detail(xs_raw, axis="x", decimal_comma=column_decimal_comma(xs_raw))
    py = parse_coordinates_detail(ys_raw, axis="y", decimal_comma=column_decimal_comma(ys_raw))
    x, y = px.values.copy(), py.values.copy()
    out = ColumnPoints(x, y)
    for parsed, raw, name in ((px, xs_raw, x_name), (py, ys_raw, y_name)):
        for i in np.flatnonzero(~parsed.ok):
            why = (_("缺少坐标：请填写") if is_blank(raw[i]) else
                   _("是另一个轴的半球标记：请检查该列")
                   if parsed.wrong_axis[i] else
                   _("不是坐标：请写成十进制度数（126.5）或度分秒（126°30'15\"E）"))
            out.problems.append((int(i), name, raw[i], why))
        if parsed.n_dms:
            out.notes.append(_("{file}：{name} 中有 {n} 个度分秒格式的值，已转换为十进制度数")
                             .format(file=file, name=name, n=parsed.n_dms))
    ok = px.ok & py.ok
    if not ok.any():
        return out
    if not crs_given:
        try:
            found = detect_gauss_kruger(x[ok], y[ok], hint_lon=hint_lon)
        except CRSError as exc:
            raise InputError(_("{problem}；请用 --crs 加 EPSG 代码指定坐标系").format(
                problem=exc), file=file) from exc
        if found is not None:
            if found.needs_crs:
                raise InputError(_("{problem}；请用 --crs 加 EPSG 代码指定坐标系").format(
                    problem=found.message), file=file)
            out.detected_crs = found.crs
            out.detection = found.message
            out.notes.append(_("{file}：{found}（可用 --crs 另行指定）").format(
                file=file, found=found.message))
            if found.swapped:
                out.x, out.y = y, x
            return out
    geographic = np.abs(x[ok]).max() <= 360 and np.abs(y[ok]).max() <= 360
    if geographic:
        swapped = detect_swapped_lonlat(x, y) & ok
        inside = ok & (x >= CHINA_BOUNDS[0]) & (x <= CHINA_BOUNDS[2]) & (
            y >= CHINA_BOUNDS[1]) & (y <= CHINA_BOUNDS[3])
        if inside.sum() * 2 < ok.sum():
            # most rows lie outside China as given (a world-wide file): only rows that are
            # impossible as given (|latitude| > 90) are taken as swapped
            swapped &= np.abs(y) > 90
        # a latitude beyond ±90 with a longitude that would be a latitude: swapped anywhere
        swapped |= ok & (np.abs(y) > 90) & (np.abs(y) <= 180) & (np.abs(x) <= 90)
        ambiguous = ambiguous_lonlat_order(x, y) & ok
        for i in np.flatnonzero(swapped):
            out.notes.append(_("第 {row} 行：{x_name}/{y_name} 写反了（{x}, {y}）；"
                               "按经度 {y}、纬度 {x} 读取").format(
                row=int(rows[i]), x_name=x_name, y_name=y_name, x=x[i], y=y[i]))
        for i in np.flatnonzero(ambiguous):
            out.problems.append((int(i), x_name, f"{x[i]}, {y[i]}",
                                 _("无法判断经度与纬度的顺序：请检查该行")))
        out.x = np.where(swapped, y, x)
        out.y = np.where(swapped, x, y)
        if swapped.any():
            log.info("%s: %d rows with longitude and latitude swapped", file, swapped.sum())
        if not crs_given:
            _default_cgcs2000(out, ok, file)
    return out


def _default_cgcs2000(out: ColumnPoints, ok: np.ndarray, file: str) -> None:
    """Read degrees mostly inside China as CGCS2000 and say so; others stay undecided."""
    x, y = out.x, out.y
    inside = ok & (x >= CHINA_BOUNDS[0]) & (x <= CHINA_BOUNDS[2]) & (
        y >= CHINA_BOUNDS[1]) & (y <= CHINA_BOUNDS[3])
    if inside.sum() * 2 < ok.sum():
        return  # a file of places elsewhere: its CRS must be said (--crs)
    out.detected_crs = CGCS2000
    out.detection = "lon/lat degrees inside China read as CGCS2000 (no CRS declared)"
    out.notes.append(_("{file}：{note}").format(file=file, note=_(CGCS2000_DEFAULT_NOTE)))
    log.info("%s: %s", file, out.detection)
