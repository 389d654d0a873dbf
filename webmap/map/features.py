"""Frames to GeoJSON for the map: lon/lat geometries, a style key and escaped cells.

Each feature carries ``k`` (style key, see :mod:`webmap.map.style`) and ``v``, its popup
cells: one HTML string per label of the layer's :class:`LayerData`. Every value that
comes from the data is passed through :func:`html.escape` before it is written into the
page, so a name holding ``<script>`` shows as text. The browser only puts the cells in a
table next to the labels (``lvdun.vectorLayer``), so the labels are written once per
layer rather than once per feature. This module holds what every layer shares and the
reserve, wetland, mine and county layers; the leads are in :mod:`webmap.map.lead_features`.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.mines import CLOSED_STATUSES
from layers.schema import LEVEL_LABELS, ZONE_LABELS, ZONE_RANK, Level, Zone
from pipelines.escape import html_text
from webmap.errors import MapInputError
from webmap.map.style import reserve_style_key

__all__ = [
    "MAP_CRS",
    "LayerData",
    "admin_features",
    "feature_collection",
    "frame_bounds",
    "geojson_text",
    "mine_features",
    "number",
    "parse_zone",
    "prepare_frame",
    "reserve_features",
    "split_mines",
    "text",
    "wetland_features",
]

log = logging.getLogger(__name__)

#: Every frame is drawn in CGCS2000 lon/lat; Leaflet treats it as WGS84 (< 1 m apart).
MAP_CRS = "EPSG:4490"
#: Coordinates are written with 6 decimals (about 0.1 m).
_DECIMALS = 6
_ZONE_BY_LABEL = {label: zone for zone, label in ZONE_LABELS.items()}
_LEVEL_BY_LABEL = {label: level for level, label in LEVEL_LABELS.items()}


def prepare_frame(frame: gpd.GeoDataFrame | None, layer: str) -> gpd.GeoDataFrame | None:
    """Return ``frame`` in :data:`MAP_CRS` without empty geometries, or None if nothing is left.

    Parameters
    ----------
    frame
        A layer frame, or None.
    layer
        Its name, for messages.

    Raises
    ------
    MapInputError
        If ``frame`` is not a GeoDataFrame or has no CRS (lvdun never guesses one here).
    """
    if frame is None:
        return None
    if not isinstance(frame, gpd.GeoDataFrame):
        raise MapInputError(
            f"{layer}: expected a GeoDataFrame, got {type(frame).__name__}; "
            "read the layer with geopandas or from the workspace"
        )
    if frame.empty:
        return None
    try:
        crs = frame.crs
    except AttributeError as exc:  # no active geometry column
        raise MapInputError(f"{layer}: the frame has no geometry column") from exc
    if crs is None:
        raise MapInputError(
            f"{layer}: the frame has no CRS; the map needs {MAP_CRS} longitude/latitude. "
            "If the coordinates are CGCS2000 lon/lat, use frame.set_crs(4490); otherwise "
            "set the CRS they are in and the map reprojects them."
        )
    if not crs.equals(MAP_CRS):
        log.info("%s: reprojecting from %s to %s for the map", layer, crs.to_string(), MAP_CRS)
        frame = frame.to_crs(MAP_CRS)
    geoms = frame.geometry.values
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not keep.all():
        log.warning("%s: %d rows without geometry are not drawn", layer, int((~keep).sum()))
        frame = frame[keep]
    return frame if not frame.empty else None


def text(value: Any) -> str | None:
    """Return a cell as display text, or None when it is missing (None, NaN, blank).

    Examples
    --------
    >>> text(float("nan")) is None, text("  "), text(["东湖", "西湖"]), text(3.0)
    (True, None, '东湖、西湖', '3')
    """
    if value is None:
        return None
    if isinstance(value, list | tuple | set | np.ndarray):
        items = [t for t in (text(v) for v in value) if t]
        return "、".join(items) or None
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        return f"{value:g}" if float(value).is_integer() else str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    out = str(value).strip()
    return out or None


def number(value: Any) -> float | None:
    """Return a cell as a finite float, or None (missing, not a number, NaN or infinite).

    Examples
    --------
    >>> number("12.5"), number(None), number("x"), number(float("inf"))
    (12.5, None, None, None)
    """
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) or math.isinf(out) else out


def parse_zone(value: Any) -> Zone | None:
    """Return the zone of a cell: a zone code or its Chinese label; None otherwise.

    Examples
    --------
    >>> parse_zone("core"), parse_zone("缓冲区"), parse_zone("x")
    (<Zone.CORE: 'core'>, <Zone.BUFFER: 'buffer'>, None)
    """
    raw = text(value)
    if raw is None:
        return None
    if raw in Zone._value2member_map_:
        return Zone(raw)
    return _ZONE_BY_LABEL.get(raw)


def _level(value: Any) -> Level | None:
    raw = text(value)
    if raw in Level._value2member_map_:
        return Level(raw)
    return _LEVEL_BY_LABEL.get(raw) if raw else None


@dataclass(frozen=True)
class LayerData:
    """One layer ready for ``lvdun.vectorLayer``.

    Parameters
    ----------
    geojson
        FeatureCollection text; each feature has properties ``k`` and ``v``.
    labels
        Popup row labels, one per cell of ``v``.
    tooltip
        Indices of the cells shown on hover: the first in bold, the rest after it.
    spec
        More layer options for the browser (the leads' filter values and shapes).
    """

    geojson: str
    labels: tuple[str, ...]
    tooltip: tuple[int, ...]
    spec: Mapping[str, Any] = field(default_factory=dict)


def _records(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    return frame.drop(columns=frame.geometry.name).to_dict("records")


def _geometry_json(frame: gpd.GeoDataFrame) -> np.ndarray:
    geoms = shapely.force_2d(frame.geometry.values)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, _DECIMALS))
    return shapely.to_geojson(geoms)


def feature_collection(
    frame: gpd.GeoDataFrame, properties: Callable[[dict[str, Any]], dict[str, Any]]
) -> str:
    """Return a GeoJSON FeatureCollection, as text, of a prepared frame.

    Parameters
    ----------
    frame
        A frame from :func:`prepare_frame`.
    properties
        Row attributes -> feature properties (``k``, ``v``).

    Returns
    -------
    str
        Compact JSON; non-ASCII kept as UTF-8.
    """
    return geojson_text(frame, [properties(row) for row in _records(frame)])


def geojson_text(frame: gpd.GeoDataFrame, props: Sequence[Mapping[str, Any]]) -> str:
    """Return the FeatureCollection text of ``frame``, with one properties dict per row.

    Parameters
    ----------
    frame
        A frame from :func:`prepare_frame`.
    props
        Feature properties, in the order of the rows of ``frame``.

    Returns
    -------
    str
        Compact JSON; non-ASCII kept as UTF-8.
    """
    texts = [json.dumps(p, ensure_ascii=False, separators=(",", ":")) for p in props]
    features = [
        f'{{"type":"Feature","geometry":{geom},"properties":{prop}}}'
        for geom, prop in zip(_geometry_json(frame), texts, strict=True)
    ]
    return f'{{"type":"FeatureCollection","features":[{",".join(features)}]}}'


def _cells(row: Mapping[str, Any], columns: Sequence[str]) -> list[str]:
    return [html_text(text(row.get(column)) or "") for column in columns]


def _reserve_zone(value: Any) -> Zone:
    zone = parse_zone(value)
    return Zone.UNZONED if zone is None or zone is Zone.OUTSIDE else zone


def reserve_features(frame: gpd.GeoDataFrame) -> LayerData:
    """Return reserve zones: key = zone|level; cells 保护区, 编号, 级别, 功能区.

    Stricter zones are written last, so Leaflet draws them over the zones around them.
    """
    zones = [_reserve_zone(v) for v in frame["zone"]] if "zone" in frame else []
    if zones:
        frame = frame.iloc[np.argsort([ZONE_RANK[z] for z in zones], kind="stable")]

    def props(row: dict[str, Any]) -> dict[str, Any]:
        zone = _reserve_zone(row.get("zone"))
        level = _level(row.get("level"))
        level_label = LEVEL_LABELS[level] if level else text(row.get("level"))
        cells = _cells(row, ("reserve_name", "reserve_code"))
        cells += [html_text(level_label or ""), ZONE_LABELS[zone]]
        return {"k": reserve_style_key(zone, level), "v": cells}

    return LayerData(
        feature_collection(frame, props), ("保护区", "编号", "级别", "功能区"), (0, 2, 3)
    )


def _simple_features(
    frame: gpd.GeoDataFrame, fields: Sequence[tuple[str, str]], tooltip: tuple[int, ...]
) -> LayerData:
    columns = [column for _, column in fields]

    def props(row: dict[str, Any]) -> dict[str, Any]:
        return {"v": _cells(row, columns)}

    labels = tuple(label for label, _ in fields)
    return LayerData(feature_collection(frame, props), labels, tooltip)


def wetland_features(frame: gpd.GeoDataFrame) -> LayerData:
    """Return wetlands; cells 湿地, 编号, 级别; tooltip name and level."""
    fields = (("湿地", "wetland_name"), ("编号", "wetland_id"), ("级别", "wetland_level"))
    return _simple_features(frame, fields, (0, 2))


def split_mines(
    frame: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """Return the closed mines (关闭, 历史遗留) and the others (有效, unknown), None if none.

    A national mines file holds every mine with its rights; only the closed ones must be
    restored, so the map shows them in a layer of their own.
    """
    if "mine_status" not in frame:
        return None, frame
    status = frame["mine_status"].map(text)
    closed = status.isin(CLOSED_STATUSES).to_numpy()
    parts = (frame[closed], frame[~closed])
    return tuple(part if not part.empty else None for part in parts)  # type: ignore[return-value]


def mine_features(frame: gpd.GeoDataFrame) -> LayerData:
    """Return mines; cells 矿山, 编号, 状态; tooltip name and status."""
    fields = (("矿山", "mine_name"), ("编号", "mine_id"), ("状态", "mine_status"))
    return _simple_features(frame, fields, (0, 2))


def admin_features(frame: gpd.GeoDataFrame) -> LayerData:
    """Return counties; cells 县, 行政区划代码; tooltip name."""
    fields = (("县", "admin_name"), ("行政区划代码", "adcode"))
    return _simple_features(frame, fields, (0,))


def frame_bounds(frames: Sequence[gpd.GeoDataFrame | None]) -> tuple[float, ...] | None:
    """Return (minx, miny, maxx, maxy) over the frames given, or None if all are empty."""
    boxes = [f.total_bounds for f in frames if f is not None and not f.empty]
    boxes = [b for b in boxes if np.isfinite(b).all()]
    if not boxes:
        return None
    stacked = np.vstack(boxes)
    return (
        float(stacked[:, 0].min()),
        float(stacked[:, 1].min()),
        float(stacked[:, 2].max()),
        float(stacked[:, 3].max()),
    )
