"""Leads counted per grid cell and status, for maps zoomed out over many leads.

A zoomed-out map cannot draw 10^6 leads; it draws the counts of the leads in each cell of
a lon/lat grid, by status. The counts come from one GROUP BY over ``lead_keys``, a compact
table of each lead's centre, activity and batch (a few dozen bytes a lead, indexed on the
centre), joined to ``lead_class`` and ``lead_status`` by their keys: no geometry is read on
the request path.

``lead_keys`` is derived data. :func:`refresh_lead_keys` rebuilds it when the workspace's
lead signature (:meth:`~pipelines.store.queries.JobQueries.leads_signature`: runs and the
largest lead ``fid``) differs from the one recorded beside it in ``meta``; status changes
need no rebuild, since the status is joined at query time.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    from pipelines.store.base import Workspace

__all__ = ["KEYS_TABLE", "CellQuery", "cell_counts", "cell_size", "refresh_lead_keys"]

log = logging.getLogger(__name__)

#: The table of lead centres.
KEYS_TABLE = "lead_keys"
_SIGNATURE = "lead_keys_signature"
_WRITE_ROWS = 50_000
#: Statuses whose deadline can be overdue (a rectification not done).
OVERDUE_STATUSES = ("problem", "rectifying")


def cell_size(zoom: int) -> float:
    """Return the side in degrees of the grid cells at web-map ``zoom``: a quarter tile.

    Examples
    --------
    >>> cell_size(0), cell_size(4)
    (90.0, 5.625)
    """
    return 360.0 / 2 ** max(0, int(zoom)) / 4


@dataclass(frozen=True)
class CellQuery:
    """Filters of a cell count; empty tuples mean "any".

    Parameters
    ----------
    bbox
        ``(minx, miny, maxx, maxy)`` in degrees: leads whose centre lies inside.
    status, activity, batch, zone
        Allowed values of those columns.
    reserve
        Reserve codes; None in it stands for the leads outside every reserve.
    overdue_on
        An ISO date: only leads still to rectify whose deadline is before it.
    """

    bbox: tuple[float, float, float, float] | None = None
    status: tuple[str, ...] = ()
    activity: tuple[str, ...] = ()
    batch: tuple[str, ...] = ()
    reserve: tuple[str | None, ...] = ()
    zone: tuple[str, ...] = ()
    overdue_on: str | None = None


def _signature_text(ws: Workspace) -> str:
    return repr(ws.leads_signature())


def _centres(ws: Workspace) -> pd.DataFrame:
    """Each lead's centre, activity and batch, read ``_WRITE_ROWS`` fids at a time."""
    fids = ws.lead_fids()
    parts = [_centres_of(ws.read_features_fid_range(
        "leads", int(lo), int(lo) + _WRITE_ROWS, columns=["lead_id", "activity_type", "batch"]))
        for lo in range(int(fids.min()), int(fids.max()) + 1, _WRITE_ROWS)] if len(fids) else []
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["lead_id", "x", "y", "activity_type", "batch"])


def _centres_of(leads: pd.DataFrame) -> pd.DataFrame:
    geoms = np.asarray(leads.geometry.values, dtype=object)
    bounds = shapely.bounds(geoms)
    return pd.DataFrame({
        "lead_id": leads["lead_id"].astype(str).to_numpy(),
        "x": (bounds[:, 0] + bounds[:, 2]) / 2,
        "y": (bounds[:, 1] + bounds[:, 3]) / 2,
        "activity_type": leads["activity_type"].to_numpy() if "activity_type" in leads
        else None,
        "batch": leads["batch"].to_numpy() if "batch" in leads else None,
    })


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def refresh_lead_keys(ws: Workspace, *, force: bool = False) -> bool:
    """Rebuild ``lead_keys`` if the leads changed since it was built; return True if rebuilt.

    Parameters
    ----------
    ws : Workspace
        The workspace (an open one; the rebuild is one transaction).
    force : bool
        Rebuild whatever the recorded signature says.
    """
    signature = _signature_text(ws)
    if not force and ws.meta_value(_SIGNATURE) == signature and ws._has_table(KEYS_TABLE):
        return False
    frame = _centres(ws) if ws.has_layer("leads") else pd.DataFrame(
        columns=["lead_id", "x", "y", "activity_type", "batch"])
    frame = frame[np.isfinite(frame["x"].astype(float)) & np.isfinite(frame["y"].astype(float))]
    with ws.transaction():
        ws.execute(f'DROP TABLE IF EXISTS "{KEYS_TABLE}"')
        ws.execute(f'CREATE TABLE "{KEYS_TABLE}" ("lead_id" TEXT PRIMARY KEY, "x" REAL, '
                   '"y" REAL, "activity_type" TEXT, "batch" TEXT)')
        insert = (f'INSERT INTO "{KEYS_TABLE}" ("lead_id", "x", "y", "activity_type", "batch") '
                  "VALUES (?, ?, ?, ?, ?)")
        rows = [tuple(_plain(v) for v in row) for row in
                frame[["lead_id", "x", "y", "activity_type", "batch"]].itertuples(
                    index=False, name=None)]
        for start in range(0, len(rows), _WRITE_ROWS):
            ws._executemany(insert, rows[start:start + _WRITE_ROWS])
        ws.execute(f'CREATE INDEX "{KEYS_TABLE}_xy" ON "{KEYS_TABLE}" ("x", "y")')
        ws.set_meta_value(_SIGNATURE, signature)
    log.info("lead_keys rebuilt: %d leads", len(rows))
    return True


def _in(column: str, values: Sequence[Any], params: list[Any]) -> str:
    named = [v for v in values if v is not None]
    parts = []
    if named:
        parts.append(f'{column} IN ({", ".join("?" * len(named))})')
        params.extend(named)
    if len(named) < len(values):
        parts.append(f"{column} IS NULL")
    return "(" + " OR ".join(parts) + ")" if parts else "1 = 0"


def _rights_sql(
    ws: Workspace, reserves: Collection[str | None] | None,
    county_prefixes: Collection[str] | None, params: list[Any],
) -> list[str]:
    """Conditions of the caller's rights: their reserves (every membership), or counties."""
    where = []
    if county_prefixes is not None:
        prefixes = sorted(county_prefixes)
        where.append("(" + (" OR ".join(['c."county_adcode" LIKE ?'] * len(prefixes))
                            or "1 = 0") + ")")
        params.extend(f"{p}%" for p in prefixes)
    elif reserves is not None:
        codes = list(reserves)
        own = _in('c."reserve_code"', codes, params)
        named = [c for c in codes if c is not None]
        if named and ws._has_table("lead_reserves"):
            marks = ", ".join("?" * len(named))
            own = (f'({own} OR EXISTS (SELECT 1 FROM "lead_reserves" m WHERE '
                   f'm."lead_id" = k."lead_id" AND m."reserve_code" IN ({marks})))')
            params.extend(named)
        where.append(own)
    return where


def cell_counts(
    ws: Workspace, zoom: int, query: CellQuery | None = None, *,
    reserves: Collection[str | None] | None = None,
    county_prefixes: Collection[str] | None = None,
) -> pd.DataFrame:
    """Count the leads per grid cell (:func:`cell_size` of ``zoom``) and status.

    Parameters
    ----------
    ws : Workspace
        The workspace; ``lead_keys`` is brought up to date first.
    zoom : int
        Web-map zoom whose cell size to use.
    query : CellQuery, optional
        Filters.
    reserves : collection of str or None, optional
        The caller's readable reserves (None in it: leads outside every reserve); None for
        every lead. A lead listed in ``lead_reserves`` under one of them counts too.
    county_prefixes : collection of str, optional
        A reviewer's area: leads whose county code starts with one of these (overrides
        ``reserves``).

    Returns
    -------
    pandas.DataFrame
        Columns ``ix``, ``iy`` (cell column and row from 180°W, 90°S), ``status``, ``n``
        and ``x``, ``y`` (the mean centre of those leads).
    """
    refresh_lead_keys(ws)
    query = query or CellQuery()
    size = cell_size(zoom)
    params: list[Any] = [size, size]
    where: list[str] = []
    if query.bbox is not None:
        where.append('k."x" BETWEEN ? AND ? AND k."y" BETWEEN ? AND ?')
        minx, miny, maxx, maxy = (float(v) for v in query.bbox)
        params += [minx, maxx, miny, maxy]
    if query.status:
        where.append(_in("COALESCE(s.\"status\", 'pending')", query.status, params))
    if query.activity:
        where.append(_in('k."activity_type"', query.activity, params))
    if query.batch:
        where.append(_in('k."batch"', query.batch, params))
    if query.reserve:
        where.append(_in('c."reserve_code"', query.reserve, params))
    if query.zone:
        where.append(_in('c."zone"', query.zone, params))
    if query.overdue_on is not None:
        where.append(_in('s."status"', OVERDUE_STATUSES, params))
        where.append('s."deadline" IS NOT NULL AND s."deadline" < ?')
        params.append(query.overdue_on)
    where += _rights_sql(ws, reserves, county_prefixes, params)
    floor = "FLOOR" if ws.kind == "postgis" else ""  # SQLite's CAST truncates already
    sql = f"""
        SELECT CAST({floor}((k."x" + 180.0) / ?) AS INTEGER) AS ix,
               CAST({floor}((k."y" + 90.0) / ?) AS INTEGER) AS iy,
               COALESCE(s."status", 'pending') AS status, COUNT(*) AS n,
               AVG(k."x") AS x, AVG(k."y") AS y
        FROM "{KEYS_TABLE}" k
        LEFT JOIN "lead_class" c ON c."lead_id" = k."lead_id"
        LEFT JOIN "lead_status" s ON s."lead_id" = k."lead_id"
        {"WHERE " + " AND ".join(where) if where else ""}
        GROUP BY 1, 2, 3
    """
    frame = ws.query(sql, params)
    if frame.empty:
        return pd.DataFrame({"ix": pd.Series(dtype=int), "iy": pd.Series(dtype=int),
                             "status": pd.Series(dtype=object), "n": pd.Series(dtype=int),
                             "x": pd.Series(dtype=float), "y": pd.Series(dtype=float)})
    return frame.astype({"ix": int, "iy": int, "n": int, "x": float, "y": float})
