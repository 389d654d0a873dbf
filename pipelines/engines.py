"""Overlay engines for ``lvdun classify``: where the lead × reserve-zone matching runs.

Every engine answers the same question, "which zone polygons does each lead intersect"
(boundary contact counts as inside), as ``(i, j)`` index pairs into the ``leads`` and
``reserves`` frames, sorted by ``i`` then ``j`` exactly as :func:`geo.overlay.intersects_pairs`
returns them. :func:`pipelines.classify.classify_frames` then computes winners, overlaps,
shares and distances from those pairs with one Python code path, so the engines give
identical ``lead_class`` tables.

``geos``
    In process, :func:`geo.overlay.intersects_pairs`.
``postgis``
    In the database of a PostGIS workspace: the zone polygons are cut with ``ST_Subdivide``
    into a temporary table with a GiST index; leads whose bounding box meets a piece are
    the candidates, and ``ST_Intersects`` on the original zone polygon decides (pieces are
    clipped with rounded cut points, so testing the pieces alone could move a point that
    lies exactly on an edge to the other side).
``dask``
    dask-geopandas: the leads are ordered by Hilbert distance and cut into partitions; each
    partition is matched against all zone polygons (one broadcast task) on a local threaded
    scheduler or on a ``dask.distributed`` scheduler given by address.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from psycopg import sql

from geo import overlay
from pipelines.errors import WorkspaceError
from pipelines.store.base import Workspace

__all__ = [
    "DASK_SCHEDULER_ENV",
    "ENGINES",
    "dask_pairs",
    "postgis_pairs",
    "reserve_pairs",
]

log = logging.getLogger(__name__)

#: The engines :func:`reserve_pairs` knows, the default first.
ENGINES = ("geos", "postgis", "dask")

#: Environment variable naming a ``dask.distributed`` scheduler address for ``--engine dask``.
DASK_SCHEDULER_ENV = "LVDUN_DASK_SCHEDULER"

#: Most vertices per piece of a subdivided zone polygon (``ST_Subdivide``).
SUBDIVIDE_VERTICES = 256

#: Leads per dask partition.
DASK_PARTITION_ROWS = 50_000

Pairs = tuple[np.ndarray, np.ndarray]


def reserve_pairs(
    engine: str,
    ws: Workspace,
    leads: gpd.GeoDataFrame,
    reserves: gpd.GeoDataFrame,
    *,
    scheduler: str | None = None,
) -> Pairs:
    """Return the ``(lead, zone polygon)`` index pairs computed by ``engine``.

    Parameters
    ----------
    engine : str
        One of :data:`ENGINES`.
    ws : Workspace
        The workspace the frames were read from (the ``postgis`` engine queries it).
    leads, reserves : geopandas.GeoDataFrame
        The frames as :meth:`Workspace.read_features` returns them (with ``fid``), EPSG:4490.
    scheduler : str, optional
        ``dask.distributed`` scheduler address for the ``dask`` engine; default the
        ``LVDUN_DASK_SCHEDULER`` environment variable, else a local threaded scheduler.

    Returns
    -------
    tuple of numpy.ndarray
        ``(i, j)`` int64 positions into ``leads`` and ``reserves``, sorted by ``i``, ``j``.

    Raises
    ------
    WorkspaceError
        For an unknown engine, or ``postgis`` on a workspace that is not on PostGIS.
    """
    if engine == "geos":
        return overlay.intersects_pairs(np.asarray(leads.geometry.values, dtype=object),
                                        np.asarray(reserves.geometry.values, dtype=object))
    if engine == "postgis":
        return postgis_pairs(ws, leads, reserves)
    if engine == "dask":
        return dask_pairs(leads, reserves, scheduler=scheduler)
    raise WorkspaceError(f"unknown engine {engine!r}; available: {', '.join(ENGINES)}")


def require_postgis(ws: Workspace) -> None:
    """Raise :class:`WorkspaceError` unless ``ws`` is a PostGIS workspace.

    Parameters
    ----------
    ws : Workspace
        The workspace to check.
    """
    from pipelines.store.postgis import PostGISWorkspace

    if not isinstance(ws, PostGISWorkspace):
        raise WorkspaceError(
            f"--engine postgis needs a PostGIS workspace (postgresql://…); "
            f"{ws.location} is a {type(ws).__name__}: use --engine geos or --engine dask"
        )


def postgis_pairs(ws: Workspace, leads: gpd.GeoDataFrame, reserves: gpd.GeoDataFrame) -> Pairs:
    """Match leads to zone polygons in SQL on a PostGIS workspace.

    The zone polygons are subdivided (``ST_Subdivide``) into a temporary table with a GiST
    index; the exact test is ``ST_Intersects`` against the stored zone polygon, so the
    answer equals GEOS ``intersects`` on the same coordinates.

    Parameters
    ----------
    ws : Workspace
        A :class:`~pipelines.store.postgis.PostGISWorkspace`.
    leads, reserves : geopandas.GeoDataFrame
        The ``leads`` and ``reserves`` layers as read from ``ws`` (their ``fid`` columns
        map the database rows back to frame positions).

    Returns
    -------
    tuple of numpy.ndarray
        ``(i, j)`` int64 positions, sorted by ``i`` then ``j``.

    Raises
    ------
    WorkspaceError
        When ``ws`` is not on PostGIS.
    """
    require_postgis(ws)
    conn = ws.conn
    parts = sql.Identifier(f"lvdun_zone_parts_{secrets.token_hex(6)}")
    leads_t = ws._qualified("leads")  # type: ignore[attr-defined]
    zones_t = ws._qualified("reserves")  # type: ignore[attr-defined]
    try:
        conn.execute(sql.SQL(
            "CREATE TEMP TABLE {parts} AS SELECT fid AS zone_fid, "
            "ST_Subdivide(geom, {n}) AS geom FROM {zones} "
            "WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom)"
        ).format(parts=parts, n=sql.Literal(SUBDIVIDE_VERTICES), zones=zones_t))
        conn.execute(sql.SQL("CREATE INDEX ON {} USING GIST (geom)").format(parts))
        conn.execute(sql.SQL("ANALYZE {}").format(parts))
        rows = conn.execute(sql.SQL(
            "SELECT DISTINCT l.fid, z.fid FROM {leads} l "
            "JOIN {parts} p ON l.geom && p.geom "
            "JOIN {zones} z ON z.fid = p.zone_fid "
            "WHERE NOT ST_IsEmpty(l.geom) AND ST_Intersects(z.geom, l.geom)"
        ).format(leads=leads_t, parts=parts, zones=zones_t)).fetchall()
    finally:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(parts))
    log.debug("postgis engine: %d lead/zone pairs", len(rows))
    return _positions(rows, leads, reserves)


def _positions(rows: list[tuple[Any, Any]], leads: gpd.GeoDataFrame,
               reserves: gpd.GeoDataFrame) -> Pairs:
    """Map ``(lead fid, zone fid)`` rows to sorted frame positions."""
    lead_fid = np.array([r[0] for r in rows], dtype="int64")
    zone_fid = np.array([r[1] for r in rows], dtype="int64")
    left = pd.Index(leads["fid"].astype("int64")).get_indexer(lead_fid).astype("int64")
    right = pd.Index(reserves["fid"].astype("int64")).get_indexer(zone_fid).astype("int64")
    keep = (left >= 0) & (right >= 0)  # rows written after the frames were read
    left, right = left[keep], right[keep]
    order = np.lexsort((right, left))
    return left[order], right[order]


def _partition_pairs(part: pd.DataFrame, zones: np.ndarray) -> pd.DataFrame:
    """Intersect one partition of leads with every zone polygon (runs on a dask worker)."""
    i, j = overlay.intersects_pairs(np.asarray(part.geometry.values, dtype=object), zones)
    positions = part["_pos"].to_numpy(dtype="int64")
    return pd.DataFrame({"lead": positions[i], "zone": j.astype("int64")})


def dask_pairs(
    leads: gpd.GeoDataFrame,
    reserves: gpd.GeoDataFrame,
    *,
    scheduler: str | None = None,
    partition_rows: int = DASK_PARTITION_ROWS,
) -> Pairs:
    """Match leads to zone polygons with dask-geopandas.

    Parameters
    ----------
    leads, reserves : geopandas.GeoDataFrame
        The frames, EPSG:4490.
    scheduler : str, optional
        Address of a ``dask.distributed`` scheduler (``tcp://host:8786``); default the
        ``LVDUN_DASK_SCHEDULER`` environment variable, else the local threaded scheduler.
    partition_rows : int
        Leads per partition.

    Returns
    -------
    tuple of numpy.ndarray
        ``(i, j)`` int64 positions, sorted by ``i`` then ``j``.

    Raises
    ------
    WorkspaceError
        When dask-geopandas or distributed is not installed.
    """
    try:
        import dask
        import dask_geopandas
    except ImportError as exc:
        raise WorkspaceError(
            f"--engine dask needs dask-geopandas and distributed ({exc.name} is missing): "
            "pip install dask-geopandas distributed"
        ) from exc

    address = scheduler or os.environ.get(DASK_SCHEDULER_ENV) or None
    geoms = np.asarray(leads.geometry.values, dtype=object)
    frame = gpd.GeoDataFrame({"_pos": np.arange(len(geoms), dtype="int64")},
                             geometry=gpd.GeoSeries(geoms, crs=leads.crs))
    # spatial partitioning: neighbouring leads go to the same partition
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if usable.any() and len(geoms) > partition_rows:
        key = np.zeros(len(geoms), dtype="int64")
        key[usable] = frame.geometry[usable].hilbert_distance(
            total_bounds=frame.geometry[usable].total_bounds).to_numpy()
        frame = frame.iloc[np.argsort(key, kind="stable")]
    npartitions = max(1, math.ceil(len(frame) / partition_rows))
    ddf = dask_geopandas.from_geopandas(frame, npartitions=npartitions, sort=False)
    zones = dask.delayed(np.asarray(reserves.geometry.values, dtype=object), pure=False)
    meta = pd.DataFrame({"lead": pd.Series(dtype="int64"), "zone": pd.Series(dtype="int64")})
    pairs = ddf.map_partitions(_partition_pairs, zones, meta=meta)
    if address:
        from distributed import Client

        with Client(address, set_as_default=False) as client:
            log.debug("dask engine: %d partitions on %s", npartitions, address)
            result = client.compute(pairs).result()
    else:
        result = pairs.compute(scheduler="threads")
    left = result["lead"].to_numpy(dtype="int64")
    right = result["zone"].to_numpy(dtype="int64")
    order = np.lexsort((right, left))
    return left[order], right[order]
