"""The compiled query of the grid engine (private to ``geo``).

``geo._grid.PolygonGrid.query_points`` runs here, without the GIL, so threads share the
points: an owner-grid lookup settles most points; points in boundary cells are tested
exactly against every polygon with edges in their cell (``geo._exact.orient``). The
algorithm is the one described in ``geo._grid``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from geo._exact import JIT, orient

__all__ = ["query_block"]

_OVERLAP = -2  # owner code of cells whose centre lies in several polygons


@njit(**JIT)
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


@njit(**JIT)
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


@njit(**JIT)
def query_block(
    x: np.ndarray, y: np.ndarray, i0: int, i1: int,
    kx0: int, nx: int, stepx: float, ky0: int, ny: int, stepy: float, stride: int,
    owner: np.ndarray, boundary: np.ndarray, ycentres: np.ndarray,
    cstart: np.ndarray, cpoly: np.ndarray, cseg: np.ndarray,
    ostart: np.ndarray, opoly: np.ndarray,
    v0: np.ndarray, v1: np.ndarray, xy: np.ndarray, cx: np.ndarray, cv: np.ndarray,
    gkey: np.ndarray, gstart: np.ndarray, gstop: np.ndarray, tol: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Points ``i0 <= i < i1``: pairs ``(i, j)`` sorted by ``i`` then ``j``.

    Cells whose centre several polygons hold list them in ``opoly[ostart[c]:ostart[c + 1]]``
    (empty elsewhere).

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
    # points settled by the grid alone; the others (boundary cells, cells whose centre
    # several polygons hold) are settled below
    out_i = np.empty(m, dtype=np.int64)
    out_j = np.empty(m, dtype=np.int64)
    n = 0
    n_hard = 0
    for k in range(m):
        if own[k] == _OVERLAP:
            hard[k] = True
        if hard[k]:
            n_hard += 1
        elif own[k] >= 0:
            out_i[n] = i0 + k
            out_j[n] = own[k]
            n += 1
    # in cell order
    hk = np.empty(n_hard, dtype=np.int64)
    h = 0
    for k in range(m):
        if hard[k]:
            hk[h] = k
            h += 1
    hk = hk[np.argsort(cell[hk])]
    cap = 0  # at most one pair per entry of the cell, and the owner or covering polygons
    for k in hk:
        c = cell[k]
        cap += cstart[c + 1] - cstart[c] + 1
        if own[k] == _OVERLAP:
            cap += ostart[c + 1] - ostart[c]
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
        # polygons holding the centre without edges in the cell hold the whole cell
        if own[k] >= 0 and not own_seen:
            hi[nh] = i0 + k
            hj[nh] = own[k]
            nh += 1
        elif own[k] == _OVERLAP:
            for o in range(ostart[c], ostart[c + 1]):
                j = opoly[o]
                edged = False
                for e in range(cstart[c], cstart[c + 1]):
                    if cpoly[e] == j:
                        edged = True
                        break
                if not edged:
                    hi[nh] = i0 + k
                    hj[nh] = j
                    nh += 1
        for q in range(first + 1, nh):  # keep the point's polygons in order
            w = q
            while w > first and hj[w - 1] > hj[w]:
                hj[w - 1], hj[w] = hj[w], hj[w - 1]
                w -= 1
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
    return ri, rj
