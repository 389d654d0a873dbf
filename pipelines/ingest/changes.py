"""What a re-ingest changes in rows already stored, field by field.

Two rules keep a second ingest of a layer from losing or inventing changes:

- a field the file does not carry (no 面积 column, say) keeps the value stored for the
  row: a file that says nothing about a field does not say it is empty;
- coordinates that moved less than :data:`GEOMETRY_TOLERANCE_M` (the rounding of a file
  written with fewer decimals, a reprojection there and back) are the same place: the
  stored geometry is kept and the row is not counted as updated.

The ingest reports, per field, how many stored rows the file changed.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["GEOMETRY_TOLERANCE_M", "field_changes", "keep_stored_fields", "same_value"]

#: Coordinates closer than this (metres) to the stored ones are not a change.
GEOMETRY_TOLERANCE_M = 0.01
#: The tolerance in degrees: a degree of latitude is about 111.32 km and a degree of
#: longitude shorter, so this is at most 1 cm in either direction.
_TOLERANCE_DEG = GEOMETRY_TOLERANCE_M / 111_320.0


def same_value(a: object, b: object) -> bool:
    """Return True when two stored values are the same (floats to a relative 1e-9).

    Examples
    --------
    >>> same_value(1.0, 1.0 + 1e-12), same_value(None, None), same_value("a", None)
    (True, True, False)
    """
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a))
    return bool(a == b) or (a is None and b is None)


def _values(column: pd.Series) -> np.ndarray:
    return column.astype(object).where(column.notna(), None).to_numpy()


def field_changes(
    old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, fields: Iterable[str]
) -> dict[str, np.ndarray]:
    """Return, per field and for ``geometry``, which aligned rows differ.

    Parameters
    ----------
    old : geopandas.GeoDataFrame
        The stored rows.
    new : geopandas.GeoDataFrame
        The rows read now, aligned with ``old`` (same length, same order).
    fields : iterable of str
        The attribute columns to compare.

    Returns
    -------
    dict of str to numpy.ndarray
        Field -> boolean mask of changed rows; ``geometry`` is changed when a coordinate
        moved by :data:`GEOMETRY_TOLERANCE_M` or more (or the shape itself changed).
    """
    out: dict[str, np.ndarray] = {}
    for c in fields:
        a, b = _values(old[c]), _values(new[c])
        out[c] = ~np.array([same_value(x, y) for x, y in zip(a, b, strict=True)], dtype=bool)
    g_old = np.asarray(old.geometry.values, dtype=object)
    g_new = np.asarray(new.geometry.values, dtype=object)
    # a list entry without a shape (described in words) stays the same entry
    nothing_old = shapely.is_missing(g_old) | shapely.is_empty(g_old)
    nothing_new = shapely.is_missing(g_new) | shapely.is_empty(g_new)
    same = (nothing_old & nothing_new) | shapely.equals_exact(g_old, g_new,
                                                              tolerance=_TOLERANCE_DEG)
    out["geometry"] = ~same
    return out


def keep_stored_fields(
    frame: gpd.GeoDataFrame,
    stored: pd.DataFrame,
    at: np.ndarray,
    fields: Iterable[str],
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Fill ``fields`` of the rows at positions ``at`` with their stored values.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The rows read now.
    stored : pandas.DataFrame
        The stored rows, one per position in ``at`` and in the same order.
    at : numpy.ndarray
        Positions in ``frame`` of rows already stored.
    fields : iterable of str
        Fields the file does not carry.

    Returns
    -------
    tuple
        The frame with the stored values where they are not empty, and the fields kept.
    """
    kept: list[str] = []
    frame = frame.copy()
    for c in fields:
        if c not in stored.columns or c not in frame.columns:
            continue
        values = frame[c].to_numpy(dtype=object, copy=True)
        before = _values(stored[c])
        present = np.array([v is not None for v in before], dtype=bool)
        if not present.any():
            continue
        values[at[present]] = before[present]
        frame[c] = values
        kept.append(c)
    return frame, kept
