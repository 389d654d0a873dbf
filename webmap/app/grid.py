"""The zoomed-out map's lead counts, kept per query and patched by status changes.

Counting 10^6 leads per cell takes seconds, too long for each view of a panning map. The
web app counts them once per query (filters and the caller's rights) on the finest grid
it serves whole, :data:`GRID_ZOOM`, and answers every coarser zoom from it: the grids are
aligned (a cell of zoom z is 2^(8-z) × 2^(8-z) cells of zoom 8), so that merging cells is
exact. A status change does not make it count again: the ``lead_history`` rows written
since the counts (each status change appends one, in the same transaction) move each
changed lead from its old status to its new one, among the leads the query keeps
otherwise. A change of the leads themselves (an ingest or classify run) starts afresh.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipelines.store.base import Workspace
from pipelines.store.cells import CellQuery, cell_counts, cell_size, key_rows

__all__ = ["GRID_ZOOM", "CellGrids"]

log = logging.getLogger(__name__)

#: The finest zoom counted whole (a national grid at zoom 8 holds some 10^4 cells).
GRID_ZOOM = 8
_SIZE = 32
_CHUNK = 500


@dataclass
class _Grid:
    mark: int  # the largest lead_history id counted
    counts: dict[tuple[int, int, str], list[float]]  # (ix, iy, status) -> [n, sum x, sum y]
    answers: dict[int, Any] = dataclasses.field(default_factory=dict)  # zoom -> answer


def _passes(status: str, wanted: tuple[str, ...]) -> bool:
    return not wanted or status in wanted


class CellGrids:
    """Counts of the leads per cell of zoom :data:`GRID_ZOOM` and status, per query.

    Parameters
    ----------
    size : int
        Queries kept (the least recently used go first).
    write_lock : threading.Lock, optional
        The app's lock of status changes: held while counting again when statuses changed
        during a count.
    """

    def __init__(self, size: int = _SIZE, write_lock: Any = None) -> None:
        self.size = size
        self.write_lock = write_lock
        self._grids: OrderedDict[Any, _Grid] = OrderedDict()
        self._locks: dict[Any, threading.Lock] = {}
        self._lock = threading.Lock()

    def counts(self, ws: Workspace, scope: tuple[Any, ...], query: CellQuery,
               rights: tuple[Any, Any], zoom: int,
               answer: Callable[[pd.DataFrame, int], Any] | None = None) -> Any:
        """Return the counts at ``zoom`` (≤ :data:`GRID_ZOOM`) as
        :func:`~pipelines.store.cells.cell_counts` does, from the kept grid; with
        ``answer``, ``answer(counts, zoom)``, kept beside the grid until it changes.

        Parameters
        ----------
        ws : Workspace
            The workspace.
        scope : tuple
            What the counts belong to besides the query: the workspace and its leads'
            signature.
        query : CellQuery
            The filters (no bbox).
        rights : tuple
            ``(reserves, county_prefixes)`` of the caller.
        zoom : int
            The zoom to answer at.
        answer : callable, optional
            Makes the answer of the counts at a zoom.
        """
        key = (*scope, rights, query)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one request counts, the others of the same query wait for it
            with self._lock:
                grid = self._grids.get(key)
                if grid is not None:
                    self._grids.move_to_end(key)
            mark = ws.last_history_id() or 0
            if grid is None:
                grid = self._fresh(ws, query, rights)
                with self._lock:
                    self._grids[key] = grid
                    while len(self._grids) > self.size:
                        old, _ = self._grids.popitem(last=False)
                        self._locks.pop(old, None)
            elif grid.mark < mark:
                if query.overdue_on is not None:  # deadlines change too: count again
                    grid = self._fresh(ws, query, rights)
                    with self._lock:
                        self._grids[key] = grid
                else:
                    self._patch(ws, grid, query, rights, mark)
                    grid.mark = mark
                    grid.answers.clear()
            if answer is None:
                return _at_zoom(grid.counts, zoom)
            if zoom not in grid.answers:
                grid.answers[zoom] = answer(_at_zoom(grid.counts, zoom), zoom)
            return grid.answers[zoom]

    def _fresh(self, ws: Workspace, query: CellQuery, rights: tuple[Any, Any]) -> _Grid:
        """Count, with the history mark the counts stand at."""
        before = ws.last_history_id() or 0
        counts = self._count(ws, query, rights)
        if (ws.last_history_id() or 0) == before:
            return _Grid(before, counts)
        with self.write_lock or nullcontext():  # statuses changed meanwhile: once more
            before = ws.last_history_id() or 0
            return _Grid(before, self._count(ws, query, rights))

    @staticmethod
    def _count(ws: Workspace, query: CellQuery,
               rights: tuple[Any, Any]) -> dict[tuple[int, int, str], list[float]]:
        frame = cell_counts(ws, GRID_ZOOM, query, reserves=rights[0],
                            county_prefixes=rights[1])
        return {(int(r.ix), int(r.iy), str(r.status)): [float(r.n), r.x * r.n, r.y * r.n]
                for r in frame.itertuples(index=False)}

    @staticmethod
    def _patch(ws: Workspace, grid: _Grid, query: CellQuery, rights: tuple[Any, Any],
               mark: int) -> None:
        """Move the leads whose status changed since ``grid.mark`` to their new status."""
        rows = ws.read_status_moves(grid.mark, mark)
        moves: dict[str, list[str]] = {}
        for lead, old, new in rows.itertuples(index=False, name=None):
            move = moves.setdefault(str(lead), [old or "pending", new or "pending"])
            move[1] = new or "pending"
        ids = list(moves)
        others = dataclasses.replace(query, status=(), lead_id=())
        size = cell_size(GRID_ZOOM)
        for start in range(0, len(ids), _CHUNK):
            chunk = tuple(ids[start:start + _CHUNK])
            kept = key_rows(ws, dataclasses.replace(others, lead_id=chunk),
                            reserves=rights[0], county_prefixes=rights[1])
            for lead, x, y in kept[["lead_id", "x", "y"]].itertuples(index=False, name=None):
                if x is None or y is None or x != x or y != y:
                    continue
                old, new = moves[str(lead)]
                cell = (int((x + 180.0) // size), int((y + 90.0) // size))
                if _passes(old, query.status):
                    entry = grid.counts.setdefault((*cell, old), [0.0, 0.0, 0.0])
                    entry[0] -= 1
                    entry[1] -= x
                    entry[2] -= y
                if _passes(new, query.status):
                    entry = grid.counts.setdefault((*cell, new), [0.0, 0.0, 0.0])
                    entry[0] += 1
                    entry[1] += x
                    entry[2] += y
        log.debug("cell counts patched for %d status changes", len(ids))


def _at_zoom(counts: dict[tuple[int, int, str], list[float]], zoom: int) -> pd.DataFrame:
    """The counts merged into the cells of ``zoom``: columns of ``cell_counts``."""
    shift = GRID_ZOOM - zoom
    merged: dict[tuple[int, int, str], list[float]] = {}
    for (ix, iy, status), (n, sx, sy) in counts.items():
        if n < 0.5:
            continue
        entry = merged.setdefault((ix >> shift, iy >> shift, status), [0.0, 0.0, 0.0])
        entry[0] += n
        entry[1] += sx
        entry[2] += sy
    return pd.DataFrame({
        "ix": pd.Series([k[0] for k in merged], dtype=int),
        "iy": pd.Series([k[1] for k in merged], dtype=int),
        "status": pd.Series([k[2] for k in merged], dtype=object),
        "n": pd.Series([round(v[0]) for v in merged.values()], dtype=int),
        "x": pd.Series([v[1] / v[0] for v in merged.values()], dtype=float),
        "y": pd.Series([v[2] / v[0] for v in merged.values()], dtype=float),
    })
