"""The leads as GIS layers: the ledger's Chinese names and values, in typed fields.

GeoPackage, GeoJSON, KML and shapefile exports hold what the ledger holds
(:func:`pipelines.publish.export.ledger_format.ledger_rows`): 保护区级别 国家级, 功能区
核心区, 核查状态 待核查, the activity types as sent, under the ledger's Chinese headers.
Numbers are numeric fields (areas, distances and coordinates real, counts integer), dates
are date fields, the time of the last change a date-time field in China Standard Time
where the format has one (a shapefile has none: text there). 线索编号 is the key a
person or a join uses to come back to the workspace; 台账标识, a ledger's identity, is
left out.

Shapefiles have field names of at most 10 bytes: :data:`SHP_FIELDS` gives each column a
short Chinese name that fits in GBK (2 bytes a character), and the ``.dbf`` is written in
GBK with a ``.cpg`` saying so, which is what ArcGIS, QGIS and the GIS software of Chinese
bureaus read without asking. Text values go through :func:`pipelines.escape.dbf_text`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyogrio.raw import write

from layers.read import is_blank
from pipelines.escape import dbf_text
from pipelines.publish.export.ledger_format import ledger_columns, ledger_rows

__all__ = ["FIELD_TYPES", "GIS_ENCODING", "SHP_FIELDS", "gis_columns", "gis_table",
           "write_layer"]

log = logging.getLogger(__name__)

#: The fields that are not text: ``int``, ``real``, ``date`` or ``datetime``.
FIELD_TYPES: dict[str, str] = {
    "rounds": "int", "version": "int",
    "lon": "real", "lat": "real", "area_m2": "real", "area_mu": "real",
    "dist_boundary_m": "real",
    "date_before": "date", "date_after": "date", "deadline": "date",
    "updated_at": "datetime",
}

#: The encoding of shapefiles' ``.dbf`` (and the word their ``.cpg`` holds).
GIS_ENCODING = "GBK"

#: Shapefile field names: each at most 10 bytes in GBK, all different.
SHP_FIELDS: dict[str, str] = {
    "lead_id": "线索编号",
    "batch": "批次",
    "first_batch": "首次批次",
    "rounds": "监测次数",
    "activity_type": "活动类型",
    "change_type": "变化类型",
    "reserve_name": "保护区名称",
    "reserve_code": "保护区编码",
    "reserve_level": "保护区级别",
    "zone_label": "功能区",
    "primary_reserve": "主归保护区",
    "primary_zone": "主归功能区",
    "overlaps_text": "涉及保护区",
    "wetland_names": "涉及湿地",
    "mine_ids": "涉及矿山",
    "county_name": "所在县",
    "county_adcode": "区划代码",
    "lon": "中心经度",
    "lat": "中心纬度",
    "area_m2": "面积平方米",
    "area_mu": "面积亩",
    "dist_boundary_m": "距边界米",
    "near_boundary_text": "临近边界",
    "date_before": "前时相",
    "date_after": "后时相",
    "note": "线索备注",
    "status_label": "核查状态",
    "reason": "原因",
    "responsible_unit": "责任单位",
    "measures": "整改措施",
    "deadline": "整改期限",
    "opinion": "核查意见",
    "updated_at": "更新时间",
    "updated_by": "更新人",
    "version": "版本",
}

#: Ledger columns no GIS layer holds: the ledger's identity.
_NOT_GIS = frozenset({"ledger_id"})
#: The drivers with date-time fields (KML has none, shapefiles neither).
_DATETIME_DRIVERS = frozenset({"GPKG", "GeoJSON"})
#: Time zones as GDAL writes them: 100 is UTC, each step 15 minutes. A GeoPackage holds
#: UTC only; GeoJSON the ledger's China Standard Time with its offset.
_UTC, _CST_OFFSET = 100, 100 + 8 * 4
_CST_HOURS = np.timedelta64(8, "h")


def gis_columns() -> dict[str, str]:
    """Return the columns of a GIS layer, canonical name -> Chinese field name, in order."""
    return {k: v for k, v in ledger_columns().items() if k not in _NOT_GIS}


def gis_table(rows: pd.DataFrame, opinions: dict[str, str]) -> pd.DataFrame:
    """Return the values of a GIS layer, canonical columns, one row per row of ``rows``.

    Parameters
    ----------
    rows : pandas.DataFrame
        Rows of :func:`pipelines.publish.views.leads_view`.
    opinions : dict of str to str
        The current 核查意见 per lead id.
    """
    table = ledger_rows(rows, opinions, workspace="", run_id="")
    return table[list(gis_columns())].copy()


def _geometry_type(geometry: np.ndarray) -> tuple[str, bool]:
    kinds = {g.geom_type for g in geometry if g is not None}
    if len(kinds) == 1:
        return kinds.pop(), False
    if kinds <= {"Polygon", "MultiPolygon"}:
        return "MultiPolygon", True
    return "Unknown", False


def _column(canon: str, values: pd.Series, *, datetimes: bool,
            text: Callable[[str], str]) -> tuple[np.ndarray, np.ndarray | None]:
    """One field's values as numpy data and a null mask (None: no nulls to mark)."""
    blank = np.array([is_blank(v) for v in values], dtype=bool)
    kind = FIELD_TYPES.get(canon)
    if kind == "int":
        data = np.array([0 if b else int(v) for v, b in zip(values, blank, strict=True)],
                        dtype="int32")  # Integer, not Integer64: KML and DBF readers know it
        return data, blank
    if kind == "real":
        return np.array([np.nan if b else float(v) for v, b in zip(values, blank, strict=True)],
                        dtype="float64"), None
    if kind == "date":
        return np.array([v.isoformat() if isinstance(v, date) else "NaT" for v in values],
                        dtype="datetime64[D]"), None
    if kind == "datetime" and datetimes:
        return np.array([v.isoformat() if isinstance(v, datetime) else "NaT" for v in values],
                        dtype="datetime64[ms]"), None
    out = []
    for value, empty in zip(values, blank, strict=True):
        if empty:
            out.append(None)
        elif isinstance(value, datetime):
            out.append(value.strftime("%Y-%m-%d %H:%M"))
        elif isinstance(value, date):  # text a person typed that is no date stays text
            out.append(value.isoformat())
        else:
            out.append(text(str(value)))
    return np.array(out, dtype=object), None


def write_layer(
    table: pd.DataFrame,
    geometry: Any,
    path: Path,
    *,
    driver: str,
    crs: Any,
    names: Mapping[str, str],
    layer: str | None = None,
    text: Callable[[str], str] = str,
) -> Path:
    """Write ``table`` (canonical columns) with ``geometry`` as one typed GIS layer.

    Parameters
    ----------
    table : pandas.DataFrame
        Values of :func:`gis_table` (or a subset of its rows).
    geometry : array-like of shapely geometries
        One geometry per row of ``table``.
    path : pathlib.Path
        The file to write.
    driver : str
        The GDAL driver (``GPKG``, ``GeoJSON``, ``KML``, ``ESRI Shapefile``).
    crs : Any
        The coordinate reference system of ``geometry``.
    names : mapping of str to str
        Canonical column -> field name, in field order; columns not in it are left out.
    layer : str, optional
        The layer's name.
    text : callable
        Applied to every text value (the medium's escaping).

    Returns
    -------
    Path
        ``path``.
    """
    shapefile = driver == "ESRI Shapefile"
    datetimes = driver in _DATETIME_DRIVERS
    geoms = np.asarray(geometry, dtype=object)
    kind, promote = _geometry_type(geoms)
    fields, data, masks = [], [], []
    offsets: dict[str, np.ndarray] = {}
    for canon, name in names.items():
        if canon not in table.columns:
            continue
        values, mask = _column(canon, table[canon], datetimes=datetimes, text=text)
        fields.append(name)
        data.append(values)
        masks.append(mask)
        if values.dtype == "datetime64[ms]":
            if driver == "GPKG":
                values -= _CST_HOURS
            data[-1] = values
            offsets[name] = np.full(len(values), _UTC if driver == "GPKG" else _CST_OFFSET,
                                    dtype="int32")
    write(str(path), shapely.to_wkb(geoms), data, fields, field_mask=masks, layer=layer,
          driver=driver, geometry_type=kind, promote_to_multi=promote or None,
          crs=crs.to_wkt() if hasattr(crs, "to_wkt") else crs,
          encoding=GIS_ENCODING if shapefile else None,
          gdal_tz_offsets=offsets or None)
    return path


def shp_text(value: str) -> str:
    """A text value for a GBK ``.dbf`` field (:func:`pipelines.escape.dbf_text`)."""
    return dbf_text(value, encoding=GIS_ENCODING)
