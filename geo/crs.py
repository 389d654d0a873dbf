"""Coordinate reference systems: the store's CRS, projections for areas and distances.

Everything lvdun stores is CGCS2000 longitude/latitude (EPSG:4490). Areas are computed in
an Albers equal-area projection for China; distances in the CGCS2000 Gauss-Krüger 6° zone
(EPSG:4491-4501) that holds the geometries, where scale error stays below 0.14 %.

Incoming data are checked here too: Gauss-Krüger coordinates recognised from their
magnitudes (:func:`detect_gauss_kruger`), longitude and latitude typed into each other's
column (:func:`detect_swapped_lonlat`), and the shifted coordinates of Chinese web maps,
GCJ-02 (Amap, Tencent) and BD-09 (Baidu), converted back in :mod:`geo.shift`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyproj
from numpy.typing import ArrayLike
from pyproj import CRS

from geo.errors import CoordinateError, CRSError

__all__ = [
    "CGCS2000",
    "CHINA_ALBERS",
    "CHINA_BOUNDS",
    "WGS84",
    "GKDetection",
    "ambiguous_lonlat_order",
    "as_crs",
    "detect_gauss_kruger",
    "detect_swapped_lonlat",
    "gk6_crs",
    "gk6_zone",
    "is_geographic",
    "transformer",
]

log = logging.getLogger(__name__)

#: The store's CRS: CGCS2000 geographic, longitude/latitude order (always_xy).
CGCS2000 = CRS.from_epsg(4490)
#: WGS84 geographic.
WGS84 = CRS.from_epsg(4326)
#: Albers equal-area conic for China on the CGCS2000 ellipsoid (GRS80): used for every area.
CHINA_ALBERS = CRS.from_proj4(
    "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=GRS80 "
    "+units=m +no_defs"
)


def as_crs(value: object, *, source: str = "") -> CRS:
    """Return a :class:`pyproj.CRS` from an EPSG code, an ``EPSG:n`` string, WKT or a CRS.

    Parameters
    ----------
    value
        ``4490``, ``"4490"``, ``"EPSG:4490"``, WKT, PROJ string or a CRS object.
    source
        Where the value came from (a file name, an option), named in the error.

    Raises
    ------
    CRSError
        When the value is not a CRS pyproj knows.

    Examples
    --------
    >>> as_crs("4490").to_epsg()
    4490
    """
    if isinstance(value, CRS):
        return value
    text = str(value).strip()
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        return CRS.from_user_input(text)
    except pyproj.exceptions.CRSError as exc:
        where = f" in {source}" if source else ""
        raise CRSError(
            f"unknown CRS {value!r}{where}: give an EPSG code such as EPSG:4490 (CGCS2000) "
            "or EPSG:4326 (WGS84)"
        ) from exc


def is_geographic(crs: CRS) -> bool:
    """Return True when ``crs`` has degrees for coordinates."""
    return bool(crs.is_geographic)


def transformer(src: CRS, dst: CRS) -> pyproj.Transformer:
    """Return a transformer in lon/lat (x, y) order whatever the CRS axis order says."""
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def gk6_zone(lon: np.ndarray | float) -> np.ndarray:
    """Return the Gauss-Krüger 6° zone number (13-23 over China) for longitudes.

    Examples
    --------
    >>> int(gk6_zone(126.5))
    22
    """
    zone = np.floor(np.asarray(lon, dtype="float64") / 6.0).astype("int64") + 1
    return np.clip(zone, 13, 23)


def gk6_crs(zone: int) -> CRS:
    """Return the CGCS2000 Gauss-Krüger 6° CRS for ``zone`` (EPSG:4491 is zone 13).

    Examples
    --------
    >>> gk6_crs(22).to_epsg()
    4500
    """
    if not 13 <= zone <= 23:
        raise CRSError(f"Gauss-Krüger 6° zone {zone} is outside China's zones 13-23")
    return CRS.from_epsg(4491 + zone - 13)


#: Longitude/latitude box around China (lon min, lat min, lon max, lat max): from the Pamirs
#: (73.5°E) to Fuyuan (135.1°E), from the Nansha islands (4°N) to Mohe (53.6°N).
CHINA_BOUNDS: tuple[float, float, float, float] = (73.0, 3.0, 136.0, 54.0)

# Gauss-Krüger magnitudes over China, with some slack for data spilling over a zone edge.
_EASTING_MIN, _EASTING_MAX = 100_000.0, 900_000.0  # without the zone number
_NORTHING_MIN, _NORTHING_MAX = 200_000.0, 6_200_000.0  # about 1.8°N to 56°N
_ZONES_3, _ZONES_6 = range(25, 46), range(13, 24)
_EPSG_3_ZONE, _EPSG_3_CM, _EPSG_6_ZONE, _EPSG_6_CM = 4513, 4534, 4491, 4502


def _inside(x: np.ndarray, y: np.ndarray, bounds: tuple[float, float, float, float]) -> np.ndarray:
    xmin, ymin, xmax, ymax = bounds
    return (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)


def detect_swapped_lonlat(
    x: ArrayLike, y: ArrayLike, *, bounds: tuple[float, float, float, float] = CHINA_BOUNDS
) -> np.ndarray:
    """Return a mask of rows whose longitude and latitude were typed into each other's column.

    A row is swapped when ``(x, y)`` falls outside ``bounds`` but ``(y, x)`` falls inside.
    Over China the two orders never both fit (longitudes 73-136 and latitudes 3-54 do not
    overlap); with smaller custom bounds they can, and :func:`ambiguous_lonlat_order` lists
    those rows, which this function never marks as swapped.

    Parameters
    ----------
    x, y : array_like
        Longitudes and latitudes as given, in degrees.
    bounds : tuple of float
        ``(lon min, lat min, lon max, lat max)``, inclusive.

    Examples
    --------
    >>> detect_swapped_lonlat([126.5, 43.5, 10.0], [43.5, 126.5, 10.0]).tolist()
    [False, True, False]
    """
    xs, ys = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    return ~_inside(xs, ys, bounds) & _inside(ys, xs, bounds)


def ambiguous_lonlat_order(
    x: ArrayLike, y: ArrayLike, *, bounds: tuple[float, float, float, float] = CHINA_BOUNDS
) -> np.ndarray:
    """Return a mask of rows that fit ``bounds`` in both orders, so a swap cannot be told.

    Always all False for :data:`CHINA_BOUNDS`.

    Parameters
    ----------
    x, y : array_like
        Longitudes and latitudes as given, in degrees.
    bounds : tuple of float
        ``(lon min, lat min, lon max, lat max)``, inclusive.

    Examples
    --------
    >>> ambiguous_lonlat_order([44.0, 126.5], [46.0, 43.5], bounds=(40, 40, 50, 50)).tolist()
    [True, False]
    """
    xs, ys = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    return _inside(xs, ys, bounds) & _inside(ys, xs, bounds)


@dataclass(frozen=True)
class GKDetection:
    """What :func:`detect_gauss_kruger` recognised.

    Attributes
    ----------
    crs
        The CGCS2000 Gauss-Krüger CRS, or None when the coordinates carry no zone number and
        no hint was given: the central meridian cannot be told, the user must name the CRS.
    zone
        Zone number (25-45 for 3° zones, 13-23 for 6° zones), None when unknown.
    zone_width
        3 or 6 (degrees), None when unknown.
    zone_in_easting
        True when the easting starts with the zone number (``42512345.6``).
    swapped
        True when the northing is in the x column and the easting in the y column.
    message
        A sentence for the log and the ingest report.
    """

    crs: CRS | None
    zone: int | None
    zone_width: Literal[3, 6] | None
    zone_in_easting: bool
    swapped: bool
    message: str

    @property
    def needs_crs(self) -> bool:
        """True when the user must give the CRS because the coordinates cannot tell it."""
        return self.crs is None


def _easting_zone(v: np.ndarray) -> np.ndarray:
    """Return per value: the zone number in the easting, 0 for an easting without one, -1."""
    zone = np.floor(v / 1e6)
    within = v - zone * 1e6
    plain = (v >= _EASTING_MIN) & (v <= _EASTING_MAX)
    prefixed = (zone >= 13) & (zone <= 45) & (within >= _EASTING_MIN) & (within <= _EASTING_MAX)
    return np.where(plain, 0, np.where(prefixed, zone, -1)).astype("int64")


def _is_northing(v: np.ndarray) -> np.ndarray:
    return (v >= _NORTHING_MIN) & (v <= _NORTHING_MAX)


def _zone_label(zone: int) -> str:
    return "no zone number" if zone == 0 else f"zone {zone}"


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _hint_zone(hint_lon: float, width: Literal[3, 6]) -> tuple[int, CRS]:
    """Return the zone holding ``hint_lon`` and its CGCS2000 CRS without zone number."""
    if not CHINA_BOUNDS[0] <= hint_lon <= CHINA_BOUNDS[2]:
        raise CRSError(
            f"hint longitude {hint_lon} is outside China ({CHINA_BOUNDS[0]}-{CHINA_BOUNDS[2]}°E)"
        )
    if width == 3:
        zone = min(max(round(hint_lon / 3.0), _ZONES_3.start), _ZONES_3.stop - 1)
        return zone, CRS.from_epsg(_EPSG_3_CM + zone - _ZONES_3.start)
    zone = int(gk6_zone(hint_lon))
    return zone, CRS.from_epsg(_EPSG_6_CM + zone - _ZONES_6.start)


def detect_gauss_kruger(
    x: ArrayLike,
    y: ArrayLike,
    *,
    hint_lon: float | None = None,
    hint_zone_width: Literal[3, 6] = 3,
) -> GKDetection | None:
    """Recognise CGCS2000 Gauss-Krüger coordinates from their magnitudes.

    Recognised, over China:

    * 3° zones with the zone number in the easting, ``zone * 1e6 + 500000`` false easting,
      zones 25-45 (EPSG:4513-4533);
    * 6° zones with the zone number in the easting, zones 13-23 (EPSG:4491-4501); the two
      ranges of zone numbers do not overlap, so the zone width is known;
    * eastings without a zone number (100 000-900 000 m): the central meridian cannot be
      told from the numbers. With ``hint_lon`` (e.g. the centre of the workspace) the zone
      holding it is assumed, 3° by default (EPSG:4534-4554, the zones of large-scale survey
      data such as the third land survey); without it the detection has ``crs=None``;
    * any of these with x and y swapped (the northing in the x column). Without a zone
      number, rows south of about 8°N fit both orders; when every row does, x is taken as
      the easting.

    NaN rows are ignored. Guessing a CRS must be reported to the user: the result's
    ``message`` says what was assumed and is logged at INFO.

    Parameters
    ----------
    x, y : array_like
        The two coordinate columns as given.
    hint_lon : float or None
        A longitude in the data's area, used only when the eastings carry no zone number.
    hint_zone_width : {3, 6}
        Zone width assumed with ``hint_lon``.

    Returns
    -------
    GKDetection or None
        None when the values look like longitude/latitude degrees (or there are none).

    Raises
    ------
    CRSError
        When rows mix degrees and metres, several zones, rows swapped and not swapped, or
        values no Gauss-Krüger zone over China can hold.

    Examples
    --------
    >>> print(detect_gauss_kruger([42512345.6], [4817000.0]).message)
    ... # doctest: +NORMALIZE_WHITESPACE
    coordinates look like CGCS2000 Gauss-Krüger 3° zone 42 (EPSG:4530)
    with the zone number in the easting
    >>> detect_gauss_kruger([4817000.0], [21512345.6]).crs.to_epsg()
    4499
    >>> detect_gauss_kruger([512345.6], [4817000.0], hint_lon=126.3).crs.to_epsg()
    4551
    >>> detect_gauss_kruger([126.5], [43.5]) is None
    True
    """
    xs = np.asarray(x, dtype="float64").ravel()
    ys = np.asarray(y, dtype="float64").ravel()
    if xs.shape != ys.shape:
        raise CoordinateError(f"x and y differ in length: {xs.size} and {ys.size}")
    finite = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[finite], ys[finite]
    degrees = (np.abs(xs) <= 180.0) & (np.abs(ys) <= 180.0)
    if degrees.all():
        return None
    if degrees.any():
        i, j = np.flatnonzero(degrees)[0], np.flatnonzero(~degrees)[0]
        raise CRSError(
            f"{_rows(int(degrees.sum()))} in degrees (e.g. x={xs[i]:g}, y={ys[i]:g}) "
            f"and {_rows(int((~degrees).sum()))} in metres (e.g. x={xs[j]:.1f}, y={ys[j]:.1f}); "
            "a layer must use one CRS: split the file or fix those rows"
        )
    zone_x, zone_y = _easting_zone(xs), _easting_zone(ys)
    normal = (zone_x >= 0) & _is_northing(ys)
    swapped = (zone_y >= 0) & _is_northing(xs)
    neither = ~(normal | swapped)
    if neither.any():
        i = np.flatnonzero(neither)[0]
        raise CRSError(
            f"{int(neither.sum())} of {_rows(xs.size)} fit no CGCS2000 Gauss-Krüger zone over "
            f"China (e.g. x={xs[i]:.1f}, y={ys[i]:.1f}): expected an easting of "
            f"{_EASTING_MIN:.0f}-{_EASTING_MAX:.0f} m, optionally after the zone number "
            f"(42500000), and a northing of {_NORTHING_MIN:.0f}-{_NORTHING_MAX:.0f} m; "
            "give the CRS explicitly"
        )
    only_normal, only_swapped = normal & ~swapped, swapped & ~normal
    if only_normal.any() and only_swapped.any():
        raise CRSError(
            f"x and y are swapped in some rows only: {_rows(int(only_normal.sum()))} have "
            f"the easting in x, {int(only_swapped.sum())} in y; fix those rows"
        )
    is_swapped = bool(only_swapped.any())
    zones, counts = np.unique(zone_y if is_swapped else zone_x, return_counts=True)
    if zones.size > 1:
        found = ", ".join(
            f"{_zone_label(int(z))} ({_rows(int(n))})" for z, n in zip(zones, counts, strict=True)
        )
        raise CRSError(
            f"coordinates mix several Gauss-Krüger zones: {found}; a layer must use one "
            "zone: split the file by zone or convert it to CGCS2000 longitude/latitude first"
        )
    detection = _detection(int(zones[0]), is_swapped, hint_lon, hint_zone_width)
    log.log(logging.WARNING if detection.needs_crs else logging.INFO, "%s", detection.message)
    return detection


def _detection(
    zone: int, swapped: bool, hint_lon: float | None, hint_zone_width: Literal[3, 6]
) -> GKDetection:
    """Build the detection for one zone number (0: none in the easting)."""
    tail = "; x and y are swapped (the northing is in the x column)" if swapped else ""
    if zone == 0:
        text = "coordinates look like CGCS2000 Gauss-Krüger without the zone number in the easting"
        if hint_lon is None:
            return GKDetection(
                None, None, None, False, swapped,
                f"{text}, so the central meridian cannot be told from them{tail}; give the "
                "CRS explicitly, e.g. EPSG:4551 for the 3° zone with central meridian 126°E",
            )
        hint_zone, crs = _hint_zone(hint_lon, hint_zone_width)
        central = hint_zone * 3 if hint_zone_width == 3 else hint_zone * 6 - 3
        return GKDetection(
            crs, hint_zone, hint_zone_width, False, swapped,
            f"{text}; assuming {hint_zone_width}° zone {hint_zone} (central meridian "
            f"{central}°E, EPSG:{crs.to_epsg()}) from the hint longitude {hint_lon:.2f}°"
            f"{tail}; give the CRS explicitly if that is wrong",
        )
    if zone in _ZONES_3:
        width: Literal[3, 6] = 3
        crs = CRS.from_epsg(_EPSG_3_ZONE + zone - _ZONES_3.start)
    elif zone in _ZONES_6:
        width = 6
        crs = CRS.from_epsg(_EPSG_6_ZONE + zone - _ZONES_6.start)
    else:
        raise CRSError(
            f"eastings carry zone number {zone}, which is neither a 3° zone (25-45) nor a "
            "6° zone (13-23) over China; give the CRS explicitly"
        )
    if hint_lon is not None:
        central = zone * 3 if width == 3 else zone * 6 - 3
        if abs(hint_lon - central) > width:
            log.warning(
                "zone %d (central meridian %d°E) is far from the hint longitude %.2f°",
                zone, central, hint_lon,
            )
    message = (
        f"coordinates look like CGCS2000 Gauss-Krüger {width}° zone {zone} "
        f"(EPSG:{crs.to_epsg()}) with the zone number in the easting{tail}"
    )
    return GKDetection(crs, zone, width, True, swapped, message)
