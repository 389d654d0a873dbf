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

Points in boundary or overlap cells are settled exactly. For a candidate polygon ``j`` the
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

from geo._predicates import orient_sign, vectorized_count_less
from geo._segments import Segments, expand, ring_ends

__all__ = ["PolygonGrid"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_MAX_CELLS = 1 << 24
_MIN_CELLS = 64
_CELLS_PER_VERTEX = 1.0
_BLOCK = 1 << 17  # vertices or points handled together: their arrays stay in cache
_MAX_BOX_CELLS = 4  # an edge whose box covers more cells is traced column by column
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
    def edges(self) -> np.ndarray:
        return (self.k0 + np.arange(self.n + 1, dtype=np.float64)) * self.step

    @property
    def centers(self) -> np.ndarray:
        return (self.k0 + 0.5 + np.arange(self.n, dtype=np.float64)) * self.step

    def locate(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the cell ``k`` holding each value and whether it lies inside the grid."""
        with np.errstate(invalid="ignore"):
            f = np.floor(v / self.step) - self.k0
            ok = (f >= 0) & (f < self.n)
        return np.where(ok, f, 0).astype(np.int64), ok

    def span(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the first and last cells meeting ``[lo, hi]``.

        Cells are half-open, like point locations: a value on a cell line belongs to the
        cell above it only.
        """
        klo = (np.floor(lo / self.step) - self.k0).astype(np.int64)
        khi = (np.floor(hi / self.step) - self.k0).astype(np.int64)
        return np.maximum(klo, 0), np.minimum(khi, self.n - 1)

    def below(self, v: np.ndarray) -> np.ndarray:
        """Return the number of cell centres strictly below each value (exact)."""
        return np.clip(np.ceil(v / self.step - 0.5) - self.k0, 0, self.n).astype(np.int64)

    def centres_upto(self, v: np.ndarray) -> np.ndarray:
        """Return the number of cell centres below or at each value (exact)."""
        return np.clip(np.floor(v / self.step - 0.5) - self.k0 + 1, 0, self.n).astype(np.int64)


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


def _step(width: float, height: float, cells: int) -> float:
    """The power-of-two cell side giving about ``cells`` square cells (within 2x)."""
    step = 2.0 ** round(math.log2(math.sqrt(width * height / cells)))
    while (width / step + 3) * (height / step + 3) > _MAX_CELLS:
        step *= 2.0
    return step


@dataclass(frozen=True)
class _EntryIndex:
    """Boundary entries grouped by (cell, polygon): ``seg[start[u]:stop[u]]`` for ``key[u]``."""

    seg: np.ndarray
    key: np.ndarray
    start: np.ndarray
    stop: np.ndarray


def _order_by_group_then_x(
    group: np.ndarray, xs: np.ndarray, lo: float, hi: float,
) -> np.ndarray:
    """Return the order sorting by ``group`` then ``xs`` (``lo <= xs < hi``).

    One float sort on ``group + (xs - lo) / (hi - lo)``, checked with the exact values;
    ``np.lexsort`` when that key is too coarse to order two crossings.
    """
    if not len(group):
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(group + (xs - lo) / ((hi - lo) * (1 + 2**-20)))
    g, v = group[order], xs[order]
    if np.all((g[1:] > g[:-1]) | ((g[1:] == g[:-1]) & (v[1:] >= v[:-1]))):
        return order
    return np.lexsort((xs, group))  # pragma: no cover - crossings a few ulps apart


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
        self.xc, self.yc = self.ax.centers, self.ay.centers
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
        self._tree = shapely.STRtree(polygons) if self.overlaps else None
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
        vpoly = np.repeat(np.arange(j0, j1, dtype=np.int32), counts)
        # exact cell coordinates: the step is a power of two
        scaled = xy / self.ax.step
        below = scaled[:, 1] - 0.5  # ceil(y / step - 1/2): row centres strictly below
        np.ceil(below, out=below)
        np.floor(scaled, out=scaled)
        cell = scaled[:, 1] * self.stride  # float64 holds these integers exactly
        cell += scaled[:, 0]
        del scaled
        # runs of edges inside one (half-open, so convex) cell
        inner = cell[1:] == cell[:-1]
        inner &= ~ring_end[:-1]
        d = np.diff(inner.view(np.int8), prepend=np.int8(0), append=np.int8(0))
        flips = np.flatnonzero(d)  # run starts and ends alternate
        r0, r1 = flips[0::2], flips[1::2]
        base = self.ay.k0 * self.stride + self.ax.k0
        runs = Segments(r0, r1, vpoly[r0])
        run_cells = cell[r0].astype(np.int64) - base
        multi = np.flatnonzero(~inner & ~ring_end[:-1])
        # most other edges join two 4-adjacent cells and meet no other
        jump = np.abs(cell[multi + 1] - cell[multi])
        near = (jump == 1) | (jump == self.stride)
        pair = multi[near]
        far = multi[~near]
        del inner, d
        edges, ecell, eseg = self._edge_entries(x, y, far, vpoly[far])
        seg = Segments.concat([runs, Segments(pair, pair + 1, vpoly[pair]), edges])
        n_runs, n_pair = len(runs), len(pair)
        ecell = np.concatenate([run_cells, cell[pair].astype(np.int64) - base,
                                cell[pair + 1].astype(np.int64) - base, ecell])
        pair_seg = np.arange(n_runs, n_runs + n_pair, dtype=np.int64)
        eseg = np.concatenate([np.arange(n_runs, dtype=np.int64), pair_seg, pair_seg,
                               eseg + n_runs + n_pair])
        del cell
        self.boundary[ecell] = True  # blocks only ever set True: safe in parallel
        # crossings with the row-centre lines: centres below a vertex change along the edge
        cross = np.flatnonzero((below[1:] != below[:-1]) & ~ring_end[:-1])
        cx, cv, cgroup = self._centre_crossings(x, y, cross, below, vpoly[cross])
        fa, fb, fpoly = self._intervals(cx, cgroup)
        return _Part(seg.shift(v_first), ecell, eseg, cx, cv + v_first, cgroup, fa, fb, fpoly)

    def _edge_entries(
        self, x: np.ndarray, y: np.ndarray, v: np.ndarray, poly: np.ndarray,
    ) -> tuple[Segments, np.ndarray, np.ndarray]:
        """Single-edge segments and (cell, segment) entries for every cell they touch."""
        xa, ya, xb, yb = x[v], y[v], x[v + 1], y[v + 1]
        exmin, exmax = np.minimum(xa, xb), np.maximum(xa, xb)
        eymin, eymax = np.minimum(ya, yb), np.maximum(ya, yb)
        klo, khi = self.ax.span(exmin, exmax)
        llo, lhi = self.ay.span(eymin, eymax)
        ncol, nrow = khi - klo + 1, lhi - llo + 1
        size = ncol * nrow
        boxed = (ncol == 1) | (nrow == 1) | (size <= _MAX_BOX_CELLS)
        t, off = expand(np.where(boxed, size, 0))
        cells = [(llo[t] + off // ncol[t]) * self.stride + klo[t] + off % ncol[t]]
        segs = [t]
        # diagonal edges over several columns: rows touched within each column (padded)
        diag = np.flatnonzero(~boxed)
        t, off = expand(ncol[diag])
        e = diag[t]
        k = klo[e] + off
        xs, ys, xe, ye = xa[e], ya[e], xb[e], yb[e]
        lines = self.ax.edges
        x_lo = np.maximum(exmin[e], lines[k])
        x_hi = np.minimum(exmax[e], lines[k + 1])
        run = xe - xs
        slope = (ye - ys) / np.where(run == 0, 1.0, run)
        y_lo = np.where(run == 0, ys, ys + (x_lo - xs) * slope)
        y_hi = np.where(run == 0, ye, ys + (x_hi - xs) * slope)
        bot = np.maximum(np.minimum(y_lo, y_hi) - self.tol, eymin[e])
        top = np.minimum(np.maximum(y_lo, y_hi) + self.tol, eymax[e])
        rlo, rhi = self.ay.span(bot, np.maximum(bot, top))
        t2, off2 = expand(rhi - rlo + 1)
        cells.append((rlo[t2] + off2) * self.stride + k[t2])
        segs.append(e[t2])
        return Segments(v, v + 1, poly), np.concatenate(cells), np.concatenate(segs)

    def _centre_crossings(
        self, x: np.ndarray, y: np.ndarray, v: np.ndarray, below: np.ndarray,
        poly: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Crossings of edges ``v`` with the row-centre lines, sorted by (polygon, row, x)."""
        b0, b1 = below[v], below[v + 1]
        t, off = expand(np.abs(b1 - b0).astype(np.int64))
        v = v[t]
        row = (np.minimum(b0, b1)[t] - self.ay.k0).astype(np.int64) + off
        xa, ya, xb, yb = x[v], y[v], x[v + 1], y[v + 1]
        xs = np.clip(xa + (self.yc[row] - ya) * (xb - xa) / (yb - ya),
                     np.minimum(xa, xb), np.maximum(xa, xb))
        group = poly[t].astype(np.int64) * self.ay.n + row
        order = _order_by_group_then_x(group, xs, self.ax.edges[0], self.ax.edges[-1])
        return xs[order], v[order], group[order]

    def _intervals(
        self, cx: np.ndarray, cgroup: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cells whose centre lies between crossings ``2m`` and ``2m + 1`` of a polygon."""
        start = np.flatnonzero(np.diff(cgroup, prepend=-1))
        size = np.diff(np.append(start, len(cgroup)))
        pos = np.arange(len(cgroup)) - np.repeat(start, size)
        s = np.flatnonzero((pos % 2 == 0) & (pos + 1 < np.repeat(size, size)))
        row = cgroup[s] % self.ay.n
        ca = self.ax.centres_upto(cx[s])  # first centre past the entry crossing
        cb = self.ax.below(cx[s + 1])  # first centre at or past the exit crossing
        keep = ca < cb
        base = row[keep] * self.stride
        return base + ca[keep], base + cb[keep], cgroup[s][keep] // self.ay.n

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
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        # 1. one owner lookup per point
        looked = _run(lambda ab: self._lookup(x, y, *ab), _blocks(len(x)), self.workers)
        simple_i = np.concatenate([g[0] for g in looked])
        simple_j = np.concatenate([g[1] for g in looked])
        hard = np.concatenate([g[2] for g in looked])
        if not len(hard):
            return simple_i, simple_j
        # 2. the boundary entries of the cells holding the other points
        kx, _ = self.ax.locate(x[hard])
        ky, _ = self.ay.locate(y[hard])
        cell = ky * self.stride + kx
        index = self._entry_index(cell)
        # 3. candidates and exact tests
        settled = _run(lambda ab: self._complex(hard[ab[0]:ab[1]], x, y, kx[ab[0]:ab[1]],
                                                ky[ab[0]:ab[1]], index),
                       _blocks(len(hard), parts=self.workers), self.workers)
        npoly = self.n_polygons
        key = np.concatenate([simple_i * npoly + simple_j,
                              np.sort(np.concatenate([g[0] * npoly + g[1] for g in settled]))])
        key.sort(kind="stable")  # two sorted runs: a linear merge
        return key // npoly, key % npoly

    def _lookup(
        self, x: np.ndarray, y: np.ndarray, i0: int, i1: int,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Points ``i0 <= i < i1``: pairs settled by the owner grid, and the other points."""
        kx, okx = self.ax.locate(x[i0:i1])
        ky, oky = self.ay.locate(y[i0:i1])
        cell = ky * self.stride + kx
        own = self.owner[cell]
        hard = self.boundary[cell] | (own == _OVERLAP)
        hard &= okx & oky
        hit = np.flatnonzero(~hard & (own >= 0) & okx & oky)
        return hit + i0, own[hit].astype(np.int64), np.flatnonzero(hard) + i0

    def _entry_index(self, cell: np.ndarray) -> _EntryIndex:
        """Boundary entries of ``cell``, sorted by (cell, polygon)."""
        npoly = self.n_polygons
        used = np.zeros(self.n_cells, dtype=bool)
        used[cell] = True
        sub = np.flatnonzero(used[self.ecell])
        key = self.ecell[sub] * npoly + self.seg.poly[self.eseg[sub]]
        order = np.argsort(key, kind="stable")
        key = key[order]
        start = np.flatnonzero(np.diff(key, prepend=-1))
        return _EntryIndex(self.eseg[sub[order]], key[start], start,
                           np.append(start[1:], len(key)))

    def _complex(
        self, pi: np.ndarray, x: np.ndarray, y: np.ndarray, kx: np.ndarray, ky: np.ndarray,
        index: _EntryIndex,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Settle points ``pi`` in complex cells: returns (point, polygon) pairs."""
        npoly = self.n_polygons
        px, py = x[pi], y[pi]
        cell = ky * self.stride + kx
        own = self.owner[cell].astype(np.int64)
        ukey = index.key

        def known(q: np.ndarray, j: np.ndarray) -> np.ndarray:
            if not len(ukey):
                return np.zeros(len(q), dtype=bool)
            key = cell[q] * npoly + j
            return ukey[np.minimum(np.searchsorted(ukey, key), len(ukey) - 1)] == key

        # candidates: polygons with edges in the cell (exact test) ...
        c0 = np.searchsorted(ukey, cell * npoly, side="left")
        c1 = np.searchsorted(ukey, (cell + 1) * npoly, side="left")
        t, off = expand(c1 - c0)
        u = c0[t] + off
        ju = ukey[u] % npoly
        ok = self._exact(px[t], py[t], ju, ky[t], index.seg, index.start[u], index.stop[u])
        got_p, got_j = [t[ok]], [ju[ok]]
        # ... the one polygon covering the centre without edges in the cell (inside) ...
        s = np.flatnonzero(own >= 0)
        js = own[s]
        fresh = ~known(s, js)
        got_p.append(s[fresh])
        got_j.append(js[fresh])
        # ... and where polygons overlap, any polygon whose box holds the point
        many = np.flatnonzero(own == _OVERLAP)
        if len(many) and self._tree is not None:
            qi, qj = self._tree.query(shapely.points(px[many], py[many]))
            qp = many[qi]
            fresh = ~known(qp, qj)
            qp, qj = qp[fresh], qj[fresh].astype(np.int64)
            start, stop = self._group(qj, ky[qp])
            odd = vectorized_count_less(self.cx, start, stop, self.xc[kx[qp]]) % 2 == 1
            got_p.append(qp[odd])
            got_j.append(qj[odd])
        return pi[np.concatenate(got_p)], np.concatenate(got_j)

    def _group(self, j: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the slice of centre crossings of polygon ``j`` on ``row`` (empty if none)."""
        zero = np.zeros(len(j), dtype=np.int64)
        if not len(self.gkey):
            return zero, zero
        key = j * self.ay.n + row
        g = np.minimum(np.searchsorted(self.gkey, key), len(self.gkey) - 1)
        found = self.gkey[g] == key
        return np.where(found, self.gstart[g], zero), np.where(found, self.gstop[g], zero)

    def _exact(
        self, px: np.ndarray, py: np.ndarray, j: np.ndarray, ky: np.ndarray,
        eseg: np.ndarray, ustart: np.ndarray, ustop: np.ndarray,
    ) -> np.ndarray:
        """Exact intersects test of points against polygons with edges in their cell.

        ``eseg[ustart[q]:ustop[q]]`` are the segments of polygon ``j[q]`` in the cell.
        """
        n = len(px)
        yc = self.yc[ky]
        lo, hi = np.minimum(py, yc), np.maximum(py, yc)
        t, off = expand(ustop - ustart)
        s = eseg[ustart[t] + off]
        seg = self.seg
        t2, off2 = expand(seg.v1[s] - seg.v0[s])
        q = t[t2]
        v = seg.v0[s[t2]] + off2
        # an edge can hold p or cross the vertical line x = p.x + eps only if p.x lies in
        # its closed x-range (the sign of a float product is exact)
        ppx = px[q]
        keep = np.flatnonzero((self.x[v] - ppx) * (self.x[v + 1] - ppx) <= 0)
        q, v = q[keep], v[keep]  # (segments never hold a ring's closing vertex)
        ax_, ay_, bx_, by_ = self.x[v], self.y[v], self.x[v + 1], self.y[v + 1]
        ppx, ppy = px[q], py[q]
        # on an edge: inside the edge's box and collinear
        box = (np.minimum(ay_, by_) <= ppy) & (ppy <= np.maximum(ay_, by_))
        b = np.flatnonzero(box)
        on_edge = np.zeros(n, dtype=bool)
        on_edge[q[b[orient_sign(ax_[b], ay_[b], bx_[b], by_[b], ppx[b], ppy[b]) == 0]]] = True
        # edges crossed by the vertical path p* -> q* on x = p.x + eps
        lo, hi = lo[q], hi[q]
        reach = ((ax_ > ppx) != (bx_ > ppx)) & ~((ay_ > hi) & (by_ > hi))
        reach &= ~((ay_ < lo) & (by_ < lo))
        r = np.flatnonzero(reach)
        ax_, ay_, bx_, by_, q = ax_[r], ay_[r], bx_[r], by_[r], q[r]
        sp = orient_sign(ax_, ay_, bx_, by_, px[q], py[q])
        sq = orient_sign(ax_, ay_, bx_, by_, px[q], yc[q])
        # q* = (x + eps, yc + delta): a zero orientation takes the sign of the perturbation
        zero = np.flatnonzero(sq == 0)
        dy = by_[zero] - ay_[zero]
        sq[zero] = np.where(dy != 0, -np.sign(dy), np.sign(bx_[zero] - ax_[zero]))
        vertical = np.bincount(q[sp != sq], minlength=n)
        # crossings of the centre line to the right of q*
        start, stop = self._group(j, ky)
        left = vectorized_count_less(self.cx, start, stop, px - self.tol, inclusive=True)
        upto = vectorized_count_less(self.cx, start, stop, px + self.tol, inclusive=True)
        right = (stop - start) - upto
        t3, off3 = expand(upto - left)
        if len(t3):
            w = self.cv[start[t3] + left[t3] + off3]
            xa, ya, xb, yb = self.x[w], self.y[w], self.x[w + 1], self.y[w + 1]
            up = yb > ya  # orient the edge upwards: the crossing is right of q* iff q* is left
            s3 = orient_sign(np.where(up, xa, xb), np.where(up, ya, yb),
                             np.where(up, xb, xa), np.where(up, yb, ya), px[t3], yc[t3])
            right += np.bincount(t3[s3 > 0], minlength=n)
        return on_edge | ((vertical + right) % 2 == 1)
