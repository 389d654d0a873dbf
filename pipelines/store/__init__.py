"""The workspace store: GeoPackage (embedded default) and PostGIS."""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.store.base import Workspace
from pipelines.store.gpkg import GeoPackageWorkspace

__all__ = ["DEFAULT_WORKSPACE", "GeoPackageWorkspace", "Workspace", "open_workspace"]

DEFAULT_WORKSPACE = "lvdun.gpkg"


def open_workspace(location: str | Path | None = None, *, create: bool = True) -> Workspace:
    """Return the workspace at ``location`` (a ``.gpkg`` path or a ``postgresql://`` URL).

    Parameters
    ----------
    location
        Path or URL; None means ``./lvdun.gpkg``.
    create
        Create a GeoPackage that does not exist yet.
    """
    text = str(location or DEFAULT_WORKSPACE)
    if text.startswith(("postgresql://", "postgres://")):
        from pipelines.store.postgis import PostGISWorkspace

        return PostGISWorkspace(text)
    return GeoPackageWorkspace(Path(os.path.expanduser(text)), create=create)
