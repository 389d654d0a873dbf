"""Ring structure and edge chunks of polygon arrays (private to ``geo``).

Polygon edges are read as consecutive coordinates of ``shapely.get_coordinates``, except
across a ring's closing vertex; runs of consecutive edges are kept as segments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from geo._build import scan_ring_ends

__all__ = ["Segments", "ring_ends"]


def ring_ends(polys: np.ndarray, xy: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Return a mask of the ring-closing vertices in ``shapely.get_coordinates`` order.

    Rings are found by a compiled scan (a ring ends where its first coordinate comes back,
    as GEOS rings are closed and valid rings simple); polygons the scan cannot split
    cleanly are split by their ring structure, read with shapely.

    Parameters
    ----------
    polys : numpy.ndarray
        Non-empty Polygon / MultiPolygon geometries.
    xy : numpy.ndarray
        Their coordinates, ``shapely.get_coordinates(polys)``.
    counts : numpy.ndarray
        Their numbers of coordinates.

    Returns
    -------
    numpy.ndarray
        Boolean mask, True at the last vertex of every ring.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> sq = shapely.box(0, 0, 1, 1)
    >>> polys = np.array([sq, shapely.MultiPolygon([sq, shapely.box(2, 2, 3, 3)])])
    >>> ring_ends(polys, shapely.get_coordinates(polys), np.array([5, 10])).nonzero()[0]
    array([ 4,  9, 14])
    """
    counts = np.asarray(counts, dtype=np.int64)
    first = np.cumsum(counts) - counts
    mask, scanned = scan_ring_ends(np.ascontiguousarray(xy, dtype=np.float64), counts)
    several = np.flatnonzero(~scanned)
    if len(several):  # rings the scan cannot tell apart: as GEOS structures them
        for j in several:
            mask[first[j]:first[j] + counts[j]] = False
        sizes, owner = _ring_sizes(polys[several])
        owner = several[owner]
        mask[first[owner] + _cumsum_by_owner(sizes, owner) - 1] = True
    return mask


def _ring_sizes(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numbers of coordinates of the rings of polygons in coordinate order, and their
    polygon."""
    parts, part_owner = shapely.get_parts(polys, return_index=True)
    holes = shapely.get_num_interior_rings(parts)
    sizes = np.repeat(shapely.get_num_coordinates(parts).astype(np.int64), 1 + holes)
    with_holes = np.flatnonzero(holes > 0)
    if len(with_holes):
        rings, ring_part = shapely.get_rings(parts[with_holes], return_index=True)
        head = np.cumsum(1 + holes) - (1 + holes)
        rank = np.arange(len(rings)) - np.searchsorted(ring_part, ring_part)
        sizes[head[with_holes][ring_part] + rank] = shapely.get_num_coordinates(rings)
    return sizes, np.repeat(part_owner, 1 + holes)


def _cumsum_by_owner(values: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Running sum of ``values`` restarting at every new ``owner`` (owners sorted)."""
    total = np.cumsum(values)
    start = np.searchsorted(owner, owner)
    return total - (total[start] - values[start])


@dataclass
class Segments:
    """Runs of consecutive edges of one polygon: edges ``v0[s] <= v < v1[s]``.

    Edge ``v`` joins vertices ``v`` and ``v + 1``; a ring's closing vertex starts no edge.
    """

    v0: np.ndarray
    v1: np.ndarray
    poly: np.ndarray

    @classmethod
    def concat(cls, parts: list[Segments]) -> Segments:
        """Join segment tables (vertex indices must already be global)."""
        return cls(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("v0", "v1", "poly")))

    def __len__(self) -> int:
        return len(self.v0)
