"""Exact points-in-polygons join on a uniform grid (private engine of ``geo.overlay``).

The polygons' bounding box is cut into cells whose sides are powers of two and whose lines
sit at integer multiples of them, so locating a coordinate (``floor(v / step)``) is exact
in floating point. Cells are half-open (a point on a cell line belongs to the cell above or
to the right of it), hence convex: a run of edges whose vertices share a cell stays in it.
Every edge marks the cells it touches as *boundary* cells of its polygon (edges between
cells conservatively, by their box or column by column). A cell that no edge of polygon
``j`` touches is uniformly inside or outside ``j``; which one is read from the crossings of
``j``'s edges with the horizontal line through the row's cell centres. Two dense grids
then answer most points with one lookup: ``owner`` (the one polygon whose inside holds the
cell centre, none, or several) and ``boundary`` (some polygon has edges in the cell).

Points in boundary or overlap cells are settled in compiled code (``geo._query``): a
polygon holding the cell centre without edges in the cell holds the point (cells whose
centre several polygons hold list them); the polygons with edges in the point's cell are
tested exactly. For such a candidate polygon ``j`` the
point ``p`` is on ``j``'s boundary if it lies on one of the edges of ``j`` touching the
cell; otherwise its parity is the parity of the row-centre point ``q = (p.x, yc)``
(crossings of ``j``'s edges with the centre line to the right of ``p.x``) plus the edges
crossed by the vertical segment ``p → q``, which stays inside the cell. Both use exact
orientation signs on a symbolically perturbed path (``x + ε``, ``y + δ``, as GEOS's
half-open ray rule), so the answer equals GEOS ``intersects`` for valid polygons, on edges
and vertices included.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import shapely

from geo._build import build_part, cover_lists, entries_by_cell
from geo._exact import outside_exact_range
from geo._query import query_block
from geo._segments import Segments, ring_ends

__all__ = ["PolygonGrid"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_MAX_CELLS = 1 << 24
_MIN_CELLS = 64
_CELLS_PER_VERTEX = 1.0
_BLOCK = 1 << 17  # vertices or points handled together: their arrays stay in cache
# owner codes: j >= 0 the cell centre is inside polygon j only; -1 in none; -2 in several
_EMPTY, _OVERLAP = -1, -2


@dataclass(frozen=True)
class _Axis:
    """One grid axis: cell ``k`` spans ``[(k0 + k) * step, (k0 + k + 1) * step)``."""

    k0: int
    n: int
    step: float  # a power of two, so v / step and the cell lines are exact

    @classmethod
    def make(cls, lo: float, hi: float, step: float) -> _Axis:
        k0 = math.floor(lo / step) - 1
        return cls(k0, math.floor(hi / step) - k0 + 2, step)

    @property
    def centers(self) -> np.ndarray:
        return (self.k0 + 0.5 + np.arange(self.n, dtype=np.float64)) * self.step


@dataclass
class _Part:
    """What one slice of the polygons contributes to the grid."""

    seg: Segments  # runs of edges inside one cell, and the edges between cells
    ecell: np.ndarray  # boundary entries: (cell, segment) for every cell a segment touches
    eseg: np.ndarray
    cx: np.ndarray  # centre-line crossings sorted by (group = polygon * ny + row, x)
    cv: np.ndarray
    cgroup: np.ndarray
    fa: np.ndarray  # cells whose centre is inside a polygon: [fa, fb) of polygon fpoly
    fb: np.ndarray
    fpoly: np.ndarray
    extreme: bool  # some vertex has a coordinate orient cannot decide exactly


def _step(width: float, height: float, cells: int) -> float:
    """The power-of-two cell side giving about ``cells`` square cells (within 2x)."""
    step = 2.0 ** round(math.log2(math.sqrt(width * height / cells)))
    while (width / step + 3) * (height / step + 3) > _MAX_CELLS:
        step *= 2.0
    return step


def _slices(weights: np.ndarray, n: int) -> list[tuple[int, int]]:
    """Split ``range(len(weights))`` into at most ``n`` contiguous slices of similar weight."""
    if n <= 1 or len(weights) < 2:
        return [(0, len(weights))]
    cum = np.cumsum(weights)
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, n) / n) + 1
    bounds = np.unique(np.clip(np.concatenate([[0], cuts, [len(weights)]]), 0, len(weights)))
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds)]


def _blocks(n: int, *, parts: int = 1) -> list[tuple[int, int]]:
    """Split ``range(n)`` into slices of at most about ``_BLOCK``, at least ``parts``."""
    k = max(1, -(-n // _BLOCK), min(parts, n // 1024))
    bounds = np.linspace(0, n, k + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds)]


def _run(fn: Callable[[tuple[int, int]], _T], jobs: list[tuple[int, int]],
         workers: int) -> list[_T]:
    """Run ``fn`` over ``jobs`` in order, on ``workers`` threads when there are several."""
    if len(jobs) == 1 or workers == 1:
        return [fn(job) for job in jobs]
    with ThreadPoolExecutor(min(workers, len(jobs))) as pool:
        return list(pool.map(fn, jobs))


class PolygonGrid:
    """A grid index over polygons answering exact point-in-polygon (intersects) queries.

    Parameters
    ----------
    polygons : numpy.ndarray
        1-D object array of non-empty, valid Polygon / MultiPolygon geometries.
    cells : int, optional
        Approximate number of grid cells; by default one per vertex (fewer when
        ``points`` is small), within ``[64, 2**24]``.
    points : int, optional
        How many points will be queried, to size the grid.
    workers : int, optional
        Threads used to build and query (GEOS and numpy release the GIL); by default the
        number of CPUs, at most 8.

    Notes
    -----
    A point on a polygon's boundary intersects it. Exactness relies on valid polygons
    (OGC rules: non-overlapping multipolygon parts, holes inside shells), as the answer is
    the even-odd parity of all rings of a polygon.
    """

    def __init__(
        self, polygons: np.ndarray, *, cells: int | None = None, points: int | None = None,
        workers: int | None = None,
    ) -> None:
        self.polygons = polygons
        self.n_polygons = len(polygons)
        self.workers = max(1, min(8, os.cpu_count() or 1) if workers is None else int(workers))
        self.ncoords = shapely.get_num_coordinates(polygons).astype(np.int64)
        n = int(self.ncoords.sum())
        xmin, ymin, xmax, ymax = (float(b) for b in shapely.total_bounds(polygons))
        if cells is None:
            cells = int(n * _CELLS_PER_VERTEX)
            if points is not None:  # few points: a coarser grid is cheaper to build
                cells = min(cells, max(cells // 5, 4 * points))
        cells = int(np.clip(cells, _MIN_CELLS, _MAX_CELLS))
        span = max(xmax - xmin, ymax - ymin, 1e-9 * max(1.0, abs(xmax), abs(ymax)))
        step = _step(max(xmax - xmin, span / 64), max(ymax - ymin, span / 64), cells)
        self.ax, self.ay = _Axis.make(xmin, xmax, step), _Axis.make(ymin, ymax, step)
        self.yc = self.ay.centers
        self.stride = self.ax.n + 1  # one spare column per row keeps intervals in their row
        self.n_cells = self.stride * self.ay.n
        # a tolerance far above the rounding of interpolated crossings
        self.tol = 2.0**-40 * (max(abs(xmin), abs(xmax), abs(ymin), abs(ymax)) + span)
        self.xy = np.empty((n, 2), dtype=np.float64)
        self.boundary = np.zeros(self.n_cells, dtype=bool)  # some polygon has edges there
        self.x, self.y = self.xy[:, 0], self.xy[:, 1]
        first = np.cumsum(self.ncoords) - self.ncoords
        jobs = _slices(self.ncoords, -(-n // _BLOCK))
        parts = _run(lambda ab: self._build_part(*ab, int(first[ab[0]])), jobs, self.workers)
        seg_base = np.cumsum([0] + [len(p.seg) for p in parts])
        self.seg = Segments.concat([p.seg for p in parts])
        self.ecell = np.concatenate([p.ecell for p in parts])
        self.eseg = np.concatenate([p.eseg + b for p, b in zip(parts, seg_base[:-1],
                                                                 strict=True)])
        self.cx = np.concatenate([p.cx for p in parts])
        self.cv = np.concatenate([p.cv for p in parts])
        cgroup = np.concatenate([p.cgroup for p in parts])
        start = np.flatnonzero(np.diff(cgroup, prepend=-1))
        self.gkey = cgroup[start]
        self.gstart = start.astype(np.int64)
        self.gstop = np.append(start[1:], len(cgroup)).astype(np.int64)
        self._fill_owner(np.concatenate([p.fa for p in parts]),
                         np.concatenate([p.fb for p in parts]),
                         np.concatenate([p.fpoly for p in parts]))
        self._by_cell: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.extreme = any(p.extreme for p in parts)  # see geo._exact.EXACT_MIN
        log.debug("grid %d x %d (step %g) over %d polygons, %d vertices: %d boundary "
                  "entries, %d crossings, overlaps=%s", self.ax.n, self.ay.n, step,
                  self.n_polygons, n, len(self.ecell), len(self.cx), self.overlaps)

    # -- build ------------------------------------------------------------------------------

    def _build_part(self, j0: int, j1: int, v_first: int) -> _Part:
        counts = self.ncoords[j0:j1]
        xy = shapely.get_coordinates(self.polygons[j0:j1])
        sl = slice(v_first, v_first + len(xy))
        self.xy[sl] = xy
        x, y = xy[:, 0], xy[:, 1]
        ring_end = ring_ends(self.polygons[j0:j1], xy, counts)
        (v0, v1, poly, ecell, eseg, cx, cv, cgroup, fa, fb, fpoly) = build_part(
            xy, ring_end, counts, j0, self.ax.k0, self.ax.n, self.ay.k0, self.ay.n,
            self.ax.step, self.stride, self.tol, self.yc, self.boundary)
        return _Part(Segments(v0 + v_first, v1 + v_first, poly), ecell, eseg, cx,
                     cv + v_first, cgroup, fa, fb, fpoly, bool(outside_exact_range(x, y).any()))

    def _fill_owner(self, fa: np.ndarray, fb: np.ndarray, fpoly: np.ndarray) -> None:
        """Dense grid of the polygon whose inside holds the cell centre (see ``_EMPTY``)."""
        n_cells, shape = self.n_cells, (self.ay.n, self.stride)
        order = np.argsort(fa, kind="stable")
        fa, fb, fpoly = fa[order], fb[order], fpoly[order]
        # intervals overlap only where polygons do
        self.overlaps = bool(np.any(fa[1:] < fb[:-1]))
        dtype = np.int16 if self.n_polygons < 2**15 else np.int32
        owner = np.zeros(n_cells, dtype=dtype)
        w = (fpoly + 1).astype(dtype)  # sums wrap in overlaps, which are overwritten
        if self.overlaps:
            np.add.at(owner, fa, w)
            np.subtract.at(owner, fb, w)
            count = np.zeros(n_cells, dtype=np.int32)
            np.add.at(count, fa, 1)
            np.subtract.at(count, fb, 1)
            np.cumsum(count.reshape(shape), axis=1, out=count.reshape(shape))
        else:
            owner[fa] += w  # disjoint intervals: starts and ends never repeat
            owner[fb] -= w
        np.cumsum(owner.reshape(shape), axis=1, out=owner.reshape(shape))
        owner -= 1
        if self.overlaps:
            owner[count > 1] = _OVERLAP
            by_poly = np.argsort(fpoly, kind="stable")
            self.ostart, self.opoly = cover_lists(fa[by_poly], fb[by_poly],
                                                  fpoly[by_poly].astype(np.int64), count,
                                                  n_cells)
        else:
            self.ostart = np.zeros(n_cells + 1, dtype=np.int64)
            self.opoly = np.zeros(0, dtype=np.int64)
        self.owner = owner

    # -- query ------------------------------------------------------------------------------

    def query_points(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return pairs ``(i, j)``: point ``(x[i], y[i])`` intersects polygon ``j``.

        Parameters
        ----------
        x, y : numpy.ndarray
            float64 coordinates; NaN or points outside the grid match nothing.

        Returns
        -------
        tuple of numpy.ndarray
            int64 arrays, sorted by ``i`` then ``j``.
        """
        x = np.ascontiguousarray(x, dtype=np.float64)
        y = np.ascontiguousarray(y, dtype=np.float64)
        extreme = np.flatnonzero(outside_exact_range(x, y))
        if self.extreme or len(extreme):
            return self._query_extreme(x, y, extreme)
        cstart, cpoly, cseg = self._cells()
        seg = self.seg

        def block(ab: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
            return query_block(
                x, y, ab[0], ab[1], self.ax.k0, self.ax.n, self.ax.step, self.ay.k0,
                self.ay.n, self.ay.step, self.stride, self.owner, self.boundary, self.yc,
                cstart, cpoly, cseg, self.ostart, self.opoly, seg.v0, seg.v1, self.xy,
                self.cx, self.cv, self.gkey, self.gstart, self.gstop, self.tol)

        done = _run(block, _blocks(len(x), parts=self.workers), self.workers)
        return np.concatenate([d[0] for d in done]), np.concatenate([d[1] for d in done])

    def _query_extreme(
        self, x: np.ndarray, y: np.ndarray, extreme: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates of extreme magnitude (see ``geo._exact.EXACT_MIN``): GEOS decides
        for those points, or for all when polygon vertices have such coordinates."""
        pick = np.arange(len(x)) if self.extreme else extreme
        tree = shapely.STRtree(self.polygons)
        gi, gj = tree.query(shapely.points(x[pick], y[pick]), predicate="intersects")
        gi, gj = pick[gi].astype(np.int64), gj.astype(np.int64)
        if not self.extreme:
            keep = np.ones(len(x), dtype=bool)
            keep[extreme] = False
            rest = np.flatnonzero(keep)
            ri, rj = self.query_points(x[rest], y[rest])
            gi, gj = np.concatenate([gi, rest[ri]]), np.concatenate([gj, rj])
        order = np.lexsort((gj, gi))
        return gi[order], gj[order]

    def _cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boundary entries grouped by cell then polygon (built once, on first query)."""
        if self._by_cell is None:
            self._by_cell = entries_by_cell(self.ecell, self.eseg, self.seg.poly,
                                            self.n_cells)
        return self._by_cell
