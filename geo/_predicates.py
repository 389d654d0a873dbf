"""Exact geometric predicates on float64 arrays (private to ``geo``).

The orientation test is Shewchuk's ``orient2d`` filter: a float64 evaluation whose sign is
proven correct by an error bound, and an exact evaluation (a sum of error-free products)
for the few cases the filter cannot decide (points on or within rounding distance of a
line). It gives the same signs as GEOS ``Orientation::index``, which is exact too. The
loops are compiled (``geo._exact``); coordinates of extreme magnitude the compiled exact
sum cannot take (below ``2**-300`` or above ``2**300``) are decided with rationals.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from geo._exact import UNDECIDED, orient_array

__all__ = ["orient_sign"]


def orient_sign(
    ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray,
    cx: np.ndarray, cy: np.ndarray,
) -> np.ndarray:
    """Return the exact sign of the cross product ``(b - a) × (c - a)``.

    Parameters
    ----------
    ax, ay, bx, by, cx, cy : numpy.ndarray
        Coordinates (float64, broadcastable) of the segment ``a → b`` and the point ``c``.

    Returns
    -------
    numpy.ndarray
        int8 array: ``1`` when ``c`` is left of ``a → b`` (counter-clockwise), ``-1`` when
        right, ``0`` when the three points are exactly collinear.

    Examples
    --------
    >>> import numpy as np
    >>> orient_sign(np.array([0.0]), np.array([0.0]), np.array([1.0]), np.array([1.0]),
    ...             np.array([0.1, 0.3, 0.5]), np.array([0.2, 0.3, 0.4]))
    array([ 1,  0, -1], dtype=int8)
    """
    arrays = np.broadcast_arrays(ax, ay, bx, by, cx, cy)
    shape = arrays[0].shape
    flat = [np.ascontiguousarray(a, dtype=np.float64).ravel() for a in arrays]
    sign = orient_array(*flat)
    for t in np.flatnonzero(sign == UNDECIDED):  # extreme magnitudes: rational arithmetic
        a_x, a_y, b_x, b_y, c_x, c_y = (Fraction(float(v[t])) for v in flat)
        d = (a_x - c_x) * (b_y - c_y) - (a_y - c_y) * (b_x - c_x)
        sign[t] = (d > 0) - (d < 0)
    return sign.reshape(shape)
