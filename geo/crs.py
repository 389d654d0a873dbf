"""Coordinate reference systems: the store's CRS, projections for areas and distances.

Everything lvdun stores is CGCS2000 longitude/latitude (EPSG:4490). Areas are computed in
an Albers equal-area projection for China; distances in the CGCS2000 Gauss-Krüger 6° zone
(EPSG:4491-4501) that holds the geometries, where scale error stays below 0.14 %.
"""

from __future__ import annotations

import logging

import numpy as np
import pyproj
from pyproj import CRS

from geo.errors import CRSError

__all__ = [
    "CGCS2000",
    "CHINA_ALBERS",
    "WGS84",
    "as_crs",
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
