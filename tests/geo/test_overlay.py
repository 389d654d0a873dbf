"""The overlay engine against brute force: exact on edges, vertices, holes and overlaps."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from geo import overlay
from geo._grid import PolygonGrid
from geo._predicates import orient_sign
from geo.crs import CGCS2000, gk6_crs, gk6_zone

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
X0, Y0 = 120.0, 30.0  # coordinates of the size of China's, on a binary lattice
LATTICE = 1 / 16


def brute_pairs(geoms, polygons) -> tuple[np.ndarray, np.ndarray]:
    g = np.asarray(geoms, dtype=object)
    p = np.asarray(polygons, dtype=object)
    if not len(g) or not len(p):
        return np.empty(0, dtype=int), np.empty(0, dtype=int)
    hit = shapely.intersects(g[:, None], p[None, :])
    i, j = np.nonzero(hit)
    return i, j


def assert_same_pairs(got, expected):
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


# -- strategies --------------------------------------------------------------------------

def _lattice(draw, lo: int, hi: int) -> float:
    return draw(st.integers(lo, hi)) * LATTICE


@st.composite
def star(draw, cx: float, cy: float, r: float) -> shapely.Polygon:
    """A star-shaped (so simple) polygon around (cx, cy), vertices on the lattice or not."""
    k = draw(st.integers(3, 12))
    angles = np.sort(np.array(draw(st.lists(st.floats(0, 2 * math.pi, exclude_max=True),
                                             min_size=k, max_size=k, unique=True))))
    radii = np.array(draw(st.lists(st.floats(0.2 * r, r), min_size=k, max_size=k)))
    x, y = cx + radii * np.cos(angles), cy + radii * np.sin(angles)
    if draw(st.booleans()):
        x, y = np.round(x / LATTICE) * LATTICE, np.round(y / LATTICE) * LATTICE
    poly = shapely.Polygon(np.column_stack([x, y]))
    assume(poly.is_valid and poly.area > 0)
    return poly


@st.composite
def polygon(draw) -> shapely.Geometry:
    """A valid polygon near (X0, Y0): box with or without a hole, star, or multipolygon."""
    kind = draw(st.sampled_from(["box", "holed", "star", "multi"]))
    x, y = X0 + _lattice(draw, -40, 40), Y0 + _lattice(draw, -40, 40)
    w, h = _lattice(draw, 2, 40), _lattice(draw, 2, 40)
    if kind == "box":
        return shapely.box(x, y, x + w, y + h)
    if kind == "holed":
        w, h = max(w, 4 * LATTICE), max(h, 4 * LATTICE)
        hole = shapely.box(x + LATTICE, y + LATTICE, x + w - LATTICE, y + h - LATTICE)
        return shapely.box(x, y, x + w, y + h).difference(hole)
    if kind == "star":
        return draw(star(x, y, max(w, h)))
    a = draw(star(x, y, 1.0))
    b = draw(star(x + 3.0, y + draw(st.floats(-2, 2)), 1.0))
    return shapely.MultiPolygon([a, b])


def points_for(draw, polys: list) -> np.ndarray:
    """Random points, lattice points, vertices, edge midpoints and interpolated points."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    xmin, ymin, xmax, ymax = shapely.total_bounds(polys)
    xmin, ymin, xmax, ymax = xmin - 0.5, ymin - 0.5, xmax + 0.5, ymax + 0.5
    pts = [shapely.points(rng.uniform(xmin, xmax, 80), rng.uniform(ymin, ymax, 80)),
           shapely.points(np.round(rng.uniform(xmin, xmax, 80) / LATTICE) * LATTICE,
                          np.round(rng.uniform(ymin, ymax, 80) / LATTICE) * LATTICE)]
    xy = shapely.get_coordinates(polys)
    pts.append(shapely.points(xy[rng.integers(0, len(xy), 40)]))
    mid = (xy[:-1] + xy[1:]) / 2
    pts.append(shapely.points(mid[rng.integers(0, len(mid), 40)]))
    lines = shapely.boundary(np.asarray(polys, dtype=object))
    pick = lines[rng.integers(0, len(lines), 40)]
    pts.append(shapely.line_interpolate_point(pick, rng.uniform(0, 1, 40), normalized=True))
    return np.concatenate(pts)


@st.composite
def scene(draw) -> tuple[np.ndarray, np.ndarray]:
    polys = draw(st.lists(polygon(), min_size=1, max_size=6))
    return points_for(draw, polys), np.asarray(polys, dtype=object)


# -- intersects_pairs ---------------------------------------------------------------------

@SETTINGS
@given(scene())
def test_points_match_brute_force(data):
    pts, polys = data
    assert_same_pairs(overlay.intersects_pairs(pts, polys), brute_pairs(pts, polys))


@SETTINGS
@given(scene(), st.sampled_from([64, 500, 20_000]))
def test_grid_resolution_does_not_change_the_answer(data, cells):
    # coarse grids put many edges per cell; fine ones spread edges over many cells
    pts, polys = data
    xy = shapely.get_coordinates(pts)
    got = PolygonGrid(polys, cells=cells, workers=2).query_points(xy[:, 0], xy[:, 1])
    assert_same_pairs(got, brute_pairs(pts, polys))


@SETTINGS
@given(scene(), st.sampled_from([64, 500, 20_000]))
def test_cell_entries_are_grouped_by_polygon(data, cells):
    # the query tests a polygon once per cell, with all its edges there: its entries in a
    # cell must be contiguous, in polygon order
    _, polys = data
    grid = PolygonGrid(polys, cells=cells, workers=2)
    cstart, cpoly, _ = grid._cells()
    for c in np.flatnonzero(np.diff(cstart) > 1):
        run = cpoly[cstart[c]:cstart[c + 1]]
        assert np.all(np.diff(run) >= 0), (c, run)


def test_points_on_edges_vertices_and_in_holes():
    shell = shapely.box(X0, Y0, X0 + 4, Y0 + 4)
    holed = shell.difference(shapely.box(X0 + 1, Y0 + 1, X0 + 3, Y0 + 3))
    tri = shapely.Polygon([(X0 + 4, Y0), (X0 + 8, Y0), (X0 + 4, Y0 + 4)])
    pts = shapely.points([
        (X0 + 2, Y0 + 2),      # in the hole: nothing
        (X0 + 1, Y0 + 2),      # on the hole's edge: the holed square
        (X0 + 1, Y0 + 1),      # on the hole's vertex
        (X0 + 4, Y0 + 2),      # on the edge shared by both
        (X0 + 4, Y0),          # on a vertex shared by both
        (X0 + 6, Y0 + 2),      # on the triangle's hypotenuse (exactly representable)
        (X0 + 6, Y0 + 2.0000001),  # just outside it
        (X0 + 9, Y0 + 9),      # outside everything
    ])
    i, j = overlay.intersects_pairs(pts, [holed, tri])
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == [
        (1, 0), (2, 0), (3, 0), (3, 1), (4, 0), (4, 1), (5, 1)]
    assert_same_pairs((i, j), brute_pairs(pts, [holed, tri]))


def test_overlapping_polygons_all_match():
    rng = np.random.default_rng(1)
    polys = [shapely.box(X0 + a, Y0 + b, X0 + a + 3, Y0 + b + 2)
             for a, b in rng.uniform(0, 2, (12, 2))]
    pts = shapely.points(rng.uniform(X0 - 1, X0 + 6, 3000), rng.uniform(Y0 - 1, Y0 + 5, 3000))
    got = overlay.intersects_pairs(pts, polys)
    assert_same_pairs(got, brute_pairs(pts, polys))
    assert np.bincount(got[0]).max() >= 5  # some point lies in many of them


@pytest.mark.parametrize("cells", [64, 4096, 100_000])
def test_nested_polygons_like_province_city_county_all_match(cells):
    # every cell centre lies in several polygons: the cells list them
    rng = np.random.default_rng(11)
    province = shapely.Point(X0, Y0).buffer(4.0, quad_segs=32)
    cities = [shapely.Point(X0 + dx, Y0 + dy).buffer(1.8, quad_segs=16)
              for dx, dy in ((-1.5, 0), (1.5, 0))]
    counties = [shapely.box(X0 + a, Y0 + b, X0 + a + 1, Y0 + b + 1)
                for a in (-2.5, -1.5, 0.5, 1.5) for b in (-0.5, 0.5)]
    holed = shapely.box(X0 - 3, Y0 - 3, X0 + 3, Y0 + 3).difference(
        shapely.box(X0 - 1, Y0 - 1, X0 + 1, Y0 + 1))
    polys = np.array([province, *cities, *counties, holed], dtype=object)
    xy = np.column_stack([rng.uniform(X0 - 5, X0 + 5, 20_000),
                          rng.uniform(Y0 - 5, Y0 + 5, 20_000)])
    pts = np.concatenate([shapely.points(xy), shapely.points(shapely.get_coordinates(polys))])
    xy = shapely.get_coordinates(pts)
    got = PolygonGrid(polys, cells=cells, workers=2).query_points(xy[:, 0], xy[:, 1])
    assert_same_pairs(got, brute_pairs(pts, polys))
    assert np.bincount(got[0]).max() >= 4


def test_many_points_use_both_threads_and_stay_exact():
    rng = np.random.default_rng(2)
    polys = [shapely.Point(X0 + 3 * k, Y0).buffer(1.4, quad_segs=64) for k in range(8)]
    on_edges = shapely.line_interpolate_point(
        shapely.boundary(np.asarray(polys, dtype=object))[rng.integers(0, 8, 5000)],
        rng.uniform(0, 1, 5000), normalized=True)
    pts = np.concatenate([
        shapely.points(rng.uniform(X0 - 2, X0 + 24, 120_000), rng.uniform(Y0 - 2, Y0 + 2,
                                                                           120_000)),
        on_edges, shapely.points(shapely.get_coordinates(polys))])
    assert_same_pairs(overlay.intersects_pairs(pts, polys), brute_pairs(pts, polys))


@pytest.mark.parametrize("x0, y0, scale", [(500_000.0, 4_800_000.0, 10_000.0),
                                            (-73.9, -40.2, 0.05)])
def test_projected_and_negative_coordinates_with_long_diagonal_edges(x0, y0, scale):
    rng = np.random.default_rng(3)
    ring = [(x0, y0), (x0 + 9 * scale, y0 + 1 * scale), (x0 + 5 * scale, y0 + 7 * scale)]
    hole = [(x0 + 5 * scale, y0 + 3 * scale), (x0 + 6 * scale, y0 + 3 * scale),
            (x0 + 5.5 * scale, y0 + 4 * scale)]
    polys = [shapely.Polygon(ring, [hole]), shapely.box(x0, y0, x0 + 3 * scale, y0 + 3 * scale)]
    pts = np.concatenate([
        shapely.points(rng.uniform(x0 - scale, x0 + 10 * scale, 4000),
                       rng.uniform(y0 - scale, y0 + 8 * scale, 4000)),
        shapely.line_interpolate_point(shapely.boundary(polys[0]), rng.uniform(0, 1, 500),
                                       normalized=True),
        shapely.points(shapely.get_coordinates(polys))])
    for cells in (64, 4096, 200_000):
        xy = shapely.get_coordinates(pts)
        got = PolygonGrid(np.asarray(polys, dtype=object), cells=cells).query_points(
            xy[:, 0], xy[:, 1])
        assert_same_pairs(got, brute_pairs(pts, polys))


@pytest.mark.parametrize("scale", [1e-95, 1e95])
def test_coordinates_of_extreme_magnitude_are_decided_by_geos(scale):
    # orient's exact sum covers magnitudes in [2**-300, 2**300]; beyond, GEOS decides
    tri = shapely.Polygon([(0, 0), (4 * scale, 0), (0, 4 * scale)])
    near = np.array([(1, 1), (2, 2), (2, 2.0000000001), (3, 0), (-1, 1), (0.5, 3.5)])
    pts = shapely.points(near * scale)
    polys = np.array([tri, shapely.box(-2, -2, 2, 2)], dtype=object)  # an ordinary one too
    xy = shapely.get_coordinates(pts)
    got = PolygonGrid(polys, cells=64).query_points(xy[:, 0], xy[:, 1])
    assert_same_pairs(got, brute_pairs(pts, polys))
    # only the points are extreme: the grid settles the rest
    mixed = np.concatenate([shapely.points([(1e-200, 1e-200), (5, 5), (-1e-200, 3)]),
                            shapely.points(np.random.default_rng(5).uniform(-3, 3, (500, 2)))])
    xy = shapely.get_coordinates(mixed)
    plain = np.array([shapely.box(-2, -2, 2, 2), shapely.box(0, 0, 1, 1)], dtype=object)
    got = PolygonGrid(plain, cells=256).query_points(xy[:, 0], xy[:, 1])
    assert_same_pairs(got, brute_pairs(mixed, plain))


def test_few_points_against_many_vertices_use_prepared_polygons_and_leave_them_unprepared():
    rng = np.random.default_rng(4)
    circles = np.array([shapely.Point(X0 + 2 * k, Y0).buffer(1.5, quad_segs=256)
                        for k in range(3)], dtype=object)
    xy = shapely.get_coordinates(circles)
    pts = np.concatenate([shapely.points(xy[rng.integers(0, len(xy), 4)]),
                          shapely.points([X0 + 1, X0 + 9], [Y0, Y0]), [None, shapely.Point()]])
    assert len(pts) * 100 < len(xy)  # the prepared STRtree path
    assert_same_pairs(overlay.intersects_pairs(pts, circles),
                      brute_pairs(pts[:6], circles))
    assert not shapely.is_prepared(circles).any()


def test_mixed_left_side_and_missing_geometries():
    sq = shapely.box(X0, Y0, X0 + 1, Y0 + 1)
    left = [
        shapely.Point(X0 + 0.5, Y0 + 0.5),
        None,
        shapely.Point(),
        shapely.box(X0 + 0.9, Y0 + 0.9, X0 + 2, Y0 + 2),  # patch overlapping the corner
        shapely.box(X0 + 1, Y0 + 1, X0 + 2, Y0 + 2),  # patch touching at a vertex
        shapely.LineString([(X0 - 1, Y0 + 0.5), (X0 - 0.5, Y0 + 0.5)]),
        shapely.MultiPoint([(X0 - 1, Y0), (X0 + 1, Y0)]),
        shapely.Point(np.nan, np.nan),
    ]
    right = [sq, None, shapely.Polygon(), shapely.LineString([(X0, Y0 + 0.5),
                                                              (X0 + 1, Y0 + 0.5)])]
    got = overlay.intersects_pairs(left, right)
    assert list(zip(got[0].tolist(), got[1].tolist(), strict=True)) == [
        (0, 0), (0, 3), (3, 0), (4, 0), (6, 0)]
    empty = overlay.intersects_pairs([], right)
    assert len(empty[0]) == len(empty[1]) == 0


@SETTINGS
@given(st.lists(polygon(), min_size=1, max_size=4), st.integers(0, 2**32 - 1))
def test_patches_match_brute_force(polys, seed):
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = shapely.total_bounds(polys)
    x = np.round(rng.uniform(xmin - 1, xmax, 20) / LATTICE) * LATTICE
    y = np.round(rng.uniform(ymin - 1, ymax, 20) / LATTICE) * LATTICE
    patches = shapely.box(x, y, x + rng.integers(1, 16, 20) * LATTICE,
                          y + rng.integers(1, 16, 20) * LATTICE)
    assert_same_pairs(overlay.intersects_pairs(patches, polys), brute_pairs(patches, polys))


# -- winners, shares, distances -----------------------------------------------------------

@SETTINGS
@given(scene(), st.integers(0, 2**32 - 1))
def test_winners_pick_highest_priority_then_lowest_index(data, seed):
    pts, polys = data
    prio = np.random.default_rng(seed).integers(0, 3, len(polys))
    left, right = overlay.intersects_pairs(pts, polys)
    win = overlay.winners(len(pts), left, right, prio)
    hit = shapely.intersects(pts[:, None], polys[None, :])
    for i in range(len(pts)):
        js = np.flatnonzero(hit[i])
        expected = min(js, key=lambda j: (-prio[j], j)) if len(js) else -1
        assert win[i] == expected


@SETTINGS
@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_area_shares_of_a_patch_over_tiling_polygons_sum_to_one(nx, ny, seed):
    rng = np.random.default_rng(seed)
    xs = np.sort(rng.uniform(0, 1, nx - 1)) if nx > 1 else np.empty(0)
    ys = np.sort(rng.uniform(0, 1, ny - 1)) if ny > 1 else np.empty(0)
    gx = X0 + 0.1 * np.concatenate([[0], xs, [1]])
    gy = Y0 + 0.1 * np.concatenate([[0], ys, [1]])
    tiles = [shapely.box(gx[a], gy[b], gx[a + 1], gy[b + 1])
             for a in range(nx) for b in range(ny)]
    patch = shapely.box(X0 + 0.1 * rng.uniform(0, 0.5), Y0 + 0.1 * rng.uniform(0, 0.5),
                        X0 + 0.1 * rng.uniform(0.5, 1), Y0 + 0.1 * rng.uniform(0.5, 1))
    left, right = overlay.intersects_pairs([patch], tiles)
    area, share = overlay.area_shares([patch], tiles, left, right, crs=CGCS2000)
    assert share.sum() == pytest.approx(1.0, abs=1e-9)
    assert (share >= 0).all() and (share <= 1).all()
    assert area.sum() > 0


def test_area_shares_of_points_are_one():
    pts = shapely.points([X0 + 0.5], [Y0 + 0.5])
    sq = [shapely.box(X0, Y0, X0 + 1, Y0 + 1)]
    left, right = overlay.intersects_pairs(pts, sq)
    area, share = overlay.area_shares(pts, sq, left, right, crs=CGCS2000)
    assert share.tolist() == [1.0] and area.tolist() == [0.0]



def test_area_shares_of_mixed_points_and_patches_match_intersecting_everything():
    rng = np.random.default_rng(5)
    tiles = [shapely.box(X0 + a * 0.05, Y0 + b * 0.05, X0 + (a + 1) * 0.05, Y0 + (b + 1) * 0.05)
             for a in range(4) for b in range(4)]
    pts = shapely.points(rng.uniform(X0, X0 + 0.2, 50), rng.uniform(Y0, Y0 + 0.2, 50))
    c = rng.uniform(X0, X0 + 0.2, (30, 2))
    patches = shapely.box(c[:, 0], c[:, 1], c[:, 0] + 0.03, c[:, 1] + 0.02)
    geoms = np.concatenate([pts, patches])[rng.permutation(80)]
    left, right = overlay.intersects_pairs(geoms, tiles)
    area, share = overlay.area_shares(geoms, tiles, left, right, crs=CGCS2000)
    g_ea = overlay.project(geoms, CGCS2000, overlay.CHINA_ALBERS)
    t_ea = overlay.project(np.asarray(tiles, dtype=object), CGCS2000, overlay.CHINA_ALBERS)
    expected = shapely.area(shapely.intersection(g_ea[left], t_ea[right]))
    whole = shapely.area(g_ea[left])
    np.testing.assert_array_equal(area, expected)
    np.testing.assert_array_equal(share, np.where(whole > 0, np.clip(
        expected / np.where(whole > 0, whole, 1), 0, 1), 1.0))
    assert (share[shapely.get_type_id(geoms[left]) == 0] == 1).all()

@SETTINGS
@given(st.lists(polygon(), min_size=1, max_size=4), st.integers(0, 2**32 - 1))
def test_boundary_distance_matches_a_direct_computation(polys, seed):
    rng = np.random.default_rng(seed)
    pts = shapely.points(rng.uniform(X0 - 4, X0 + 4, 15), rng.uniform(Y0 - 4, Y0 + 4, 15))
    bounds = shapely.boundary(np.asarray(polys, dtype=object))
    got = overlay.boundary_distance(pts, bounds, crs=CGCS2000)
    for k, p in enumerate(pts):
        dst = gk6_crs(int(gk6_zone(np.array([p.x]))[0]))
        p_m = overlay.project(np.array([p]), CGCS2000, dst)[0]
        b_m = overlay.project(bounds, CGCS2000, dst)
        assert got[k] == pytest.approx(min(shapely.distance(p_m, b_m)), rel=1e-9, abs=1e-6)


def test_boundary_distance_without_boundaries_is_nan():
    got = overlay.boundary_distance(shapely.points([X0], [Y0]), [], crs=CGCS2000)
    assert np.isnan(got).all()


# -- the predicate ------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.floats(-180, 180), st.floats(-90, 90), st.floats(-180, 180), st.floats(-90, 90),
       st.floats(0, 1))
def test_orientation_is_exact_on_points_interpolated_along_a_segment(ax, ay, bx, by, t):
    from fractions import Fraction

    cx, cy = ax + t * (bx - ax), ay + t * (by - ay)  # rounded: on, left or right of a -> b
    exact = (Fraction(bx) - Fraction(ax)) * (Fraction(cy) - Fraction(ay)) - (
        Fraction(by) - Fraction(ay)) * (Fraction(cx) - Fraction(ax))
    got = orient_sign(*(np.array([v]) for v in (ax, ay, bx, by, cx, cy)))
    assert got[0] == (exact > 0) - (exact < 0)


COORD = st.one_of(st.floats(70, 140), st.floats(-1e6, 1e7), st.floats(-1, 1),
                  st.floats(2.0**-300, 2.0**-250), st.just(0.0))


@settings(max_examples=400, deadline=None)
@given(COORD, COORD, COORD, COORD, st.floats(0, 1), st.integers(-2, 2))
def test_exact_orientation_sum_matches_rationals(ax, ay, bx, by, t, ulps):
    # the error-free sum alone, without the float filter that settles most cases
    from fractions import Fraction

    from geo._exact import _orient_exact

    cx, cy = ax + t * (bx - ax), ay + t * (by - ay)  # on the line, up to rounding
    for _ in range(abs(ulps)):
        cx = float(np.nextafter(cx, np.inf * ulps))
    assume(all(v == 0 or 2.0**-300 <= abs(v) <= 2.0**300 for v in (ax, ay, bx, by, cx, cy)))
    exact = (Fraction(ax) - Fraction(cx)) * (Fraction(by) - Fraction(cy)) - (
        Fraction(ay) - Fraction(cy)) * (Fraction(bx) - Fraction(cx))
    assert _orient_exact(ax, ay, bx, by, cx, cy) == (exact > 0) - (exact < 0)


def test_ring_ends_of_a_ring_through_its_own_start_follow_geos():
    # invalid (self-touching at its first vertex): the scan would cut it in two; the ring
    # structure says one ring of seven coordinates
    from geo._segments import ring_ends

    eight = shapely.Polygon([(0, 0), (2, 0), (2, 2), (0, 0), (-2, 2), (-2, 0), (0, 0)])
    square = shapely.box(5, 5, 6, 6)
    polys = np.array([eight, square], dtype=object)
    xy = shapely.get_coordinates(polys)
    mask = ring_ends(polys, xy, shapely.get_num_coordinates(polys))
    assert np.flatnonzero(mask).tolist() == [6, 11]


def test_small_patches_in_and_across_many_vertex_polygons_match_the_whole_overlay():
    """clip_pairs: a patch inside its polygon takes its whole area, a crossing one the
    intersection with the polygon's local piece; both equal the overlay with the whole
    projected polygon."""
    rng = np.random.default_rng(11)
    discs = [shapely.Point(X0 + 0.3 * k, Y0).buffer(0.2, quad_segs=400) for k in range(3)]
    discs[1] = discs[1].difference(shapely.Point(X0 + 0.3, Y0).buffer(0.05, quad_segs=100))
    c = np.column_stack([rng.uniform(X0 - 0.25, X0 + 0.85, 400),
                         rng.uniform(Y0 - 0.25, Y0 + 0.25, 400)])
    size = rng.uniform(0.001, 0.02, 400)
    patches = shapely.buffer(shapely.points(c), size, quad_segs=4)
    left, right = overlay.intersects_pairs(patches, discs)
    inside, pieces = overlay.clip_pairs(patches, discs, left, right, margin=1e-4)
    assert inside.any() and (~inside).any()
    np.testing.assert_array_equal(
        inside, shapely.contains_properly(np.asarray(discs, dtype=object)[right],
                                          patches[left]))
    assert all(p is None for p in pieces[inside])
    assert (shapely.get_num_coordinates(pieces[~inside]) < 1600).all()  # local, not whole
    area, share = overlay.area_shares(patches, discs, left, right, crs=CGCS2000)
    g_ea = overlay.project(patches, CGCS2000, overlay.CHINA_ALBERS)
    d_ea = overlay.project(np.asarray(discs, dtype=object), CGCS2000, overlay.CHINA_ALBERS)
    expected = shapely.area(shapely.intersection(g_ea[left], d_ea[right]))
    np.testing.assert_allclose(area, expected, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(share, np.clip(expected / shapely.area(g_ea[left]), 0, 1),
                               rtol=1e-9, atol=1e-12)
