"""Errors of the web map and web app.

Every error is a :class:`geo.errors.LvdunError`; those that come from bad input also
inherit :class:`ValueError`, so callers can catch either.
"""

from __future__ import annotations

from geo.errors import LvdunError

__all__ = ["AssetError", "MapInputError", "WebmapError"]


class WebmapError(LvdunError):
    """An error while building or serving a map."""


class MapInputError(WebmapError, ValueError):
    """A frame handed to the map builder cannot be drawn (wrong type, no CRS...)."""


class AssetError(WebmapError, RuntimeError):
    """A vendored script or stylesheet is missing, or a map would still need the internet.

    Raised when a folium element asks for a CDN resource that ``webmap/static`` does not
    vendor, or when rendered HTML still links an external script or stylesheet.
    """
