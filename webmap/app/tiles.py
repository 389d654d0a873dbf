"""Mapbox vector tiles (MVT) of the leads, for clients that draw many leads (QGIS, MapLibre).

Tiles are the usual web-Mercator XYZ grid (``/tiles/{z}/{x}/{y}.mvt``, y from the north),
4096 units a side with a 64-unit buffer, one layer ``leads``. A PostGIS workspace makes
them in the database (``ST_AsMVT``); a GeoPackage one in process with
:mod:`mapbox_vector_tile`, from the store's lead index (``lead_keys``,
:func:`pipelines.store.cells.key_rows`: a point lead is its centre there, other leads'
geometries are read by id). Both hold the
leads the caller may read as the API does: an editor's tiles every lead lying in one of
their reserves (``lead_reserves``), not only those the reserve won.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Collection

import mapbox_vector_tile
import numpy as np
import pandas as pd
import shapely

from pipelines.rights import readable_areas, readable_reserves
from pipelines.store.base import Workspace
from pipelines.store.cells import key_rows
from pipelines.users import User
from webmap.app.catalog import NO_RESERVE, LeadCatalog, LeadQuery, key_query, user_rights
from webmap.errors import RequestError

__all__ = [
    "EXTENT",
    "LAYER",
    "MAX_ZOOM",
    "TILE_FIELDS",
    "encode_tile",
    "tile_bounds",
    "tile_lonlat_bounds",
]

log = logging.getLogger(__name__)

LAYER = "leads"
EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22
#: Half the side of the web-Mercator square, in metres.
_HALF = 20037508.342789244
#: Bytes of GeoPackage tiles kept for the next request of the same tile.
TILE_CACHE_BYTES = 64 * 2**20
#: Attributes of each lead in a tile.
TILE_FIELDS = ("lead_id", "status", "batch", "activity_type", "reserve_code", "zone", "version")


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Return the web-Mercator (EPSG:3857) bounds of tile ``z/x/y``.

    Parameters
    ----------
    z, x, y : int
        Zoom, column and row of the tile (XYZ scheme, row 0 at the top).

    Raises
    ------
    RequestError
        For a zoom outside 0..22 or a column / row outside the grid.

    Examples
    --------
    >>> [round(v) for v in tile_bounds(1, 1, 0)]
    [0, 0, 20037508, 20037508]
    """
    if not 0 <= z <= MAX_ZOOM:
        raise RequestError(f"tile zoom {z} is outside 0..{MAX_ZOOM}")
    n = 2**z
    if not (0 <= x < n and 0 <= y < n):
        raise RequestError(f"tile {z}/{x}/{y} is outside the grid (0..{n - 1} at zoom {z})")
    size = 2 * _HALF / n
    minx = -_HALF + x * size
    maxy = _HALF - y * size
    return minx, maxy - size, minx + size, maxy


def _to_lonlat(mx: float, my: float) -> tuple[float, float]:
    lon = mx / _HALF * 180.0
    lat = math.degrees(2 * math.atan(math.exp(my / 6378137.0)) - math.pi / 2)
    return lon, lat


def tile_lonlat_bounds(z: int, x: int, y: int, *, buffer: float = 0.0) -> tuple[float, ...]:
    """Return the lon/lat bounds of a tile, grown by ``buffer`` (a fraction of its side).

    Parameters
    ----------
    z, x, y : int
        Zoom, column and row of the tile.
    buffer : float
        Margin added on each side, as a fraction of the tile's side.
    """
    minx, miny, maxx, maxy = tile_bounds(z, x, y)
    pad = (maxx - minx) * buffer
    west, south = _to_lonlat(minx - pad, max(miny - pad, -_HALF))
    east, north = _to_lonlat(maxx + pad, min(maxy + pad, _HALF))
    return west, south, east, north


def _mercator(xy: np.ndarray) -> np.ndarray:
    lon = xy[:, 0]
    lat = np.clip(xy[:, 1], -85.05112878, 85.05112878)
    x = lon * _HALF / 180.0
    y = np.log(np.tan((90.0 + lat) * math.pi / 360.0)) * 6378137.0
    return np.column_stack([x, y])


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def encode_tile(
    ws: Workspace, catalog: LeadCatalog, user: User, z: int, x: int, y: int,
    query: LeadQuery | None = None,
) -> bytes:
    """Return the MVT of tile ``z/x/y``: the leads ``user`` may read that match ``query``.

    Parameters
    ----------
    ws : Workspace
        The workspace; PostGIS workspaces encode in the database.
    catalog : LeadCatalog
        The web app's lead catalog (GeoPackage workspaces).
    user : User
        Whose rights restrict the leads.
    z, x, y : int
        The tile.
    query : LeadQuery, optional
        More filters (status, reserve, batch); its bbox is replaced by the tile's.
    """
    bounds = tile_bounds(z, x, y)
    query = query or LeadQuery()
    if ws.kind == "postgis":
        return _postgis_tile(ws, user, z, x, y, query)
    west, south, east, north = tile_lonlat_bounds(z, x, y, buffer=BUFFER / EXTENT)
    tile_query = LeadQuery(bbox=(west, south, east, north), status=query.status,
                           reserve=query.reserve, batch=query.batch, lead_id=query.lead_id)
    rights = user_rights(user)
    key = (ws.location, catalog.fresh(ws), ws.last_history_id() or 0, rights, tile_query)
    hit = _TILES.get(key)
    if hit is None:
        hit = _encode(ws, tile_query, rights, bounds)
        _TILES.put(key, hit)
    return hit


class _TileCache:
    """The tiles made lately, up to a number of bytes; a key holds the workspace's marks
    (leads and last status change), so that any change makes new keys."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[object, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: object) -> bytes | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: object, body: bytes) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = body
            self._bytes += len(body)
            while self._bytes > self.limit and self._items:
                _, old = self._items.popitem(last=False)
                self._bytes -= len(old)


_TILES = _TileCache(TILE_CACHE_BYTES)


def _encode(ws: Workspace, tile_query: LeadQuery, rights: tuple[object, object],
            bounds: tuple[float, float, float, float]) -> bytes:
    """The MVT of a GeoPackage workspace's leads in the tile (``tile_query``'s bbox)."""
    reserves, counties = rights  # type: ignore[misc]
    page = key_rows(ws, key_query(tile_query), reserves=reserves, county_prefixes=counties)
    if page.empty:
        return b""
    geoms = shapely.transform(_geometries(ws, page), _mercator)
    pad = (bounds[2] - bounds[0]) * BUFFER / EXTENT
    geoms = shapely.clip_by_rect(geoms, bounds[0] - pad, bounds[1] - pad,
                                 bounds[2] + pad, bounds[3] + pad)
    features = []
    records = page[[c for c in TILE_FIELDS if c in page]].to_dict("records")
    for geom, record in zip(geoms, records, strict=True):
        if geom is None or geom.is_empty:
            continue
        props = {k: v for k, v in ((k, _plain(v)) for k, v in record.items()) if v is not None}
        if "version" in props:
            props["version"] = int(props["version"])
        features.append({"geometry": geom, "properties": props})
    if not features:
        return b""
    return mapbox_vector_tile.encode(
        [{"name": LAYER, "features": features}],
        default_options={"quantize_bounds": bounds, "extents": EXTENT},
    )


def _geometries(ws: Workspace, page: pd.DataFrame) -> np.ndarray:
    """The leads' geometries: a Point from its keys, the others read from the layer."""
    geoms = shapely.points(page["x"].astype(float).to_numpy(),
                           page["y"].astype(float).to_numpy())
    other = np.flatnonzero(page["point"].astype(int).to_numpy() != 1)
    if len(other):
        ids = page["lead_id"].to_numpy()[other].tolist()
        found: dict[str, object] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            frame = ws.read_features("leads", where=f'"lead_id" IN ({", ".join("?" * len(chunk))})',
                                     params=chunk, columns=["lead_id"])
            found.update(zip(frame["lead_id"].astype(str), frame.geometry.values, strict=True))
        geoms = np.asarray(geoms, dtype=object)
        geoms[other] = [found.get(str(i)) for i in ids]
    return np.asarray(geoms, dtype=object)


def _reserve_sql(ws: Workspace, codes: Collection[str], params: list[object]) -> str:
    """SQL condition: the lead lies in one of ``codes`` (NO_RESERVE: in none), whether or
    not that reserve won it (``lead_reserves``), as :func:`pipelines.rights.can_read`."""
    parts = []
    named = [c for c in codes if c != NO_RESERVE]
    if named:
        marks = ", ".join(["?"] * len(named))
        parts.append(f'c."reserve_code" IN ({marks})')
        params.extend(named)
        if ws._has_table("lead_reserves"):
            parts.append(f'EXISTS (SELECT 1 FROM "lead_reserves" m WHERE '
                         f'm."lead_id" = l."lead_id" AND m."reserve_code" IN ({marks}))')
            params.extend(named)
    if NO_RESERVE in codes:
        parts.append('c."reserve_code" IS NULL')
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


def _postgis_tile(
    ws: Workspace, user: User, z: int, x: int, y: int, query: LeadQuery
) -> bytes:
    """Encode the tile with ``ST_AsMVT`` (PostGIS 3.0+)."""
    params: list[object] = [z, x, y, EXTENT, BUFFER]
    where = ['l."geom" && ST_Transform(ST_TileEnvelope(?, ?, ?), 4490)']
    params += [z, x, y]
    allowed = readable_reserves(user)
    areas = readable_areas(user)
    if areas is not None:  # a reviewer: the leads whose county lies in their area
        prefixes = sorted(a for a in areas if a.isdigit())
        where.append("(" + (" OR ".join(['c."county_adcode" LIKE ?'] * len(prefixes))
                            or "FALSE") + ")")
        params.extend(f"{p}%" for p in prefixes)
    elif allowed is not None:
        where.append(_reserve_sql(ws, allowed, params))
    if query.reserve:
        where.append(_reserve_sql(ws, query.reserve, params))
    for column, values in (("status", query.status), ("batch", query.batch),
                           ("lead_id", query.lead_id)):
        if values:
            table = "s" if column == "status" else "l"
            where.append(f'{table}."{column}" IN ({", ".join(["?"] * len(values))})')
            params.extend(values)
    sql = f"""
        WITH t AS (
          SELECT ST_AsMVTGeom(ST_Transform(l."geom", 3857), ST_TileEnvelope(?, ?, ?), ?, ?, true)
                   AS geom,
                 l."lead_id", COALESCE(s."status", 'pending') AS status, l."batch",
                 l."activity_type", c."reserve_code", c."zone", s."version"
          FROM "leads" l
          LEFT JOIN "lead_class" c ON c."lead_id" = l."lead_id"
          LEFT JOIN "lead_status" s ON s."lead_id" = l."lead_id"
          WHERE {" AND ".join(where)}
        )
        SELECT ST_AsMVT(t, '{LAYER}', {EXTENT}, 'geom') FROM t WHERE t.geom IS NOT NULL
    """
    row = ws.execute(sql, params).fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""
