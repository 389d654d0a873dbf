"""Exact orientation on float64, compiled (private to ``geo``).

Shewchuk's ``orient2d``: a float evaluation whose sign an error bound proves, and for the
few cases it cannot decide, an exact sum of error-free products (``two_product`` by
Dekker's split, ``two_sum``). The sum is exact for coordinates of magnitude 0 or within
``[EXACT_MIN, EXACT_MAX]``; beyond, ``orient`` answers ``UNDECIDED`` and callers decide
otherwise (``geo._predicates`` with rationals, ``geo._grid`` with GEOS).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "EXACT_MAX",
    "EXACT_MIN",
    "JIT",
    "UNDECIDED",
    "orient",
    "orient_array",
    "outside_exact_range",
]

_EPS = 2.0**-53
_CCW_ERRBOUND = (3.0 + 16.0 * _EPS) * _EPS
_TINY = 2.0**-900  # products this small may have lost bits to underflow
_SPLITTER = 134217729.0  # 2**27 + 1, Dekker's split of a double into two halves
# coordinates whose exact orientation the error-free products can decide: 0 or a magnitude
# in [2**-300, 2**300] (every term is then a multiple of 2**-704 and no product overflows)
EXACT_MIN, EXACT_MAX = 2.0**-300, 2.0**300
UNDECIDED = 2

JIT = {"cache": True, "nogil": True}  # compiled once, cached on disk, run without the GIL


@njit(**JIT)
def _two_sum(a: float, b: float) -> tuple[float, float]:
    x = a + b
    bv = x - a
    av = x - bv
    return x, (a - av) + (b - bv)


@njit(**JIT)
def _two_diff(a: float, b: float) -> tuple[float, float]:
    x = a - b
    bv = a - x
    av = x + bv
    return x, (a - av) + (bv - b)


@njit(**JIT)
def _split(a: float) -> tuple[float, float]:
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


@njit(**JIT)
def _two_product(a: float, b: float) -> tuple[float, float]:
    x = a * b
    ahi, alo = _split(a)
    bhi, blo = _split(b)
    err = x - ahi * bhi
    err -= alo * bhi
    err -= ahi * blo
    return x, alo * blo - err


@njit(**JIT)
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


@njit(**JIT)
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


@njit(**JIT)
def _exact_range(v: float) -> bool:
    a = abs(v)
    return a == 0.0 or (a >= EXACT_MIN and a <= EXACT_MAX)


@njit(**JIT)
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


@njit(**JIT)
def outside_exact_range(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mask of the points holding a coordinate ``orient`` may not decide exactly (points
    with a NaN are not flagged: they match nothing)."""
    out = np.zeros(len(x), dtype=np.bool_)
    for t in range(len(x)):
        a, b = x[t], y[t]
        if a == a and b == b and not (_exact_range(a) and _exact_range(b)):
            out[t] = True
    return out


@njit(**JIT)
def orient_array(ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray,
                 cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """``orient`` over arrays of equal length (int8 signs, or ``UNDECIDED``)."""
    out = np.empty(len(ax), dtype=np.int8)
    for t in range(len(ax)):
        out[t] = orient(ax[t], ay[t], bx[t], by[t], cx[t], cy[t])
    return out


