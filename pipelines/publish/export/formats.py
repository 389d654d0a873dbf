"""What the writers of one export share, and the CSV, GeoPackage, GeoJSON, SHP, KML writers.

CSV is a ledger (UTF-8 with BOM so that Excel opens it as it is); the GIS formats carry
the leads' geometries with the ledger's Chinese headers (short ASCII names in shapefiles).
The Excel ledger is written by :mod:`pipelines.publish.export.xlsx`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from pipelines.escape import csv_cell, xml_text
from pipelines.publish.export.ledger_format import (
    DATE_COLUMNS,
    DATETIME_COLUMNS,
    Scope,
    cell_text,
    ledger_columns,
    ledger_rows,
)
from pipelines.publish.views import LEDGER_COLUMNS

__all__ = ["ExportContext", "write_csv", "write_geojson", "write_gpkg", "write_kml", "write_shp"]

#: Short ASCII field names for shapefiles (10-byte limit).
_SHP_FIELDS = {
    "lead_id": "lead_id", "batch": "batch", "activity_type": "activity", "change_type": "change",
    "reserve_name": "reserve", "zone_label": "zone", "county_name": "county",
    "area_m2": "area_m2", "dist_boundary_m": "dist_m", "status_label": "status",
}


@dataclass
class ExportContext:
    """What every writer of one export shares."""

    workspace_id: str
    run_id: str
    exported_at: datetime
    location: str
    opinions: dict[str, str]
    overdue: pd.DataFrame
    #: Chip PNG paths per lead id and kind (table ``lead_chips``).
    chips: dict[str, dict[str, str]] = field(default_factory=dict)
    #: The group the file being written is for (set per group by the export).
    scope: Scope | None = None


def write_csv(rows: gpd.GeoDataFrame, path: Path, title: str, ctx: ExportContext) -> Path:
    """Write the ledger of ``rows`` as CSV (UTF-8 with BOM, Chinese headers, ISO dates).

    Parameters
    ----------
    rows : geopandas.GeoDataFrame
        Leads of one group, rows of :func:`pipelines.publish.views.leads_view`.
    path : pathlib.Path
        File to write.
    title : str
        The group (reserve or county name); unused in CSV.
    ctx : ExportContext
        What the writers of this export share.

    Returns
    -------
    Path
        The file written.
    """
    columns = ledger_columns()
    table = ledger_rows(rows, ctx.opinions, workspace=ctx.workspace_id, run_id=ctx.run_id)
    for canon in columns:
        if canon in DATE_COLUMNS or canon in DATETIME_COLUMNS:
            table[canon] = [cell_text(canon, v) for v in table[canon]]
        if table[canon].dtype == object:
            table[canon] = [csv_cell(v) for v in table[canon]]
    header = [csv_cell(name) for name in columns.values()]
    table.to_csv(path, index=False, header=header, encoding="utf-8-sig")
    return path


def _geo_frame(rows: gpd.GeoDataFrame, *, short: bool = False) -> gpd.GeoDataFrame:
    names = _SHP_FIELDS if short else LEDGER_COLUMNS
    cols = [c for c in names if c in rows.columns]
    frame = rows[[*cols, "geometry"]].rename(columns=names)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=rows.crs)


def write_gpkg(rows: gpd.GeoDataFrame, path: Path, title: str, ctx: ExportContext) -> Path:
    """Write ``rows`` as the layer ``leads`` of a GeoPackage (arguments as :func:`write_csv`).

    Parameters
    ----------
    rows : geopandas.GeoDataFrame
        Leads of one group, rows of :func:`pipelines.publish.views.leads_view`.
    path : pathlib.Path
        File to write.
    title : str
        The group (reserve or county name); unused here.
    ctx : ExportContext
        What the writers of this export share; unused here (all writers take the same
        arguments).
    """
    pyogrio.write_dataframe(_geo_frame(rows), path, layer="leads", driver="GPKG")
    return path


def write_geojson(rows: gpd.GeoDataFrame, path: Path, title: str, ctx: ExportContext) -> Path:
    """Write ``rows`` as GeoJSON (arguments as :func:`write_csv`).

    Parameters
    ----------
    rows : geopandas.GeoDataFrame
        Leads of one group, rows of :func:`pipelines.publish.views.leads_view`.
    path : pathlib.Path
        File to write.
    title : str
        The group (reserve or county name); unused here.
    ctx : ExportContext
        What the writers of this export share; unused here (all writers take the same
        arguments).
    """
    pyogrio.write_dataframe(_geo_frame(rows), path, driver="GeoJSON")
    return path


def write_shp(rows: gpd.GeoDataFrame, path: Path, title: str, ctx: ExportContext) -> Path:
    """Write ``rows`` as a shapefile with short ASCII field names and a UTF-8 ``.dbf``.

    A shapefile holds one geometry type: points and patches together go to
    ``<stem>_points.shp`` and ``<stem>_patches.shp``, and the first is returned.
    Arguments as :func:`write_csv`.

    Parameters
    ----------
    rows : geopandas.GeoDataFrame
        Leads of one group, rows of :func:`pipelines.publish.views.leads_view`.
    path : pathlib.Path
        File named for the points and patches files (``<stem>_points.shp``, ``<stem>_patches.shp``).
    title : str
        The group (reserve or county name); unused here.
    ctx : ExportContext
        What the writers of this export share; unused here (all writers take the same
        arguments).
    """
    frame = _geo_frame(rows, short=True)
    points = frame[frame.geom_type == "Point"]
    polys = frame[frame.geom_type != "Point"]
    if len(polys) and len(points):  # a shapefile holds one geometry type
        pyogrio.write_dataframe(points, path.with_name(path.stem + "_points.shp"),
                                encoding="UTF-8")
        pyogrio.write_dataframe(polys, path.with_name(path.stem + "_patches.shp"),
                                encoding="UTF-8")
        return path.with_name(path.stem + "_points.shp")
    pyogrio.write_dataframe(frame, path, encoding="UTF-8")
    return path


def write_kml(rows: gpd.GeoDataFrame, path: Path, title: str, ctx: ExportContext) -> Path:
    """Write ``rows`` as KML in WGS 84, named by lead id (arguments as :func:`write_csv`).

    Parameters
    ----------
    rows : geopandas.GeoDataFrame
        Leads of one group, rows of :func:`pipelines.publish.views.leads_view`.
    path : pathlib.Path
        File to write.
    title : str
        The group (reserve or county name); unused here.
    ctx : ExportContext
        What the writers of this export share; unused here (all writers take the same
        arguments).
    """
    frame = _geo_frame(rows).rename(columns={"线索编号": "Name"})
    for column in frame.columns:
        if frame[column].dtype == object and column != "geometry":
            frame[column] = [xml_text(v) if isinstance(v, str) else v for v in frame[column]]
    # the folder is named by us, not after the file: GDAL rewrites names it finds invalid
    pyogrio.write_dataframe(frame.to_crs(4326), path, driver="KML", layer="核查清单")
    return path
