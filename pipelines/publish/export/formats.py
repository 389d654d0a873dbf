"""What the writers of one export share, and the CSV, GeoPackage, GeoJSON, SHP, KML writers.

CSV is a ledger (UTF-8 with BOM so that Excel opens it as it is); the GIS formats carry
the leads' geometries with the ledger's Chinese headers and values in typed fields (short
Chinese names and a GBK ``.dbf`` in shapefiles: :mod:`pipelines.publish.export.gis`).
The Excel ledger is written by :mod:`pipelines.publish.export.xlsx`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines.escape import csv_cell, xml_text
from pipelines.publish.export.gis import (
    SHP_FIELDS,
    gis_columns,
    gis_table,
    shp_text,
    write_layer,
)
from pipelines.publish.export.ledger_format import (
    DATE_COLUMNS,
    DATETIME_COLUMNS,
    Scope,
    cell_text,
    ledger_columns,
    ledger_rows,
)

__all__ = ["ExportContext", "write_csv", "write_geojson", "write_gpkg", "write_kml", "write_shp"]

log = logging.getLogger(__name__)


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


def _layer(rows: gpd.GeoDataFrame, ctx: ExportContext) -> pd.DataFrame:
    """The values of the GIS layer of ``rows`` (:func:`pipelines.publish.export.gis.gis_table`)."""
    return gis_table(rows, ctx.opinions)


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
    return write_layer(_layer(rows, ctx), rows.geometry.values, path, driver="GPKG",
                       crs=rows.crs, names=gis_columns(), layer="leads")


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
    return write_layer(_layer(rows, ctx), rows.geometry.values, path, driver="GeoJSON",
                       crs=rows.crs, names=gis_columns())


def write_shp(rows: gpd.GeoDataFrame, path: Path, title: str, ctx: ExportContext) -> Path:
    """Write ``rows`` as a shapefile: short Chinese field names, a GBK ``.dbf`` and ``.cpg``.

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
    table = _layer(rows, ctx)
    kinds = rows.geom_type.to_numpy()
    points = kinds == "Point"
    changed = 0

    def text(value: str) -> str:
        nonlocal changed
        out = shp_text(value)
        changed += out != value
        return out

    parts = [(path, np.ones(len(rows), dtype=bool))]
    if points.any() and not points.all():  # a shapefile holds one geometry type
        parts = [(path.with_name(path.stem + "_points.shp"), points),
                 (path.with_name(path.stem + "_patches.shp"), ~points)]
    for file, which in parts:
        write_layer(table[which], rows.geometry.values[which], file,
                    driver="ESRI Shapefile", crs=rows.crs, names=SHP_FIELDS, text=text)
    if changed:
        log.warning("%s: %d text values cut to 254 bytes or holding characters GBK has no "
                    "code for (written as ?); the GeoPackage export keeps them whole",
                    path, changed)
    return parts[0][0]


def write_kml(rows: gpd.GeoDataFrame, path: Path, title: str, ctx: ExportContext) -> Path:
    """Write ``rows`` as KML in WGS 84, placemarks named by 线索编号 (arguments as
    :func:`write_csv`).

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
    table = _layer(rows, ctx)
    table.insert(0, "name", table["lead_id"])  # the placemark's <name>, 线索编号 kept too
    # the folder is named by us, not after the file: GDAL rewrites names it finds invalid
    return write_layer(table, rows.geometry.to_crs(4326).values, path, driver="KML",
                       crs="EPSG:4326", names={"name": "Name", **gis_columns()},
                       layer="核查清单", text=xml_text)
