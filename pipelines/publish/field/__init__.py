"""Field packages: one reserve's leads for the apps field teams carry (``lvdun field package``).

Three apps, one module each:

- :mod:`pipelines.publish.field.kmz`: 奥维 / Ovital and 两步路 (a KMZ of placemarks and zone
  polygons, CGCS2000 ≈ WGS 84, or shifted to GCJ-02 for apps that show GCJ-02 maps);
- :mod:`pipelines.publish.field.odk`: ODK Collect (an XLSForm follow-up form over the entity
  list ``leads.csv``);
- :mod:`pipelines.publish.field.qfield`: QField / QGIS (a ``.qgz`` project over a GeoPackage).

Every package is an export of the reserve's leads in the sense of the ledger: it is
recorded (:func:`pipelines.publish.export.record_export`) with the version of every lead,
and every lead carries the package's identity ``lvdun:<workspace id>:<run id>:`` (the
台账标识 of a ledger without a digest). ``lvdun field import``
(:mod:`pipelines.verify.field_import`) reads what comes back with the ledger import's
rules: a lead changes only if it was in the package, judged by the version recorded then.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from layers.schema import STATUS_LABELS, Status
from pipelines.errors import NotFoundError, WorkspaceError
from pipelines.escape import file_name
from pipelines.publish.export import (
    EDITABLE,
    Scope,
    cell_text,
    digest,
    record_export,
    workspace_id,
)
from pipelines.publish.views import leads_view
from pipelines.store.base import Workspace, new_run_id, now_iso

__all__ = [
    "APPS",
    "COORDS",
    "FieldContents",
    "FieldPackage",
    "field_contents",
    "field_package",
    "package_id",
]

log = logging.getLogger(__name__)

APPS = ("kmz", "odk", "qfield")
COORDS = ("wgs84", "gcj02")



@dataclass
class FieldContents:
    """What a field package holds: one reserve's leads, zones and outline, and its identity.

    ``leads`` is the :func:`pipelines.publish.views.leads_view` of the reserve's leads
    (CGCS2000); ``zones`` the reserve's zone polygons, ``outline`` their union.
    """

    code: str
    name: str
    label: str
    run_id: str
    workspace_id: str
    leads: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    outline: gpd.GeoDataFrame

    @property
    def package_id(self) -> str:
        """The identity every lead of the package carries (a 台账标识 without digest)."""
        return package_id(self.workspace_id, self.run_id)

    def row_id(self, status_label: str | None, reason: str | None = None) -> str:
        """The 台账标识 of one lead as packaged: the package id and the digest of its
        editable values (status, reason; the others blank), so an unedited row is seen
        as such on import."""
        values = {"status_label": status_label, "reason": reason}
        return self.package_id + digest([cell_text(c, values.get(c)) for c in EDITABLE])

    def versions(self) -> dict[str, int | None]:
        """Lead id -> version as packaged."""
        return {str(k): (None if pd.isna(v) else int(v))
                for k, v in zip(self.leads["lead_id"], self.leads["version"], strict=True)}


@dataclass
class FieldPackage:
    """The files of one package written by :func:`field_package`."""

    app: str
    code: str
    name: str
    run_id: str
    files: list[Path] = field(default_factory=list)
    leads: int = 0


def package_id(workspace: str, run_id: str) -> str:
    """Return the identity a package's leads carry: ``lvdun:<workspace>:<run>:``.

    Examples
    --------
    >>> package_id("ws1", "20250101T000000000000-abcdef")
    'lvdun:ws1:20250101T000000000000-abcdef:'
    """
    return f"lvdun:{workspace}:{run_id}:"


def field_contents(ws: Workspace, code: str) -> FieldContents:
    """Return what the field package of reserve ``code`` holds (nothing is recorded).

    Raises
    ------
    WorkspaceError
        When the leads are not classified yet.
    NotFoundError
        When no lead falls in reserve ``code``.
    """
    if not ws.count("lead_class"):
        raise WorkspaceError("leads are not classified yet: run `lvdun classify` first")
    leads = leads_view(ws, by="reserve", codes=[code])
    if leads.empty:
        raise NotFoundError(f"no leads in reserve {code!r}")
    zones = ws.read_features_equal("reserves", "reserve_code", code)
    names = [n for n in leads["reserve_name"] if isinstance(n, str) and n.strip()]
    name = names[0] if names else code
    if zones.empty:
        outline = gpd.GeoDataFrame({"reserve_code": [], "reserve_name": []},
                                   geometry=[], crs=leads.crs)
    else:
        outline = gpd.GeoDataFrame({"reserve_code": [code], "reserve_name": [name]},
                                   geometry=[zones.geometry.union_all()], crs=zones.crs)
    leads = leads.sort_values("lead_id").reset_index(drop=True)
    leads["status_label"] = [STATUS_LABELS[Status(s)] for s in leads["status"]]
    label = f"{file_name(name, max_len=40)}_{file_name(code, max_len=40)}"
    return FieldContents(code, name, label, new_run_id(), workspace_id(ws, create=True) or "",
                         leads, zones, outline)


def field_package(
    ws: Workspace, code: str, *, app: str, out_dir: str | Path, coords: str = "wgs84"
) -> FieldPackage:
    """Write the field package of reserve ``code`` for ``app`` into ``out_dir``.

    Parameters
    ----------
    ws : Workspace
        A classified workspace.
    code : str
        The reserve's code.
    app : str
        ``kmz`` (奥维 / 两步路), ``odk`` (ODK Collect) or ``qfield`` (QField / QGIS).
    out_dir : str or Path
        Folder to write into (created).
    coords : str
        ``wgs84`` (CGCS2000 as it is) or ``gcj02`` (shifted; KMZ only).

    Raises
    ------
    WorkspaceError
        For an unknown app or coordinates, or leads not classified yet.
    NotFoundError
        When the reserve has no leads.
    """
    from pipelines.publish.field import kmz, odk, qfield

    if app not in APPS:
        raise WorkspaceError(f"unknown app {app!r}; use one of {', '.join(APPS)}")
    if coords not in COORDS:
        raise WorkspaceError(f"--coords {coords!r}: use one of {', '.join(COORDS)}")
    if coords != "wgs84" and app != "kmz":
        raise WorkspaceError(f"--coords {coords} applies to --app kmz only: QField and ODK "
                             "Collect record and show GPS (WGS 84) positions")
    started = now_iso()
    contents = field_contents(ws, code)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if app == "kmz":
        files = [kmz.write_kmz(contents, out / f"{contents.label}.kmz", coords=coords)]
    elif app == "odk":
        files = odk.write_odk(contents, out)
    else:
        files = qfield.write_qfield(contents, out)
    scope = Scope("reserve", code)
    with ws.transaction():
        record_export(ws, contents.run_id, [(scope, contents.name, contents.versions())])
        ws.record_run(contents.run_id, "field package", started_at=started,
                      params={"reserve": code, "app": app, "coords": coords, "out": str(out),
                              "workspace_id": contents.workspace_id},
                      counts={"leads": len(contents.leads)})
    log.info("field package %s of %s: %d leads -> %s", app, code, len(contents.leads), out)
    return FieldPackage(app, code, contents.name, contents.run_id, files, len(contents.leads))
