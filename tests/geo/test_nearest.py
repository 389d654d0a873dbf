"""Boundary distances from the segment index against the former whole-outline computation."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo import overlay
from geo.crs import CGCS2000, gk6_crs, gk6_zone
from geo.errors import GeometryError
from geo.nearest import PIECE, SegmentIndex


def _reference(geoms, boundaries) -> np.ndarray:
    """The former ``boundary_distance``: every outline projected to each lead's zone."""
    g = np.asarray(geoms, dtype=object)
    b = np.asarray(boundaries, dtype=object)
    out = np.full(len(g), np.nan)
    if len(g) == 0 or len(b) == 0:
        return out
    zones = gk6_zone(shapely.get_x(shapely.centroid(g)))
    for zone in np.unique(zones):
        sel = np.flatnonzero(zones == zone)
        dst = gk6_crs(int(zone))
        tree = shapely.STRtree(overlay.project(b, CGCS2000, dst))
        idx, dist = tree.query_nearest(overlay.project(g[sel], CGCS2000, dst),
                                       return_distance=True, all_matches=False)
        out[sel[idx[0]]] = dist
    return out


def _polygons() -> list[shapely.Geometry]:
    """Around 114°E, on both sides of the zone 19/20 edge: long edges, a hole, a fine ring."""
    circle = shapely.Point(113.2, 33.0).buffer(0.4, quad_segs=400)  # 1,600 short edges
    holed = shapely.box(114.5, 30.0, 116.5, 32.0).difference(shapely.box(115, 30.5, 116, 31.5))
    star = shapely.Polygon([(111.0, 36.0), (112.5, 36.3), (113.9, 35.2), (114.4, 37.1),
                            (112.2, 38.4), (111.4, 37.2)])
    multi = shapely.MultiPolygon([shapely.box(113.6, 28.0, 113.9, 28.3),
                                  shapely.box(114.05, 28.1, 114.3, 28.6)])
    return [circle, holed, star, multi]


def _points(polys, rng: np.random.Generator) -> np.ndarray:
    """Points inside, outside, far away, on edges and near vertices."""
    bounds = np.asarray(shapely.total_bounds(polys))
    scatter = np.column_stack([rng.uniform(bounds[0] - 1, bounds[2] + 1, 300),
                               rng.uniform(bounds[1] - 1, bounds[3] + 1, 300)])
    rings = shapely.boundary(np.asarray(polys, dtype=object))
    verts = shapely.get_coordinates(rings)
    near = verts[rng.choice(len(verts), 100)] + rng.normal(0, 1e-4, (100, 2))
    exact_vertices = verts[rng.choice(len(verts), 30)]
    on_edges = shapely.get_coordinates(shapely.line_interpolate_point(
        rings[rng.integers(0, len(rings), 60)], rng.uniform(0, 1, 60), normalized=True))
    far = np.array([[100.0, 20.0], [125.0, 45.0], [114.0, 33.0]])  # 113.9-114.1: zone edge
    xy = np.vstack([scatter, near, exact_vertices, on_edges, far])
    return shapely.points(xy)


def test_points_match_the_former_implementation_within_a_centimetre():
    polys = _polygons()
    pts = _points(polys, np.random.default_rng(7))
    bounds = shapely.boundary(np.asarray(polys, dtype=object))
    zones = set(gk6_zone(shapely.get_x(pts)).tolist())
    assert {19, 20} <= zones
    got = overlay.boundary_distance(pts, bounds, crs=CGCS2000)
    expected = _reference(pts, bounds)
    np.testing.assert_allclose(got, expected, rtol=0, atol=0.01)
    assert (got == 0).sum() >= 30  # the points on vertices and edges


def test_patches_and_lines_match_the_former_implementation():
    polys = _polygons()
    rng = np.random.default_rng(3)
    centres = shapely.get_coordinates(_points(polys, rng))[::5]
    size = rng.uniform(1e-4, 2e-2, len(centres))
    patches = shapely.box(centres[:, 0] - size, centres[:, 1] - size, centres[:, 0] + size,
                          centres[:, 1] + size)
    lines = shapely.linestrings([[(113.0, 29.0), (113.95, 29.2)], [(114.2, 34.0), (115.0, 34.5)]])
    geoms = np.concatenate([patches, lines])
    bounds = shapely.boundary(np.asarray(polys, dtype=object))
    got = overlay.boundary_distance(geoms, bounds, crs=CGCS2000)
    np.testing.assert_allclose(got, _reference(geoms, bounds), rtol=0, atol=0.01)


def test_missing_and_empty_geometries_are_nan_and_others_unaffected():
    bounds = shapely.boundary(np.asarray(_polygons(), dtype=object))
    geoms = np.array([None, shapely.Point(), shapely.Point(113.2, 33.0)], dtype=object)
    got = overlay.boundary_distance(geoms, bounds, crs=CGCS2000)
    assert np.isnan(got[:2]).all()
    assert got[2] == pytest.approx(_reference(geoms[2:], bounds)[0], abs=0.01)


def test_empty_boundaries_give_nan():
    got = overlay.boundary_distance(shapely.points([114.0], [30.0]),
                                    [shapely.LineString(), None], crs=CGCS2000)
    assert np.isnan(got).all()


def test_pieces_cover_every_segment_once():
    ring = shapely.boundary(shapely.Point(113.2, 33.0).buffer(0.4, quad_segs=10))
    line = shapely.LineString([(0, 0), (1, 0), (1, 1)])
    index = SegmentIndex(np.array([ring, line], dtype=object))
    assert len(index.a) == 40 + 2
    assert index.count.max() <= PIECE
    assert index.count.sum() == len(index.a)
    pieces = index.all_pieces(index.xy[:, 0], index.xy[:, 1])
    assert shapely.length(pieces).sum() == pytest.approx(ring.length + line.length)
    grown = shapely.bounds(pieces) + np.array([-1, -1, 1, 1]) * index.margin[:, None]
    np.testing.assert_array_equal(index.bounds, grown)


def test_polygons_are_refused_as_lines():
    with pytest.raises(GeometryError, match="boundaries"):
        SegmentIndex(np.array([shapely.box(0, 0, 1, 1)], dtype=object))


def test_an_index_built_once_gives_the_same_distances():
    bounds = shapely.boundary(np.asarray(_polygons(), dtype=object))
    pts = _points(_polygons(), np.random.default_rng(11))
    index = SegmentIndex(bounds)
    first = overlay.boundary_distance(pts[:200], index, crs=CGCS2000)
    second = overlay.boundary_distance(pts[200:], index, crs=CGCS2000)
    np.testing.assert_array_equal(np.concatenate([first, second]),
                                  overlay.boundary_distance(pts, bounds, crs=CGCS2000))
