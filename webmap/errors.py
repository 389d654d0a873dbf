"""Errors of the web map and web app, and the one table mapping errors to HTTP codes.

Every error is a :class:`geo.errors.LvdunError`; those that come from bad input also
inherit :class:`ValueError`, so callers can catch either.
"""

from __future__ import annotations

from typing import Any

from geo.errors import LvdunError
from pipelines.errors import (
    AuthError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    StoreError,
    TransitionError,
    UserError,
    WorkspaceError,
)

__all__ = [
    "HTTP_STATUS",
    "AssetError",
    "MapInputError",
    "RequestError",
    "UnsupportedMediaError",
    "VersionConflictError",
    "WebmapError",
    "http_status",
]


class WebmapError(LvdunError):
    """An error while building or serving a map."""


class MapInputError(WebmapError, ValueError):
    """A frame handed to the map builder cannot be drawn (wrong type, no CRS...)."""


class AssetError(WebmapError, RuntimeError):
    """A vendored script or stylesheet is missing, or a map would still need the internet.

    Raised when a folium element asks for a CDN resource that ``webmap/static`` does not
    vendor, or when rendered HTML still links an external script or stylesheet.
    """


class RequestError(WebmapError, ValueError):
    """A request parameter is malformed (a bbox that is not four numbers, a bad tile...)."""


class UnsupportedMediaError(RequestError):
    """An upload is not of a type the route takes (an evidence file that is no photo)."""


class VersionConflictError(ConflictError):
    """A status change named a stale version; ``details`` holds both versions.

    Parameters
    ----------
    message
        What happened and what to do.
    details
        JSON-ready facts added to the response: ``your_version``, ``current_version``,
        ``current_status``, ``updated_by``, ``updated_at``.
    """

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.details = details


#: HTTP status of each error class; an error takes the entry of its nearest class
#: (its own, then its bases in method resolution order). LvdunErrors without an entry
#: are 500, as are errors that are not LvdunErrors.
HTTP_STATUS: dict[type[BaseException], int] = {
    UnsupportedMediaError: 415,
    RequestError: 400,
    UserError: 400,
    WorkspaceError: 400,
    ValueError: 400,
    AuthError: 401,
    PermissionDeniedError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    TransitionError: 422,
    StoreError: 503,
}


def http_status(exc: BaseException) -> int:
    """Return the HTTP status code of an error from :data:`HTTP_STATUS`.

    ``LvdunError`` itself is skipped while walking the bases, so that e.g. an error
    deriving from ``(PipelineError, ValueError)`` is a 400, not a 500.

    Examples
    --------
    >>> http_status(TransitionError("x")), http_status(VersionConflictError("x", {}))
    (422, 409)
    >>> http_status(LvdunError("x")), http_status(RuntimeError("x"))
    (500, 500)
    """
    if not isinstance(exc, LvdunError):
        return 500
    for cls in type(exc).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500
