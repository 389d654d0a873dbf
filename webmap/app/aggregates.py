"""Lead counts per grid cell for the zoomed-out map (``GET /api/map/cells``), and what the
map page knows before any lead (``GET /api/map/summary``).

A map of the whole country cannot draw 10^6 leads, and a cap on how many it draws shows a
random-looking sample. Zoomed out, the page asks for the counts of the leads in each cell
of a grid (a quarter of a map tile a side, :func:`pipelines.store.cells.cell_size`), by
status, and draws one square per cell; zoomed in, the leads themselves. The counts come
from the store (:func:`pipelines.store.cells.cell_counts`, one GROUP BY over an index
table), so no request reads every lead; up to zoom 8 they are kept per query and patched
by status changes (:mod:`webmap.app.grid`), so that panning asks nothing of the store.
The filters of ``/api/leads`` apply, with activity, zone, empty values and overdue
besides, and so do the caller's rights: an editor's cells count only their reserves'
leads (every reserve a lead lies in, where classify records memberships), a reviewer's
only their area's. The summary gives the page its filter choices as the leads layer
names them, with the API values of each.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import math
import threading
from collections import OrderedDict
from typing import Annotated, Any

import geopandas as gpd
import pandas as pd
import shapely
from fastapi import APIRouter, Query
from fastapi.responses import Response

from pipelines.store.cells import CellQuery, cell_counts, cell_size
from webmap.app.api import Context, CurrentUser, Filters, MoreFilters, key_fields
from webmap.app.catalog import OUTSIDE_CODE, key_query, user_rights
from webmap.app.grid import GRID_ZOOM
from webmap.errors import RequestError
from webmap.map.aggregate import AGGREGATE_BELOW_ZOOM
from webmap.map.lead_features import LEAD_FILTERS, lead_features

__all__ = ["cells_json", "cells_router", "filter_choices", "warm_up"]

log = logging.getLogger(__name__)

cells_router = APIRouter(prefix="/api")

#: Zoom levels the grid is offered at (beyond them the page draws leads).
MAX_CELL_ZOOM = 14
#: Answers of ``/api/map/cells`` kept (per rights, query, leads and status marks).
_CACHE_SIZE = 512


class _Answers:
    """A small LRU of cell answers; an entry's key holds the workspace's marks, so a
    change of the leads or of any status makes new keys."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> dict[str, Any] | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: Any, value: dict[str, Any]) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_ANSWERS = _Answers(_CACHE_SIZE)


def filter_choices(summary: dict[str, Any]) -> dict[str, Any]:
    """The filter choices of the map page, as the leads layer shows them, and their values.

    The choices are those :func:`~webmap.map.lead_features.lead_features` writes for the
    leads of ``summary`` (:func:`pipelines.store.cells.key_summary`): one stand-in lead
    per combination of batch, activity, zone and reserve, so that names and order are the
    same as the leads' own. ``params[dim][k]`` lists the API values of choice ``k``
    (None: the empty value, asked for with ``empty=dim``; reserve ``outside``: no reserve).
    """
    combos: pd.DataFrame = summary["combos"]
    names: pd.DataFrame = summary["reserves"]
    if combos.empty:
        return {"filters": {dim: [] for dim in LEAD_FILTERS},
                "params": {dim: [] for dim in LEAD_FILTERS}}
    first = combos.iloc[0]
    rows = [{"batch": r.batch, "activity_type": r.activity_type, "zone": r.zone,
             "reserve_code": None, "reserve_name": None if r.outside else
             (names["reserve_name"].iloc[0] if len(names) else None)}
            for r in combos.itertuples(index=False)]
    rows += [{"batch": first["batch"], "activity_type": first["activity_type"],
              "zone": first["zone"], "reserve_code": code, "reserve_name": name}
             for code, name in zip(names["reserve_code"], names["reserve_name"], strict=True)]
    frame = gpd.GeoDataFrame(pd.DataFrame(rows).assign(lead_id=[str(k) for k in
                                                                range(len(rows))]),
                             geometry=[shapely.Point(0, 0)] * len(rows), crs="EPSG:4490")
    data = lead_features(frame, ids=True)
    filters = data.spec["filters"]
    params: dict[str, list[list[Any]]] = {dim: [[] for _ in filters[dim]] for dim in LEAD_FILTERS}
    for feature in json.loads(data.geojson)["features"]:
        props = feature["properties"]
        row = rows[int(props["i"])]
        raw = {"activity": row["activity_type"], "batch": row["batch"], "zone": row["zone"],
               "reserve": row["reserve_code"] if row["reserve_code"] is not None
               else (OUTSIDE_CODE if row["reserve_name"] is None else None)}
        for d, dim in enumerate(LEAD_FILTERS):
            value = raw[dim]
            if dim == "reserve" and value is None:
                continue  # a stand-in of a lead inside some reserve
            value = None if value is None or (isinstance(value, float) and value != value) \
                else str(value)
            bucket = params[dim][props["f"][d]]
            if value not in bucket:
                bucket.append(value)
    return {"filters": filters, "params": params}


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


@cells_router.get("/map/cells", summary="Lead counts per grid cell and status",
                  response_class=Response,
                  responses={200: {"content": {"application/json": {}}}})
def map_cells(
    user: CurrentUser, ctx: Context, query: Filters, more: MoreFilters,
    z: Annotated[int, Query(ge=0, le=MAX_CELL_ZOOM, description="Map zoom: the cell size.")],
    overdue: Annotated[bool, Query(description="Only rectifications past deadline.")] = False,
) -> Response:
    """Counts of the leads you may read per grid cell and status; the filters of
    ``/api/leads`` apply (bbox: the whole cells meeting it), and activity types,
    zone codes, ``empty`` (dimensions among activity, batch, zone whose leads without a
    value match too) and ``overdue``.

    Parameters
    ----------
    user : User
        The caller; their rights bound the counts.
    ctx : AppContext
        The app's workspace pool and write lock.
    query : LeadQuery
        The filters of ``/api/leads``.
    more : dict
        Activity, zone and empty (:func:`webmap.app.api.more_filters`).
    z : int
        Map zoom, which sets the cell size.
    overdue : bool
        Only rectifications whose deadline is before today.
    """
    if query.lead_id:
        raise RequestError("lead_id does not apply to cell counts: use /api/leads")
    base = key_query(query, **key_fields(query, more),
                     overdue_on=dt.date.today().isoformat() if overdue else None)
    cell_query = dataclasses.replace(base, bbox=query.bbox, meets=None)
    ws = ctx.pool.get()
    signature = ctx.catalog.fresh(ws)
    rights = user_rights(user)
    marks = (ws.location, signature, ws.last_history_id() or 0, rights)
    if z <= GRID_ZOOM:  # the whole grid, kept and patched, then the cells of each view
        whole = ctx.grids.counts(ws, (ws.location, signature),
                                 dataclasses.replace(cell_query, bbox=None), rights, z,
                                 answer=cells_json)
        body = _in_view(whole, query.bbox)
    else:
        body = _answer(ws, marks, dataclasses.replace(cell_query,
                                                      bbox=_aligned(query.bbox, z)), z)
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                    media_type="application/json")


def _answer(ws: Any, marks: tuple[Any, ...], cell_query: CellQuery, z: int) -> dict[str, Any]:
    """:func:`cells_json` of the query, from the recent answers when there."""
    key = (*marks, cell_query, z)
    hit = _ANSWERS.get(key)
    if hit is None:
        rights = marks[-1]
        frame = cell_counts(ws, z, cell_query, reserves=rights[0], county_prefixes=rights[1])
        hit = cells_json(frame, z)
        _ANSWERS.put(key, hit)
    return hit


def _aligned(bbox: tuple[float, float, float, float] | None,
             z: int) -> tuple[float, float, float, float] | None:
    """``bbox`` grown to whole cells of zoom ``z`` (the cells meeting it)."""
    if bbox is None:
        return None
    size = cell_size(z)
    minx, miny, maxx, maxy = bbox
    return (math.floor((minx + 180) / size) * size - 180,
            math.floor((miny + 90) / size) * size - 90,
            (math.floor((maxx + 180) / size) + 1) * size - 180,
            (math.floor((maxy + 90) / size) + 1) * size - 90)


def _in_view(answer: dict[str, Any],
             bbox: tuple[float, float, float, float] | None) -> dict[str, Any]:
    """The cells of ``answer`` meeting ``bbox``, with the legend's totals of those."""
    if bbox is None:
        return answer
    minx, miny, maxx, maxy = bbox
    cells = [c for c in answer["cells"] if c["bbox"][0] <= maxx and c["bbox"][2] >= minx
             and c["bbox"][1] <= maxy and c["bbox"][3] >= miny]
    by_status: dict[str, int] = {}
    for cell in cells:
        for status, n in cell["by_status"].items():
            by_status[status] = by_status.get(status, 0) + n
    return {**answer, "total": sum(by_status.values()), "by_status": by_status,
            "cells": cells}


@cells_router.get("/map/summary", summary="What the map page shows before any lead")
def map_summary(user: CurrentUser, ctx: Context) -> dict[str, Any]:
    """The number and extent of the leads you may read, the filter choices of the map
    page (``filters``, as the leads layer names them) with the API values of each
    (``params``, for ``/api/map/cells``), and when the page draws cells instead of
    leads (``aggregate``: above this many leads in view, below this zoom), read from the
    store's lead index, never from the leads themselves."""
    summary = ctx.catalog.summary(ctx.pool.get(), user)
    return {"total": summary["total"], "bounds": summary["bounds"],
            **filter_choices(summary),
            "aggregate": {"above": ctx.settings.map_cells_above,
                          "belowZoom": AGGREGATE_BELOW_ZOOM,
                          "maxCellZoom": MAX_CELL_ZOOM}}


def warm_up(ctx: Any) -> threading.Thread:
    """Count the leads for the opening view in the background (a thread, started).

    The summary and the unfiltered counts of every lead (what an admin's or a viewer's
    page asks for first) are made once the app starts, so that the first visitor does not
    wait for them; requests asking meanwhile wait for the same counts, not twice.
    """
    def run() -> None:
        try:
            ws = ctx.pool.get()
            summary = ctx.catalog.summary(ws)
            if summary["total"] > ctx.settings.map_cells_above:
                signature = ctx.catalog.fresh(ws)
                ctx.grids.counts(ws, (ws.location, signature), CellQuery(), (None, None),
                                 GRID_ZOOM)
            log.info("lead counts of the opening view ready (%d leads)", summary["total"])
        except Exception as exc:  # a warm-up only: the requests count for themselves
            log.warning("warming up the lead counts failed: %s", exc)

    thread = threading.Thread(target=run, name="lvdun-warm-up", daemon=True)
    thread.start()
    return thread
