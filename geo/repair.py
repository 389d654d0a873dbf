"""Geometry validity: repair what can be repaired, flag what cannot.

Repairs use :func:`shapely.make_valid` (structure method) and keep only the parts of the
input's dimension, so a self-intersecting polygon stays polygonal and a bow-tie does not
grow stray lines.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["RepairResult", "repair"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RepairResult:
    """Result of :func:`repair`.

    Attributes
    ----------
    geoms
        Repaired geometries (the valid ones unchanged).
    repaired
        True where the input was invalid and has been repaired.
    empty
        True where the geometry is missing, empty, or nothing of its dimension is left.
    reasons
        Why each invalid input was invalid (GEOS's words), '' for valid ones.
    """

    geoms: np.ndarray
    repaired: np.ndarray
    empty: np.ndarray
    reasons: np.ndarray


def _keep_dimension(geom: shapely.Geometry, dim: int) -> shapely.Geometry:
    if geom is None or geom.is_empty:
        return geom
    parts = [p for p in shapely.get_parts(geom) if shapely.get_dimensions(p) == dim]
    if len(parts) == len(shapely.get_parts(geom)) and geom.geom_type != "GeometryCollection":
        return geom
    if not parts:
        return shapely.from_wkt("GEOMETRYCOLLECTION EMPTY")
    if dim == 2:
        polys = [q for p in parts for q in shapely.get_parts(p)]
        return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    if dim == 1:
        return parts[0] if len(parts) == 1 else shapely.multilinestrings(parts)
    return parts[0] if len(parts) == 1 else shapely.multipoints(parts)


def repair(geoms: np.ndarray) -> RepairResult:
    """Repair invalid geometries and flag empty ones.

    Parameters
    ----------
    geoms
        Array of shapely geometries (None allowed).

    Returns
    -------
    RepairResult

    Examples
    --------
    >>> import shapely, numpy as np
    >>> bowtie = shapely.from_wkt("POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))")
    >>> res = repair(np.array([bowtie, None], dtype=object))
    >>> res.repaired.tolist(), res.empty.tolist(), res.geoms[0].geom_type
    ([True, False], [False, True], 'MultiPolygon')
    """
    arr = np.asarray(geoms, dtype=object).reshape(-1).copy()
    missing = shapely.is_missing(arr)
    empty = missing | shapely.is_empty(np.where(missing, shapely.Point(), arr))
    valid = shapely.is_valid(arr) | empty
    reasons = np.full(len(arr), "", dtype=object)
    repaired = ~valid
    if repaired.any():
        idx = np.flatnonzero(repaired)
        reasons[idx] = shapely.is_valid_reason(arr[idx])
        dims = shapely.get_dimensions(arr[idx])
        fixed = shapely.make_valid(arr[idx], method="structure", keep_collapsed=False)
        for k, (i, g) in enumerate(zip(idx, fixed, strict=True)):
            arr[i] = _keep_dimension(g, int(dims[k]))
        now_empty = shapely.is_empty(arr[idx])
        empty[idx[now_empty]] = True
        log.info("repaired %d invalid geometries", int(repaired.sum()))
    return RepairResult(geoms=arr, repaired=repaired, empty=empty, reasons=reasons)
