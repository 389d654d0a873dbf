"""Errors of the geometry core.

``LvdunError`` is the root of every error the project raises on purpose; each package
adds its own subclasses in its own ``errors.py``.
"""

from __future__ import annotations

__all__ = ["CRSError", "CoordinateError", "GeoError", "GeometryError", "LvdunError", "RasterError"]


class LvdunError(Exception):
    """Root of every error lvdun raises deliberately."""


class GeoError(LvdunError):
    """An error in the geometry core."""


class CRSError(GeoError, ValueError):
    """A coordinate reference system is missing, unknown or does not fit the data."""


class CoordinateError(GeoError, ValueError):
    """Coordinates cannot be read or paired as given (an unknown axis, x and y of two lengths)."""


class GeometryError(GeoError, ValueError):
    """A geometry is empty, invalid beyond repair or of the wrong type."""


class RasterError(GeoError, ValueError):
    """A raster cannot be used as given (no CRS, fractional class codes, no overlap)."""
