"""The compiled build of the grid engine (private to ``geo``).

One pass per slice of polygons finds their rings, cells, runs of edges inside one cell,
edges across cells and the crossings of edges with the row-centre lines (sorted per
polygon), and the cells whose centre is inside; see ``geo._grid`` for the structures.
Outputs are sized by counting first, so no array grows inside a loop.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from geo._exact import JIT

__all__ = ["build_part", "cover_lists", "entries_by_cell", "scan_ring_ends"]


@njit(**JIT)
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



@njit(**JIT)
def cover_lists(fa: np.ndarray, fb: np.ndarray, fpoly: np.ndarray, count: np.ndarray,
                n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """The polygons holding the centre of each cell held by several (CSR).

    ``[fa[q], fb[q])`` are the cells whose centre polygon ``fpoly[q]`` holds, in polygon
    order; ``count`` is how many polygons hold each cell's centre. Returns
    ``(ostart, opoly)``: cell ``c``'s polygons are ``opoly[ostart[c]:ostart[c + 1]]``, in
    polygon order, for the cells with ``count > 1`` (none for the others).
    """
    ostart = np.zeros(n_cells + 1, dtype=np.int64)
    total = 0
    for c in range(n_cells):
        ostart[c] = total
        if count[c] > 1:
            total += count[c]
    ostart[n_cells] = total
    opoly = np.empty(total, dtype=np.int64)
    pos = ostart[:-1].copy()
    for q in range(len(fa)):
        for c in range(fa[q], fb[q]):
            if count[c] > 1:
                opoly[pos[c]] = fpoly[q]
                pos[c] += 1
    return ostart, opoly


@njit(**JIT)
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


@njit(**JIT)
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


@njit(**JIT)
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


@njit(**JIT)
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
