"""Overlay engines for ``lvdun classify``: where the lead × reserve-zone matching runs.

Every engine answers the same question, "which zone polygons does each lead intersect"
(boundary contact counts as inside), as ``(i, j)`` index pairs into the ``leads`` and
``reserves`` frames, sorted by ``i`` then ``j`` exactly as :func:`geo.overlay.intersects_pairs`
returns them. :func:`pipelines.classify.job.classify_frames` then computes winners, overlaps,
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
    The leads are cut into ranges of feature ids; a dask task per range reads its leads
    straight from the store and classifies them in full (zones, shares, distances,
    wetlands, mines, counties), so a batch larger than one machine's memory is classified
    a partition at a time, on a local threaded scheduler or on a ``dask.distributed``
    scheduler given by address. Each worker reads the reference layers and builds the
    outlines' segment index once per run, not once per partition. Classification is per
    lead, so the rows are the ones the other engines give.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import overlay
from pipelines.classify.frames import LEAD_COLUMNS, classify_frames, outline_index
from pipelines.errors import EngineError, WorkspaceError
from pipelines.store.base import Workspace

__all__ = [
    "ENGINES",
    "check_engine",
    "classify_partition",
    "dask_classify",
    "fid_ranges",
    "postgis_pairs",
    "reserve_pairs",
]

log = logging.getLogger(__name__)

#: The engines :func:`reserve_pairs` knows, the default first.
ENGINES = ("geos", "postgis", "dask")

#: Environment variable naming a ``dask.distributed`` scheduler address for ``--engine dask``.

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
) -> Pairs:
    """Return the ``(lead, zone polygon)`` index pairs computed by ``engine``.

    Parameters
    ----------
    engine : str
        ``geos`` or ``postgis`` (``dask`` classifies whole partitions instead: see
        :func:`dask_classify`).
    ws : Workspace
        The workspace the frames were read from (the ``postgis`` engine queries it).
    leads, reserves : geopandas.GeoDataFrame
        The frames as :meth:`Workspace.read_features` returns them (with ``fid``), EPSG:4490.

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
    raise WorkspaceError(f"no pairs from engine {engine!r}; pairs come from geos or postgis")


def check_engine(engine: str, ws: Workspace) -> None:
    """Raise :class:`EngineError` unless ``engine`` is one of :data:`ENGINES` that ``ws`` runs.

    The one check of an engine's name, for the command line and the job alike.

    Parameters
    ----------
    engine : str
        The engine's name.
    ws : Workspace
        The workspace to classify.
    """
    if engine not in ENGINES:
        raise EngineError(f"unknown engine {engine!r}; available: {', '.join(ENGINES)}")
    if engine == "postgis":
        require_postgis(ws)


def require_postgis(ws: Workspace) -> None:
    """Raise :class:`WorkspaceError` unless ``ws`` is a PostGIS workspace.

    Parameters
    ----------
    ws : Workspace
        The workspace to check.
    """
    if ws.kind != "postgis":
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
    rows = ws.lead_zone_fids(SUBDIVIDE_VERTICES)
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


#: Reference layers read by a worker process, per (workspace, classify run): partitions of
#: one run share them; a new run reads them again.
_REFERENCE: dict[tuple[str, str], dict[str, Any]] = {}
_REFERENCE_LOCK = threading.Lock()


def _reference(ws: Workspace, run_id: str) -> dict[str, Any]:
    """The reserves, wetlands, mines and admin layers of a workspace, and the segment index
    of the reserves' outlines (built once per run and worker, not per partition)."""
    key = (str(ws.location), run_id)
    with _REFERENCE_LOCK:
        if key not in _REFERENCE:
            frames: dict[str, Any] = {name: ws.read_features(name)
                                      for name in ("reserves", "wetlands", "mines", "admin")}
            frames["outlines"] = outline_index(frames["reserves"])
            for old in [k for k in _REFERENCE if k[0] == key[0]]:
                del _REFERENCE[old]
            _REFERENCE[key] = frames
        return _REFERENCE[key]


def classify_partition(
    location: str, run_id: str, fid_lo: int, fid_hi: int, near_m: float, mine_margin_m: float,
) -> pd.DataFrame:
    """Classify the leads with ``fid_lo <= fid < fid_hi``, read from the workspace.

    Runs in a dask task: it opens the workspace at ``location`` itself (a GeoPackage path
    the worker can see, or a PostGIS URL), so no lead geometry passes through the client.

    Parameters
    ----------
    location : str
        Where the workspace is: a GeoPackage path the worker can see, or a PostGIS URL.
    run_id : str
        The classify run; the reference layers (reserves, wetlands, mines, admin) are read
        once per run in each worker.
    fid_lo, fid_hi : int
        The partition's ``fid`` range, ``fid_hi`` excluded.
    near_m, mine_margin_m : float
        As for :func:`pipelines.classify.job.classify`.

    Returns
    -------
    pandas.DataFrame
        :func:`pipelines.classify.job.classify_frames` rows of those leads, in ``fid`` order.
    """
    from pipelines.store import open_workspace

    with open_workspace(location, create=False) as ws:
        ref = _reference(ws, run_id)
        leads = ws.read_features_fid_range("leads", fid_lo, fid_hi, columns=LEAD_COLUMNS)
    return classify_frames(leads, ref["reserves"], wetlands=ref["wetlands"],
                           mines=ref["mines"], admin=ref["admin"], near_m=near_m,
                           mine_margin_m=mine_margin_m, outlines=ref["outlines"])


def fid_ranges(ws: Workspace, rows: int) -> list[tuple[int, int]]:
    """Cut the leads into ``[lo, hi)`` fid ranges of at most ``rows`` leads."""
    fids = ws.lead_fids()
    if not len(fids):
        return []
    starts = fids[::max(1, int(rows))]
    ends = np.append(starts[1:], fids[-1] + 1)
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def dask_classify(
    ws: Workspace,
    run_id: str,
    *,
    near_m: float,
    mine_margin_m: float,
    scheduler: str | None = None,
    partition_rows: int = DASK_PARTITION_ROWS,
) -> pd.DataFrame:
    """Classify the workspace's leads in dask tasks, a partition of leads per task.

    Each task reads its range of leads straight from the store and classifies it (see
    :func:`classify_partition`); the client only collects the classification rows, so the
    leads' geometries never need to fit in one process's memory.

    Parameters
    ----------
    ws : Workspace
        The workspace; tasks open it again at ``ws.location``.
    run_id : str
        The classify run (reference layers are read once per worker and run).
    near_m, mine_margin_m : float
        As :func:`pipelines.classify.job.classify`.
    scheduler : str, optional
        Address of a ``dask.distributed`` scheduler (``tcp://host:8786``); None: the local
        threaded scheduler. The command line passes ``LVDUN_DASK_SCHEDULER`` here.
        Its workers must reach the workspace (a shared path or the PostGIS server).
    partition_rows : int
        Leads per partition.

    Returns
    -------
    pandas.DataFrame
        One row per lead, in ``fid`` order, as :func:`pipelines.classify.job.classify_frames`.

    Raises
    ------
    WorkspaceError
        When dask or distributed is not installed, or the workspace has no leads.
    """
    try:
        import dask
    except ImportError as exc:
        raise WorkspaceError(
            f"--engine dask needs dask and distributed ({exc.name} is missing): "
            "pip install dask distributed"
        ) from exc

    address = scheduler or None
    ranges = fid_ranges(ws, partition_rows)
    if not ranges:
        raise WorkspaceError("no leads in the workspace: run `lvdun ingest leads FILE` first")
    task = dask.delayed(classify_partition, pure=True)
    parts = [task(str(ws.location), run_id, lo, hi, near_m, mine_margin_m)
             for lo, hi in ranges]
    log.info("dask engine: %d partitions of up to %d leads on %s", len(parts), partition_rows,
             address or "local threads")
    if address:
        from distributed import Client

        with Client(address, set_as_default=False) as client:
            frames = client.gather(client.compute(parts))
    else:
        frames = list(dask.compute(*parts, scheduler="threads"))
    return pd.concat(frames, ignore_index=True)
