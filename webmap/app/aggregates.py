"""Lead counts per grid cell for the zoomed-out map (``GET /api/map/cells``).

A map of the whole country cannot draw 10^6 leads, and a cap on how many it draws shows a
random-looking sample. Zoomed out, the page asks for the counts of the leads in each cell
of a grid (a quarter of a map tile a side, :func:`pipelines.store.cells.cell_size`), by
status, and draws one disc per cell; zoomed in, the leads themselves. The counts come from
the store (:func:`pipelines.store.cells.cell_counts`, one GROUP BY over an index table), so
no request reads every lead; the filters of ``/api/leads`` apply, with activity, zone and
overdue besides, and so do the caller's rights: an editor's cells count only their
reserves' leads (every reserve a lead lies in, where classify records memberships), a
reviewer's only their area's.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query

from pipelines.rights import readable_areas, readable_reserves
from pipelines.store.cells import CellQuery, cell_counts, cell_size, refresh_lead_keys
from webmap.app.api import Context, CurrentUser, Filters, _split
from webmap.app.catalog import NO_RESERVE
from webmap.errors import RequestError

__all__ = ["cells_json", "cells_router"]

log = logging.getLogger(__name__)

cells_router = APIRouter(prefix="/api")

#: Zoom levels the grid is offered at (beyond them the page draws leads).
MAX_CELL_ZOOM = 14


def cells_json(frame: pd.DataFrame, zoom: int) -> dict[str, Any]:
    """Gather :func:`~pipelines.store.cells.cell_counts` rows into one entry per cell.

    Each cell has its centre of mass ``x``, ``y``, its bounds ``bbox`` (for a click to
    zoom to), ``n`` and ``by_status``; ``by_status`` and ``total`` at the top are the
    legend's counts.
    """
    size = cell_size(zoom)
    cells: dict[tuple[int, int], dict[str, Any]] = {}
    by_status: dict[str, int] = {}
    for row in frame.itertuples(index=False):
        cell = cells.setdefault((row.ix, row.iy), {"n": 0, "sx": 0.0, "sy": 0.0,
                                                   "by_status": {}})
        cell["n"] += row.n
        cell["sx"] += row.x * row.n
        cell["sy"] += row.y * row.n
        cell["by_status"][row.status] = cell["by_status"].get(row.status, 0) + row.n
        by_status[row.status] = by_status.get(row.status, 0) + row.n
    out = []
    for (ix, iy), cell in sorted(cells.items()):
        west, south = ix * size - 180.0, iy * size - 90.0
        out.append({"x": round(cell["sx"] / cell["n"], 6), "y": round(cell["sy"] / cell["n"], 6),
                    "n": cell["n"], "by_status": cell["by_status"],
                    "bbox": [west, south, west + size, south + size]})
    return {"zoom": zoom, "size": size, "total": sum(by_status.values()),
            "by_status": by_status, "cells": out}


@cells_router.get("/map/cells", summary="Lead counts per grid cell and status")
def map_cells(
    user: CurrentUser, ctx: Context, query: Filters,
    z: Annotated[int, Query(ge=0, le=MAX_CELL_ZOOM, description="Map zoom: the cell size.")],
    activity: Annotated[list[str] | None, Query(description="Activity types.")] = None,
    zone: Annotated[list[str] | None, Query(description="Zone codes.")] = None,
    overdue: Annotated[bool, Query(description="Only rectifications past deadline.")] = False,
) -> dict[str, Any]:
    """Counts of the leads you may read per grid cell and status; the filters of
    ``/api/leads`` apply (bbox: the cells' leads' centres inside it).

    Parameters
    ----------
    user : User
        The caller; their rights bound the counts.
    ctx : AppContext
        The app's workspace pool and write lock.
    query : LeadQuery
        The filters of ``/api/leads``.
    z : int
        Map zoom, which sets the cell size.
    activity, zone : list of str, optional
        Activity types and zone codes.
    overdue : bool
        Only rectifications whose deadline is before today.
    """
    if query.lead_id:
        raise RequestError("lead_id does not apply to cell counts: use /api/leads")
    cell_query = CellQuery(
        bbox=query.bbox, status=query.status, batch=query.batch,
        reserve=tuple(None if c == NO_RESERVE else c for c in query.reserve),
        activity=_split(activity, "activity"), zone=_split(zone, "zone"),
        overdue_on=dt.date.today().isoformat() if overdue else None,
    )
    areas = readable_areas(user)
    allowed = readable_reserves(user)
    ws = ctx.pool.get()
    with ctx.write_lock:  # the index table is rebuilt (a write) after a re-ingest
        refresh_lead_keys(ws)
    frame = cell_counts(ws, z, cell_query, county_prefixes=areas,
                        reserves=None if areas is not None or allowed is None else set(allowed))
    return cells_json(frame, z)
