"""The classification engine: points and patches against ranked polygons.

Every function works on arrays of shapely geometries in one geographic CRS (the caller
checks it); nothing here knows what the polygons stand for. A geometry on a polygon's
boundary counts as inside (``intersects`` semantics, as PostGIS ``ST_Intersects``).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely
from pyproj import CRS

from geo._grid import PolygonGrid
from geo.crs import CHINA_ALBERS, transformer
from geo.errors import GeometryError
from geo.nearest import SegmentIndex, nearest_line_distance

__all__ = ["area_shares", "boundary_distance", "clip_pairs", "intersects_pairs", "project",
           "winners"]

log = logging.getLogger(__name__)

_POINT = 0
_POLYGONAL = (3, 6)  # Polygon, MultiPolygon
_VERTICES_PER_POINT = 100  # more polygon vertices per point: prepared STRtree, not the grid
#: A crossing pair's polygon is cut to the geometry's box grown by this (metres: the
#: callers cut in the equal-area projection) plus :data:`_CLIP_GROW` of the box's size.
_CLIP_MARGIN = 1.0
_CLIP_GROW = 0.05


def _as_array(geoms: object) -> np.ndarray:
    arr = np.asarray(getattr(geoms, "values", geoms), dtype=object)
    if arr.ndim != 1:
        raise GeometryError(f"expected a 1-D array of geometries, got shape {arr.shape}")
    return arr


def project(geoms: object, src: CRS, dst: CRS) -> np.ndarray:
    """Return ``geoms`` transformed from ``src`` to ``dst`` (lon/lat order kept).

    Parameters
    ----------
    geoms : array-like of shapely geometries
        The geometries, in ``src``.
    src, dst : pyproj.CRS
        The CRS they are in and the one to transform them to.

    Returns
    -------
    numpy.ndarray
        The transformed geometries.
    """
    arr = _as_array(geoms)
    trans = transformer(src, dst)
    return shapely.transform(arr, lambda xy: np.column_stack(trans.transform(xy[:, 0], xy[:, 1])))


def intersects_pairs(geoms: object, polygons: object) -> tuple[np.ndarray, np.ndarray]:
    """Return index pairs ``(i, j)`` where ``geoms[i]`` intersects ``polygons[j]``.

    Pairs are sorted by ``i`` then ``j``. Boundary contact counts as intersecting, and the
    answer is exactly ``shapely.intersects`` (GEOS) for valid polygons, including points on
    edges and vertices, in holes, and in overlapping polygons. Missing or empty geometries
    match nothing.

    Points against polygons go through a grid index (``geo._grid.PolygonGrid``) built for
    the call: most points are settled by one grid lookup and the rest by exact orientation
    tests, on all cores. When there are over 100 polygon vertices per point, building the
    grid costs more than it saves, and a shapely ``STRtree`` on the points is queried with
    the polygons prepared instead (GEOS, exact as well). Other geometries (patches, lines,
    multipoints) and non-polygonal ``polygons`` go through a shapely ``STRtree`` with the
    ``intersects`` predicate.

    Parameters
    ----------
    geoms : array-like of shapely geometries
        The left side (a GeoSeries, a numpy array or a list).
    polygons : array-like of shapely geometries
        The right side, normally Polygon / MultiPolygon.

    Returns
    -------
    tuple of numpy.ndarray
        ``(i, j)`` int64 arrays of equal length.

    Examples
    --------
    >>> import shapely
    >>> pts = shapely.points([0.5, 1.0, 5.0], [0.5, 0.5, 5.0])
    >>> sq = [shapely.box(0, 0, 1, 1)]
    >>> intersects_pairs(pts, sq)
    (array([0, 1]), array([0, 0]))
    """
    left_arr, right_arr = _as_array(geoms), _as_array(polygons)
    empty = np.empty(0, dtype="int64")
    if len(left_arr) == 0 or len(right_arr) == 0:
        return empty, empty.copy()
    right_ok = ~(shapely.is_missing(right_arr) | shapely.is_empty(right_arr))
    polygonal = right_ok & np.isin(shapely.get_type_id(right_arr), _POLYGONAL)
    pj = np.flatnonzero(polygonal)
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    # few points against many vertices: a grid costs more to build than it saves
    few = len(left_arr) * _VERTICES_PER_POINT < shapely.get_num_coordinates(right_arr[pj]).sum()
    # read the points (GEOS releases the GIL) while the grid is built, when there are any
    likely = not few and len(pj) > 0 and bool(
        np.any(shapely.get_type_id(left_arr[:256]) == _POINT))
    with ThreadPoolExecutor(1) as pool:
        reading = pool.submit(_read_points, left_arr)
        grid = PolygonGrid(right_arr[pj], points=len(left_arr)) if likely else None
        left_type, pi, x, y = reading.result()
    if len(pi) and len(pj) and few:
        pairs.append(_prepared_pairs(left_arr, pi, right_arr, pj))
    elif len(pi) and len(pj):
        if grid is None:
            grid = PolygonGrid(right_arr[pj], points=len(pi))
        i, j = grid.query_points(x, y)
        pairs.append((pi[i], pj[j]))
    points = left_type == _POINT
    other_j = np.flatnonzero(right_ok & ~polygonal)
    if len(pi) and len(other_j):
        pairs.append(_tree_pairs(left_arr, pi, right_arr, other_j))
    other_i = np.flatnonzero((left_type >= 0) & ~points)
    if len(other_i):
        other_i = other_i[~shapely.is_empty(left_arr[other_i])]
    if len(other_i):
        pairs.append(_tree_pairs(left_arr, other_i, right_arr, np.flatnonzero(right_ok)))
    if not pairs:
        return empty, empty.copy()
    if len(pairs) == 1:
        return pairs[0][0].astype("int64"), pairs[0][1].astype("int64")
    left = np.concatenate([p[0] for p in pairs]).astype("int64")
    right = np.concatenate([p[1] for p in pairs]).astype("int64")
    order = np.lexsort((right, left))
    return left[order], right[order]


def _read_points(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Type ids of ``geoms`` (-1 for missing), and index and x, y of the non-empty points."""
    types = shapely.get_type_id(geoms)
    pi = np.flatnonzero(types == _POINT)
    pts = geoms if len(pi) == len(geoms) else geoms[pi]
    empty = shapely.is_empty(pts)
    if empty.any():
        pi, pts = pi[~empty], pts[~empty]
    return types, pi, shapely.get_x(pts), shapely.get_y(pts)


def _prepared_pairs(
    left: np.ndarray, li: np.ndarray, right: np.ndarray, rj: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``intersects`` pairs of few points ``left[li]`` and polygons ``right[rj]``.

    An STRtree on the points is queried with the polygons, prepared for the call (and
    unprepared after, unless the caller had prepared them).
    """
    polys = right[rj]
    fresh = polys[~shapely.is_prepared(polys)]
    shapely.prepare(fresh)
    try:
        b, a = shapely.STRtree(left[li]).query(polys, predicate="intersects")
    finally:
        shapely.destroy_prepared(fresh)
    order = np.lexsort((b, a))
    return li[a[order]], rj[b[order]]


def _tree_pairs(
    left: np.ndarray, li: np.ndarray, right: np.ndarray, rj: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact ``intersects`` pairs of ``left[li]`` and ``right[rj]`` through an STRtree."""
    tree = shapely.STRtree(right[rj])
    a, b = tree.query(left[li], predicate="intersects")
    order = np.lexsort((b, a))
    return li[a[order]], rj[b[order]]


def winners(n: int, left: np.ndarray, right: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """Return, for each of ``n`` geometries, the matched polygon of highest priority or -1.

    Ties keep the lowest polygon index, so results are deterministic.

    Parameters
    ----------
    n : int
        The number of geometries.
    left, right : numpy.ndarray
        Matched pairs: geometry and polygon positions (as :func:`intersects_pairs`).
    priority : numpy.ndarray
        One priority per polygon, higher wins.

    Returns
    -------
    numpy.ndarray
        int64 polygon position per geometry, -1 where none matched.

    Examples
    --------
    >>> import numpy as np
    >>> winners(3, np.array([0, 0, 2]), np.array([0, 1, 1]), np.array([5, 7]))
    array([ 1, -1,  1])
    """
    out = np.full(n, -1, dtype="int64")
    if len(left) == 0:
        return out
    prio = np.asarray(priority)[right]
    # sort by geometry, then priority descending, then polygon index ascending
    order = np.lexsort((right, -prio, left))
    first = np.ones(len(order), dtype=bool)
    first[1:] = left[order][1:] != left[order][:-1]
    out[left[order][first]] = right[order][first]
    return out


def clip_pairs(
    geoms: object, polygons: object, left: np.ndarray, right: np.ndarray, *,
    margin: float = _CLIP_MARGIN,
) -> tuple[np.ndarray, np.ndarray]:
    """Return, for each pair, whether the polygon holds the geometry, else its local piece.

    A small patch inside a large polygon (a county, a reserve zone) needs no overlay at
    all; one that crosses the polygon's outline needs only the part of the polygon near
    it. The polygons are prepared, ``contains_properly`` is asked of every pair, and for
    the others the polygon is cut to the geometry's bounding box, grown by a margin (an
    intersection with that box, so the piece is a valid polygon). Within the geometry the
    piece and the polygon are the same, so any overlay of the geometry with the piece
    equals the overlay with the whole polygon, at a fraction of its vertices.

    Parameters
    ----------
    geoms : array-like of shapely geometries
        The leads' geometries.
    polygons : array-like of shapely geometries
        The polygons, in the same CRS (the one the overlay that follows is done in: the
        cut adds vertices on straight lines of that CRS, outside the geometry).
    left, right : numpy.ndarray
        Matched pairs: positions into ``geoms`` and ``polygons``.
    margin : float, optional
        How far beyond the geometry's box the piece reaches, in the units of the
        coordinates (default 1, metres of a projected CRS), plus 5 % of the box's size.

    Returns
    -------
    (inside, pieces)
        ``inside[k]`` is True when ``polygons[right[k]]`` contains ``geoms[left[k]]``
        properly (no point on its outline); ``pieces[k]`` is None there, else the piece of
        the polygon around the geometry.

    Examples
    --------
    >>> import shapely
    >>> big = shapely.box(0, 0, 10, 10)
    >>> inside, pieces = clip_pairs([shapely.box(1, 1, 2, 2), shapely.box(9.5, 1, 10.5, 2)],
    ...                             [big], np.array([0, 1]), np.array([0, 0]))
    >>> inside.tolist(), pieces[0] is None, round(float(pieces[1].area), 3)
    ([True, False], True, 4.728)
    """
    g, p = _as_array(geoms), _as_array(polygons)
    left, right = np.asarray(left, dtype=np.intp), np.asarray(right, dtype=np.intp)
    pieces = np.full(len(left), None, dtype=object)
    if not len(left):
        return np.zeros(0, dtype=bool), pieces
    shapely.prepare(p[np.unique(right)])
    inside = np.asarray(shapely.contains_properly(p[right], g[left]), dtype=bool)
    cross = np.flatnonzero(~inside)
    if len(cross):
        b = shapely.bounds(g[left[cross]])
        grow = margin + _CLIP_GROW * np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
        boxes = shapely.box(b[:, 0] - grow, b[:, 1] - grow, b[:, 2] + grow, b[:, 3] + grow)
        pieces[cross] = shapely.intersection(p[right[cross]], boxes)
    return inside, pieces


def area_shares(
    geoms: object,
    polygons: object,
    left: np.ndarray,
    right: np.ndarray,
    *,
    crs: CRS,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the area of ``geoms[left] ∩ polygons[right]`` and its share of ``geoms[left]``.

    Areas are in m², computed in an Albers equal-area projection for China
    (``geo.crs.CHINA_ALBERS``). Points and lines have no area: their share is 1, and no
    intersection is computed for them. Both sides are projected; a polygon that holds its
    geometry whole gives it its whole area without an overlay, and for the others only the
    polygon's piece around the geometry (:func:`clip_pairs`) is intersected.

    Parameters
    ----------
    geoms : array-like of shapely geometries
        The leads' geometries, in ``crs``.
    polygons : array-like of shapely geometries
        The polygons, in ``crs``.
    left, right : numpy.ndarray
        Matched pairs: positions into ``geoms`` and ``polygons``.
    crs : pyproj.CRS
        The geographic CRS of both.

    Returns
    -------
    (area_m2, share)
        Two float arrays aligned with ``left``.
    """
    g = _as_array(geoms)
    p = _as_array(polygons)
    area = np.zeros(len(left))
    share = np.ones(len(left))
    if len(left) == 0:
        return area, share
    left, right = np.asarray(left), np.asarray(right)
    rows = np.flatnonzero(shapely.get_dimensions(g[left]) == 2)
    if not len(rows):
        return area, share
    gi, g_inv = np.unique(left[rows], return_inverse=True)
    pj, p_inv = np.unique(right[rows], return_inverse=True)
    g_ea = project(g[gi], crs, CHINA_ALBERS)
    p_ea = project(p[pj], crs, CHINA_ALBERS)
    whole = shapely.area(g_ea)[g_inv]
    inside, pieces = clip_pairs(g_ea, p_ea, g_inv, p_inv)
    got = whole.copy()  # a geometry inside its polygon: all of its area
    cross = np.flatnonzero(~inside)
    if len(cross):
        got[cross] = shapely.area(shapely.intersection(g_ea[g_inv[cross]], pieces[cross]))
    area[rows] = got
    share[rows] = np.where(whole > 0, area[rows] / np.where(whole > 0, whole, 1.0), 1.0)
    return area, np.clip(share, 0.0, 1.0)


def boundary_distance(geoms: object, boundaries: object, *, crs: CRS) -> np.ndarray:
    """Return each geometry's distance in metres to the nearest of ``boundaries``.

    Distances are computed in the CGCS2000 Gauss-Krüger 6° zone of each geometry's
    centroid (scale error under 0.14 % within a zone), between the projected geometry and
    the projected boundary vertices. The boundaries (lines) are cut into short pieces
    indexed once in degrees; only the pieces that can be nearest to a geometry are
    projected and measured (:mod:`geo.nearest`). NaN where there are no boundaries.

    Parameters
    ----------
    geoms : array-like of shapely geometries
        Points, patches or any geometry, in ``crs`` (geographic).
    boundaries : array-like of shapely geometries, or SegmentIndex
        LineStrings / MultiLineStrings (e.g. ``shapely.boundary`` of polygons), or their
        :class:`geo.nearest.SegmentIndex` built once for several calls.
    crs : pyproj.CRS
        The geographic CRS of both.

    Returns
    -------
    numpy.ndarray
        Float distances aligned with ``geoms``.

    Examples
    --------
    >>> import shapely
    >>> from geo.crs import CGCS2000
    >>> ring = shapely.boundary(shapely.box(120.0, 30.0, 120.01, 30.01))
    >>> d = boundary_distance(shapely.points([120.005], [30.001]), [ring], crs=CGCS2000)
    >>> round(float(d[0]), 1)
    111.0
    """
    g = _as_array(geoms)
    index = (boundaries if isinstance(boundaries, SegmentIndex)
             else SegmentIndex(_as_array(boundaries)))
    if len(g) == 0 or len(index) == 0:
        return np.full(len(g), np.nan)
    return nearest_line_distance(g, index, crs=crs)
