"""Compiled inner loops of the grid engine (private to ``geo``).

The query of ``geo._grid.PolygonGrid`` runs here, one point at a time, compiled with numba
and without the GIL, so threads share the points: an owner-grid lookup settles most points;
points in boundary cells are tested exactly against every polygon with edges in their cell,
with exact orientation signs (a float filter, then an exact sum of products when the filter
cannot decide). The algorithm is the one described in ``geo._grid``.

Kernels are compiled on first use and cached on disk (numba ``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "build_part",
    "cell_has_polygon",
    "entries_by_cell",
    "orient",
    "orient_array",
    "outside_exact_range",
    "query_block",
    "scan_ring_ends",
]

_EPS = 2.0**-53
_CCW_ERRBOUND = (3.0 + 16.0 * _EPS) * _EPS
_TINY = 2.0**-900  # products this small may have lost bits to underflow
_SPLITTER = 134217729.0  # 2**27 + 1, Dekker's split of a double into two halves
_OVERLAP = -2  # owner code of cells whose centre lies in several polygons
# coordinates whose exact orientation the error-free products can decide: 0 or a magnitude
# in [2**-300, 2**300] (every term is then a multiple of 2**-704 and no product overflows)
EXACT_MIN, EXACT_MAX = 2.0**-300, 2.0**300
UNDECIDED = 2

_JIT = {"cache": True, "nogil": True}


@njit(**_JIT)
def _two_sum(a: float, b: float) -> tuple[float, float]:
    x = a + b
    bv = x - a
    av = x - bv
    return x, (a - av) + (b - bv)


@njit(**_JIT)
def _two_diff(a: float, b: float) -> tuple[float, float]:
    x = a - b
    bv = a - x
    av = x + bv
    return x, (a - av) + (bv - b)


@njit(**_JIT)
def _split(a: float) -> tuple[float, float]:
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


@njit(**_JIT)
def _two_product(a: float, b: float) -> tuple[float, float]:
    x = a * b
    ahi, alo = _split(a)
    bhi, blo = _split(b)
    err = x - ahi * bhi
    err -= alo * bhi
    err -= ahi * blo
    return x, alo * blo - err


@njit(**_JIT)
def _grow_expansion(h: np.ndarray, n: int, b: float) -> int:
    """Add ``b`` to the expansion ``h[:n]`` (increasing magnitude, no zeros): new length."""
    q = b
    k = 0
    for i in range(n):
        q, hh = _two_sum(q, h[i])
        if hh != 0.0:
            h[k] = hh
            k += 1
    if q != 0.0 or k == 0:
        h[k] = q
        k += 1
    return k


@njit(**_JIT)
def _orient_exact(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> int:
    """Exact sign of ``(a - c) x (b - c)`` as a sum of error-free products (Shewchuk)."""
    acx, acx_t = _two_diff(ax, cx)
    bcy, bcy_t = _two_diff(by, cy)
    acy, acy_t = _two_diff(ay, cy)
    bcx, bcx_t = _two_diff(bx, cx)
    h = np.empty(40)
    n = 0
    for u, v, s in ((acx, bcy, 1.0), (acx, bcy_t, 1.0), (acx_t, bcy, 1.0),
                    (acx_t, bcy_t, 1.0), (acy, bcx, -1.0), (acy, bcx_t, -1.0),
                    (acy_t, bcx, -1.0), (acy_t, bcx_t, -1.0)):
        p, e = _two_product(u, v)
        n = _grow_expansion(h, n, s * e)
        n = _grow_expansion(h, n, s * p)
    top = h[n - 1]
    return 1 if top > 0.0 else (-1 if top < 0.0 else 0)


@njit(**_JIT)
def _exact_range(v: float) -> bool:
    a = abs(v)
    return a == 0.0 or (a >= EXACT_MIN and a <= EXACT_MAX)


@njit(**_JIT)
def orient(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> int:
    """Exact sign of the cross product ``(b - a) x (c - a)``: 1 left, -1 right, 0 on.

    ``UNDECIDED`` when the float filter cannot decide and a coordinate lies outside
    ``[EXACT_MIN, EXACT_MAX]`` (callers keep such coordinates out, or decide otherwise).
    """
    detleft = (ax - cx) * (by - cy)
    detright = (ay - cy) * (bx - cx)
    det = detleft - detright
    if abs(det) > _CCW_ERRBOUND * (abs(detleft) + abs(detright)) + _TINY:
        return 1 if det > 0.0 else -1
    if (ax == cx or by == cy) and (ay == cy or bx == cx):
        return 1 if det > 0.0 else (-1 if det < 0.0 else 0)  # both products exact
    if not (_exact_range(ax) and _exact_range(ay) and _exact_range(bx)
            and _exact_range(by) and _exact_range(cx) and _exact_range(cy)):
        return UNDECIDED
    return _orient_exact(ax, ay, bx, by, cx, cy)


@njit(**_JIT)
def outside_exact_range(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mask of the points holding a coordinate ``orient`` may not decide exactly (points
    with a NaN are not flagged: they match nothing)."""
    out = np.zeros(len(x), dtype=np.bool_)
    for t in range(len(x)):
        a, b = x[t], y[t]
        if a == a and b == b and not (_exact_range(a) and _exact_range(b)):
            out[t] = True
    return out


@njit(**_JIT)
def orient_array(ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray,
                 cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """``orient`` over arrays of equal length (int8 signs, or ``UNDECIDED``)."""
    out = np.empty(len(ax), dtype=np.int8)
    for t in range(len(ax)):
        out[t] = orient(ax[t], ay[t], bx[t], by[t], cx[t], cy[t])
    return out


@njit(**_JIT)
def entries_by_cell(ecell: np.ndarray, eseg: np.ndarray, segpoly: np.ndarray,
                    n_cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boundary entries grouped by cell, then by polygon within a cell (CSR).

    A stable counting sort: the entries must come in polygon order (``build_part`` gives
    them so, and its slices are in polygon order), which they keep within each cell.

    Returns ``(cstart, cpoly, cseg)``: the entries of cell ``c`` are
    ``cstart[c] <= e < cstart[c + 1]``, with polygon ``cpoly[e]`` and segment ``cseg[e]``.
    """
    cstart = np.zeros(n_cells + 1, dtype=np.int64)
    for e in range(len(ecell)):
        cstart[ecell[e]] += 1
    total = 0
    for c in range(n_cells):  # exclusive prefix sums: cstart[c] is where cell c begins
        k = cstart[c]
        cstart[c] = total
        total += k
    cpoly = np.empty(len(ecell), dtype=np.int64)
    cseg = np.empty(len(ecell), dtype=np.int64)
    for e in range(len(ecell)):  # cstart[c] moves to the end of cell c as it fills
        c = ecell[e]
        k = cstart[c]
        cseg[k] = eseg[e]
        cpoly[k] = segpoly[eseg[e]]
        cstart[c] = k + 1
    for c in range(n_cells, 0, -1):  # back to starts: the end of c - 1 is c's start
        cstart[c] = cstart[c - 1]
    cstart[0] = 0
    return cstart, cpoly, cseg


@njit(**_JIT)
def cell_has_polygon(cstart: np.ndarray, cpoly: np.ndarray, cells: np.ndarray,
                     polys: np.ndarray) -> np.ndarray:
    """Whether polygon ``polys[q]`` has edges in cell ``cells[q]``."""
    out = np.zeros(len(cells), dtype=np.bool_)
    for q in range(len(cells)):
        c = cells[q]
        for e in range(cstart[c], cstart[c + 1]):
            if cpoly[e] == polys[q]:
                out[q] = True
                break
    return out


@njit(**_JIT)
def _count_upto(values: np.ndarray, a: int, b: int, v: float) -> int:
    """How many of the sorted ``values[a:b]`` are ``<= v``."""
    lo, hi = a, b
    while lo < hi:
        mid = (lo + hi) >> 1
        if values[mid] <= v:
            lo = mid + 1
        else:
            hi = mid
    return lo - a


@njit(**_JIT)
def _inside(px: float, py: float, yc: float, j: int, row: int, n_rows: int,
            cseg: np.ndarray, e0: int, e1: int, v0: np.ndarray, v1: np.ndarray,
            xy: np.ndarray, cx: np.ndarray, cv: np.ndarray,
            gkey: np.ndarray, gstart: np.ndarray, gstop: np.ndarray, tol: float) -> bool:
    """Exact intersects of point ``p`` and polygon ``j``, whose segments in ``p``'s cell
    are ``cseg[e0:e1]``.

    ``p`` is on ``j``'s boundary if it lies on one of those edges. Otherwise its parity is
    the parity of ``q = (p.x, yc)`` (the centre-line crossings of ``j`` right of ``q``)
    plus the edges crossed by the vertical path ``p -> q``, on ``x = p.x + eps`` and with
    ``q`` raised by ``delta``, as GEOS's half-open ray rule.
    """
    lo, hi = min(py, yc), max(py, yc)
    crossed = 0
    for e in range(e0, e1):
        s = cseg[e]
        for v in range(v0[s], v1[s]):
            ax, bx = xy[v, 0], xy[v + 1, 0]
            if (ax - px) * (bx - px) > 0.0:  # p.x outside the edge's closed x-range
                continue
            ay, by = xy[v, 1], xy[v + 1, 1]
            if min(ay, by) <= py <= max(ay, by) and orient(ax, ay, bx, by, px, py) == 0:
                return True  # on the edge
            if (ax > px) == (bx > px):
                continue
            if (ay > hi and by > hi) or (ay < lo and by < lo):
                continue
            sp = orient(ax, ay, bx, by, px, py)
            sq = orient(ax, ay, bx, by, px, yc)
            if sq == 0:  # q* = (x + eps, yc + delta) takes the sign of the perturbation
                dy = by - ay
                if dy != 0.0:
                    sq = -1 if dy > 0.0 else 1
                else:
                    sq = 1 if bx > ax else (-1 if bx < ax else 0)
            if sp != sq:
                crossed += 1
    # crossings of the centre line right of q*
    key = j * n_rows + row
    g = np.searchsorted(gkey, key)
    if g < len(gkey) and gkey[g] == key:
        a, b = gstart[g], gstop[g]
        left = _count_upto(cx, a, b, px - tol)
        upto = _count_upto(cx, a, b, px + tol)
        crossed += (b - a) - upto
        for k in range(a + left, a + upto):  # near p.x: decide exactly
            w = cv[k]
            xa, ya, xb, yb = xy[w, 0], xy[w, 1], xy[w + 1, 0], xy[w + 1, 1]
            if yb > ya:  # oriented upwards, the crossing is right of q* iff q* is left
                s3 = orient(xa, ya, xb, yb, px, yc)
            else:
                s3 = orient(xb, yb, xa, ya, px, yc)
            if s3 > 0:
                crossed += 1
    return crossed % 2 == 1


@njit(**_JIT)
def query_block(
    x: np.ndarray, y: np.ndarray, i0: int, i1: int,
    kx0: int, nx: int, stepx: float, ky0: int, ny: int, stepy: float, stride: int,
    owner: np.ndarray, boundary: np.ndarray, ycentres: np.ndarray,
    cstart: np.ndarray, cpoly: np.ndarray, cseg: np.ndarray,
    v0: np.ndarray, v1: np.ndarray, xy: np.ndarray, cx: np.ndarray, cv: np.ndarray,
    gkey: np.ndarray, gstart: np.ndarray, gstop: np.ndarray, tol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points ``i0 <= i < i1``: pairs ``(i, j)`` sorted by ``i`` then ``j``, and the points
    in cells where several polygons cover the centre (polygons without edges in the cell
    are left to the caller for those).

    Loads are grouped in passes (cells, then grid values, then decisions) so that the
    processor overlaps their cache misses, and points in boundary cells are settled in
    cell order, so that neighbouring points share their cell's edges in cache.
    """
    m = i1 - i0
    cell = np.empty(m, dtype=np.int64)
    for k in range(m):
        fx = np.floor(x[i0 + k] / stepx) - kx0
        fy = np.floor(y[i0 + k] / stepy) - ky0
        if fx >= 0 and fx < nx and fy >= 0 and fy < ny:  # NaN fails
            cell[k] = np.int64(fy) * stride + np.int64(fx)
        else:
            cell[k] = -1
    own = np.empty(m, dtype=np.int64)
    hard = np.empty(m, dtype=np.bool_)
    for k in range(m):
        c = cell[k]
        if c >= 0:
            own[k] = owner[c]
            hard[k] = boundary[c]
        else:
            own[k] = -1
            hard[k] = False
    # points settled by the grid alone
    out_i = np.empty(m, dtype=np.int64)
    out_j = np.empty(m, dtype=np.int64)
    many = np.empty(m, dtype=np.int64)
    n = 0
    n_many = 0
    n_hard = 0
    for k in range(m):
        if hard[k]:
            n_hard += 1
            if own[k] == _OVERLAP:
                many[n_many] = i0 + k
                n_many += 1
        elif own[k] >= 0:
            out_i[n] = i0 + k
            out_j[n] = own[k]
            n += 1
        elif own[k] == _OVERLAP:
            many[n_many] = i0 + k
            n_many += 1
    # points in boundary cells, in cell order
    hk = np.empty(n_hard, dtype=np.int64)
    h = 0
    for k in range(m):
        if hard[k]:
            hk[h] = k
            h += 1
    hk = hk[np.argsort(cell[hk])]
    cap = 0  # at most one pair per entry of the cell, and the owner
    for k in hk:
        cap += cstart[cell[k] + 1] - cstart[cell[k]] + 1
    hi = np.empty(cap, dtype=np.int64)  # allocated once: no array changes in the loop
    hj = np.empty(cap, dtype=np.int64)
    nh = 0
    for k in hk:
        c = cell[k]
        ky = c // stride
        px, py, yc = x[i0 + k], y[i0 + k], ycentres[ky]
        first = nh
        own_seen = False
        e, end = cstart[c], cstart[c + 1]
        while e < end:
            j = cpoly[e]
            f = e + 1
            while f < end and cpoly[f] == j:
                f += 1
            if j == own[k]:
                own_seen = True
            if _inside(px, py, yc, j, ky, ny, cseg, e, f, v0, v1, xy, cx, cv, gkey, gstart,
                       gstop, tol):
                hi[nh] = i0 + k
                hj[nh] = j
                nh += 1
            e = f
        if own[k] >= 0 and not own_seen:  # covers the centre, no edges in the cell: inside
            hi[nh] = i0 + k
            hj[nh] = own[k]
            nh += 1
            q = nh - 1  # keep the point's polygons in order
            while q > first and hj[q - 1] > hj[q]:
                hj[q - 1], hj[q] = hj[q], hj[q - 1]
                q -= 1
    # merge the two lists, both sorted by point (a point is in one list only)
    order = np.argsort(hi[:nh], kind="mergesort")
    ri = np.empty(n + nh, dtype=np.int64)
    rj = np.empty(n + nh, dtype=np.int64)
    a = 0
    b = 0
    for r in range(n + nh):
        if b >= nh or (a < n and out_i[a] < hi[order[b]]):
            ri[r] = out_i[a]
            rj[r] = out_j[a]
            a += 1
        else:
            ri[r] = hi[order[b]]
            rj[r] = hj[order[b]]
            b += 1
    return ri, rj, many[:n_many].copy()


@njit(**_JIT)
def _resized(a: np.ndarray, size: int) -> np.ndarray:
    out = np.empty(size, dtype=a.dtype)
    out[: len(a)] = a
    return out


# -- build --------------------------------------------------------------------------------

@njit(**_JIT)
def _cell_of(v: float, step: float, k0: int) -> int:
    return np.int64(np.floor(v / step)) - k0


@njit(**_JIT)
def scan_ring_ends(xy: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mark the ring-closing vertices of polygons given by their coordinates in order.

    A ring ends at the first vertex after its start that repeats the start: right for
    valid polygons, whose rings are simple. Returns the mask and, per polygon, whether
    the scan ended exactly at its last vertex with rings of at least 4 vertices (the
    caller settles the others by their ring structure).
    """
    mask = np.zeros(xy.shape[0], dtype=np.bool_)
    ok = np.ones(len(counts), dtype=np.bool_)
    start = 0
    for j in range(len(counts)):
        end = start + counts[j]
        s = start
        while s < end:
            x0, y0 = xy[s, 0], xy[s, 1]
            v = s + 1
            while v < end and not (xy[v, 0] == x0 and xy[v, 1] == y0):
                v += 1
            if v >= end or v - s < 3:
                ok[j] = False
                break
            mask[v] = True
            s = v + 1
        start = end
    return mask, ok


@njit(**_JIT)
def _far_cells(
    xa: float, ya: float, xb: float, yb: float, kx0: int, nx: int, ky0: int, ny: int,
    step: float, stride: int, tol: float, out: np.ndarray, n: int,
) -> int:
    """Cells an edge across several cells touches: its box when small, else the rows it
    meets in each column (padded by ``tol``). Writes them at ``out[n:]`` when ``out`` is
    long enough (else only counts); returns the new ``n``."""
    inv = 1.0 / step  # exact: the step is a power of two
    ka, la = np.int64(np.floor(xa * inv)) - kx0, np.int64(np.floor(ya * inv)) - ky0
    kb, lb = np.int64(np.floor(xb * inv)) - kx0, np.int64(np.floor(yb * inv)) - ky0
    write = len(out) > 0
    exmin, exmax = min(xa, xb), max(xa, xb)
    eymin, eymax = min(ya, yb), max(ya, yb)
    klo, khi = max(min(ka, kb), 0), min(max(ka, kb), nx - 1)
    llo, lhi = max(min(la, lb), 0), min(max(la, lb), ny - 1)
    ncol, nrow = khi - klo + 1, lhi - llo + 1
    if ncol == 1 or nrow == 1 or ncol * nrow <= 4:
        for r in range(llo, lhi + 1):
            for k in range(klo, khi + 1):
                if write:
                    out[n] = r * stride + k
                n += 1
        return n
    slope = (yb - ya) / (xb - xa)
    for k in range(klo, khi + 1):
        x_lo = max(exmin, (kx0 + k) * step)
        x_hi = min(exmax, (kx0 + k + 1) * step)
        y_lo = ya + (x_lo - xa) * slope
        y_hi = ya + (x_hi - xa) * slope
        bot = max(min(y_lo, y_hi) - tol, eymin)
        top = min(max(y_lo, y_hi) + tol, eymax)
        rlo = max(np.int64(np.floor(bot * inv)) - ky0, 0)
        rhi = min(np.int64(np.floor(max(bot, top) * inv)) - ky0, ny - 1)
        for r in range(rlo, rhi + 1):
            if write:
                out[n] = r * stride + k
            n += 1
    return n


@njit(**_JIT)
def _sort_crossings(cx: np.ndarray, cv: np.ndarray, crow: np.ndarray, a0: int, a1: int,
                    j: int, nx: int, ny: int, kx0: int, step: float, stride: int,
                    fa: np.ndarray, fb: np.ndarray, fpoly: np.ndarray, n_fill: int) -> int:
    """Sort polygon ``j``'s crossings ``a0 <= q < a1`` by row then x, turn rows into groups
    (``j * ny + row``) and write the intervals of cells between crossings ``2m`` and
    ``2m + 1`` at ``fa[n_fill:]``; returns the new ``n_fill``."""
    m = a1 - a0
    rmin, rmax = ny, -1
    for q in range(a0, a1):
        rmin = min(rmin, crow[q])
        rmax = max(rmax, crow[q])
    bucket = np.zeros(rmax - rmin + 2, dtype=np.int64)
    for q in range(a0, a1):
        bucket[crow[q] - rmin + 1] += 1
    for r in range(rmax - rmin + 1):
        bucket[r + 1] += bucket[r]
    tx = np.empty(m, dtype=np.float64)
    tv = np.empty(m, dtype=np.int64)
    pos = bucket[:-1].copy()
    for q in range(a0, a1):
        b = crow[q] - rmin
        tx[pos[b]] = cx[q]
        tv[pos[b]] = cv[q]
        pos[b] += 1
    inv = 1.0 / step
    for r in range(rmax - rmin + 1):
        a, b = bucket[r], bucket[r + 1]
        if b - a > 24:
            order = np.argsort(tx[a:b], kind="mergesort")
            tx[a:b] = tx[a:b][order]
            tv[a:b] = tv[a:b][order]
        else:
            for q in range(a + 1, b):
                kxv, kvv = tx[q], tv[q]
                w = q - 1
                while w >= a and tx[w] > kxv:
                    tx[w + 1] = tx[w]
                    tv[w + 1] = tv[w]
                    w -= 1
                tx[w + 1] = kxv
                tv[w + 1] = kvv
        row = rmin + r
        for q in range(a, b):
            cx[a0 + q] = tx[q]
            cv[a0 + q] = tv[q]
            crow[a0 + q] = j * ny + row
        for q in range(a, b - 1, 2):  # inside between crossings 2m and 2m + 1
            ca = min(max(np.int64(np.floor(tx[q] * inv - 0.5)) - kx0 + 1, 0), nx)
            cb = min(max(np.int64(np.ceil(tx[q + 1] * inv - 0.5)) - kx0, 0), nx)
            if ca < cb:
                fa[n_fill] = row * stride + ca
                fb[n_fill] = row * stride + cb
                fpoly[n_fill] = j
                n_fill += 1
    return n_fill


@njit(**_JIT)
def build_part(
    xy: np.ndarray, ring_end: np.ndarray, counts: np.ndarray, j0: int,
    kx0: int, nx: int, ky0: int, ny: int, step: float, stride: int, tol: float,
    ycentres: np.ndarray, boundary: np.ndarray,
) -> tuple:
    """What the polygons ``j0, j0 + 1, ...`` (``counts`` vertices each, coordinates ``xy``)
    contribute to the grid; see ``geo._grid`` for the structures.

    Returns ``(v0, v1, poly)`` segments (vertex indices local to ``xy``), ``(ecell, eseg)``
    boundary entries, ``(cx, cv, cgroup)`` centre-line crossings sorted by group then x,
    and ``(fa, fb, fpoly)`` intervals of cells whose centre is inside a polygon; it marks
    the boundary cells in ``boundary`` (only ever setting True, so parts may run in
    parallel). Every output is sized by a counting pass first: arrays never grow inside
    the loops.
    """
    n = xy.shape[0]
    inv = 1.0 / step  # exact: the step is a power of two
    cell = np.empty(n, dtype=np.int64)
    below = np.empty(n, dtype=np.int64)  # row centres strictly below the vertex
    for v in range(n):
        cell[v] = ((np.int64(np.floor(xy[v, 1] * inv)) - ky0) * stride
                   + np.int64(np.floor(xy[v, 0] * inv)) - kx0)
        below[v] = np.int64(np.ceil(xy[v, 1] * inv - 0.5))
    n_cross = 0
    n_far = 0
    for v in range(n - 1):
        if not ring_end[v]:
            n_cross += abs(below[v + 1] - below[v])
            jump = abs(cell[v + 1] - cell[v])
            if jump != 0 and jump != 1 and jump != stride:
                n_far += 1
    v0 = np.empty(n, dtype=np.int64)
    v1 = np.empty(n, dtype=np.int64)
    poly = np.empty(n, dtype=np.int64)
    ecell = np.empty(2 * n, dtype=np.int64)
    eseg = np.empty(2 * n, dtype=np.int64)
    far = np.empty(n_far, dtype=np.int64)  # segment of each edge across several cells
    cx = np.empty(n_cross, dtype=np.float64)
    cv = np.empty(n_cross, dtype=np.int64)
    crow = np.empty(n_cross, dtype=np.int64)
    fa = np.empty(n_cross // 2 + 1, dtype=np.int64)
    fb = np.empty(n_cross // 2 + 1, dtype=np.int64)
    fpoly = np.empty(n_cross // 2 + 1, dtype=np.int64)
    n_seg = n_ent = n_cross = n_far = n_fill = 0
    start = 0
    for jj in range(len(counts)):
        j = j0 + jj
        end = start + counts[jj]
        first_cross = n_cross
        run0 = -1
        for v in range(start, end):
            closing = ring_end[v]  # a ring's closing vertex starts no edge
            same = not closing and cell[v] == cell[v + 1]
            if run0 >= 0 and not same:  # the run of edges inside one cell ends at v
                v0[n_seg], v1[n_seg], poly[n_seg] = run0, v, j
                ecell[n_ent], eseg[n_ent] = cell[run0], n_seg
                boundary[cell[run0]] = True
                n_seg += 1
                n_ent += 1
                run0 = -1
            if closing:
                continue
            ba, bb = below[v], below[v + 1]
            if ba != bb:  # crossings with the row-centre lines between the edge's ends
                xa, ya, xb, yb = xy[v, 0], xy[v, 1], xy[v + 1, 0], xy[v + 1, 1]
                lo_row = min(ba, bb) - ky0
                for off in range(abs(bb - ba)):
                    row = lo_row + off
                    xs = xa + (ycentres[row] - ya) * (xb - xa) / (yb - ya)
                    cx[n_cross] = min(max(xs, min(xa, xb)), max(xa, xb))
                    cv[n_cross] = v
                    crow[n_cross] = row
                    n_cross += 1
            if same:  # inside one (half-open, so convex) cell: extend the run
                if run0 < 0:
                    run0 = v
                continue
            ca, cb = cell[v], cell[v + 1]
            v0[n_seg], v1[n_seg], poly[n_seg] = v, v + 1, j
            jump = abs(cb - ca)
            if jump == 1 or jump == stride:  # two 4-adjacent cells, and no other
                ecell[n_ent], eseg[n_ent] = ca, n_seg
                ecell[n_ent + 1], eseg[n_ent + 1] = cb, n_seg
                boundary[ca] = True
                boundary[cb] = True
                n_ent += 2
            else:
                far[n_far] = n_seg
                n_far += 1
            n_seg += 1
        if n_cross > first_cross:
            n_fill = _sort_crossings(cx, cv, crow, first_cross, n_cross, j, nx, ny, kx0, step,
                                     stride, fa, fb, fpoly, n_fill)
        start = end
    # edges across several cells: count their cells, then write them
    none = np.empty(0, dtype=np.int64)
    size = 0
    for f in far:
        v = v0[f]
        size = _far_cells(xy[v, 0], xy[v, 1], xy[v + 1, 0], xy[v + 1, 1], kx0, nx, ky0, ny,
                          step, stride, tol, none, size)
    fcell = np.empty(max(size, 1), dtype=np.int64)
    fseg = np.empty(size, dtype=np.int64)
    k = 0
    for f in far:
        v = v0[f]
        k2 = _far_cells(xy[v, 0], xy[v, 1], xy[v + 1, 0], xy[v + 1, 1], kx0, nx, ky0, ny,
                        step, stride, tol, fcell, k)
        fseg[k:k2] = f
        k = k2
    for q in range(size):
        boundary[fcell[q]] = True
    # both lists are in polygon order: merge them so that the entries stay in it
    ecell_all = np.empty(n_ent + size, dtype=np.int64)
    eseg_all = np.empty(n_ent + size, dtype=np.int64)
    a = b = 0
    for q in range(n_ent + size):
        if b >= size or (a < n_ent and poly[eseg[a]] <= poly[fseg[b]]):
            ecell_all[q], eseg_all[q] = ecell[a], eseg[a]
            a += 1
        else:
            ecell_all[q], eseg_all[q] = fcell[b], fseg[b]
            b += 1
    return (v0[:n_seg].copy(), v1[:n_seg].copy(), poly[:n_seg].copy(), ecell_all, eseg_all,
            cx, cv, crow, fa[:n_fill].copy(), fb[:n_fill].copy(), fpoly[:n_fill].copy())
