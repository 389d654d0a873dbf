"""GCJ-02 and BD-09: the coordinate shifts of Chinese web maps, both ways.

Amap and Tencent publish GCJ-02 ("Mars coordinates"), Baidu BD-09; data copied from them
sit hundreds of metres off. These are the formulas published by reverse engineering
(Krasovsky ellipsoid constants, Baidu's ``x_pi``); inverses are iterated to below 1e-12°.
CGCS2000 longitude/latitude is treated as WGS84 (they differ by well under a metre).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

log = logging.getLogger(__name__)


# GCJ-02 ("Mars coordinates") and BD-09: the obfuscation of Chinese web maps, as published
# by reverse engineering (Krasovsky ellipsoid constants, Baidu's x_pi).
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0
_SHIFT_BOX = (72.004, 0.8293, 137.8347, 55.8271)  # the usual rough "in China" test
_MAX_ITERATIONS = 30
_TOLERANCE = 1e-12  # degrees, about 0.1 µm


def _as_float(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    lons, lats = np.broadcast_arrays(
        np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")
    )
    return lons.copy(), lats.copy()


def _gcj_shift(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the GCJ-02 offset (dlon, dlat) in degrees at WGS84 ``lon``, ``lat``."""
    x, y = lon - 105.0, lat - 35.0
    pi = np.pi
    wave = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += wave + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += wave + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad = lat / 180.0 * pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * pi)
    dlon = dlon * 180.0 / (_KRASOVSKY_A / sqrt_magic * np.cos(rad) * pi)
    return dlon, dlat


def _in_shift_box(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    minx, miny, maxx, maxy = _SHIFT_BOX
    return (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)


_Pair = tuple[np.ndarray, np.ndarray]


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], _Pair], lon: np.ndarray, lat: np.ndarray,
    start: _Pair,
) -> _Pair:
    """Solve ``forward(p) == (lon, lat)`` by fixed-point iteration from ``start``."""
    plon, plat = start
    for _ in range(_MAX_ITERATIONS):
        flon, flat = forward(plon, plat)
        elon, elat = flon - lon, flat - lat
        plon, plat = plon - elon, plat - elat
        error = np.maximum(np.abs(elon), np.abs(elat))
        if not error.size or np.nanmax(error, initial=0.0) < _TOLERANCE:
            break
    return plon, plat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Shift WGS84 (or CGCS2000) longitude/latitude to GCJ-02, the Amap/Tencent coordinates.

    CGCS2000 and WGS84 longitudes/latitudes differ by well under a metre in China and are
    treated as equal here. Points outside the rough China box (lon 72.004-137.8347, lat
    0.8293-55.8271) are returned unchanged, as the web maps do.

    Parameters
    ----------
    lon, lat
        Degrees, scalars or arrays (broadcast together).

    Returns
    -------
    lon, lat : numpy.ndarray
        GCJ-02 degrees.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(121.5272106, 31.1774276)
    >>> round(float(lon), 6), round(float(lat), 6)
    (121.531542, 31.175304)
    """
    lons, lats = _as_float(lon, lat)
    dlon, dlat = _gcj_shift(lons, lats)
    inside = _in_shift_box(lons, lats)
    return np.where(inside, lons + dlon, lons), np.where(inside, lats + dlat, lats)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 (Amap/Tencent) longitude/latitude back to WGS84 / CGCS2000.

    The exact inverse of :func:`wgs84_to_gcj02`, iterated until the forward shift
    reproduces the input to 1e-12° (the usual one-step formula is off by up to a few metres).

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(121.531541859215, 31.17530398364597)
    >>> round(float(lon), 7), round(float(lat), 7)
    (121.5272106, 31.1774276)
    """
    lons, lats = _as_float(lon, lat)
    inside = _in_shift_box(lons, lats)
    dlon, dlat = _gcj_shift(lons, lats)
    start = (lons - dlon, lats - dlat)
    wlon, wlat = _invert(
        wgs84_to_gcj02, lons[inside], lats[inside], (start[0][inside], start[1][inside])
    )
    lons[inside], lats[inside] = wlon, wlat
    return lons, lats


def _bd_forward(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_backward(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 longitude/latitude to BD-09, Baidu's coordinates.

    Points outside the rough China box are returned unchanged.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(123.0, 45.0)
    >>> round(float(lon), 6), round(float(lat), 6)
    (123.006365, 45.006369)
    """
    lons, lats = _as_float(lon, lat)
    blon, blat = _bd_forward(lons, lats)
    inside = _in_shift_box(lons, lats)
    return np.where(inside, blon, lons), np.where(inside, blat, lats)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert BD-09 (Baidu) longitude/latitude to GCJ-02.

    Starts from the widely used one-step formula (off by up to 0.2 m) and iterates to the
    exact inverse of :func:`gcj02_to_bd09`. Points outside the rough China box are returned
    unchanged.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(123.0, 45.0)
    >>> round(float(lon), 6), round(float(lat), 6)
    (122.993634, 44.993654)
    """
    lons, lats = _as_float(lon, lat)
    inside = _in_shift_box(lons, lats)
    start = _bd_backward(lons[inside], lats[inside])
    glon, glat = _invert(_bd_forward, lons[inside], lats[inside], start)
    lons[inside], lats[inside] = glon, glat
    return lons, lats


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 (or CGCS2000) longitude/latitude to BD-09 through GCJ-02.

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(123.0, 45.0)
    >>> round(float(lon), 6), round(float(lat), 6)
    (123.012449, 45.008329)
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert BD-09 (Baidu) longitude/latitude back to WGS84 / CGCS2000 through GCJ-02.

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(123.0, 45.0)
    >>> round(float(lon), 6), round(float(lat), 6)
    (122.987623, 44.991715)
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
