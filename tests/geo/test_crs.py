"""CRS helpers: Gauss-Krüger detection, swapped columns, GCJ-02 and BD-09 shifts."""

from __future__ import annotations

import cmath
import logging
import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.crs import (
    CGCS2000,
    CHINA_BOUNDS,
    GKDetection,
    ambiguous_lonlat_order,
    as_crs,
    detect_gauss_kruger,
    detect_swapped_lonlat,
    gk6_crs,
    gk6_zone,
    transformer,
)
from geo.errors import CRSError
from geo.shift import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# --- what was there before stays as it was -------------------------------------------------


def test_existing_helpers() -> None:
    assert as_crs("EPSG:4490") == CGCS2000
    assert gk6_zone(np.array([75.0, 126.5, 140.0])).tolist() == [13, 22, 23]
    assert gk6_crs(22).to_epsg() == 4500
    with pytest.raises(CRSError, match="outside China's zones"):
        gk6_crs(30)


# --- swapped longitude / latitude ----------------------------------------------------------


def test_swapped_lonlat_rows() -> None:
    x = np.array([126.5, 43.5, 10.0, np.nan, 73.0])
    y = np.array([43.5, 126.5, 10.0, 43.5, 54.0])
    assert detect_swapped_lonlat(x, y).tolist() == [False, True, False, False, False]


def test_china_bounds_never_fit_both_orders() -> None:
    lon_min, _, _, lat_max = CHINA_BOUNDS
    assert lat_max < lon_min  # so no (x, y) is a plausible point in both orders
    grid = np.linspace(0, 180, 721)
    x, y = np.meshgrid(grid, grid)
    assert not ambiguous_lonlat_order(x.ravel(), y.ravel()).any()


def test_custom_bounds_can_be_ambiguous() -> None:
    bounds = (40.0, 40.0, 50.0, 50.0)
    x, y = np.array([44.0, 44.0]), np.array([46.0, 60.0])
    assert ambiguous_lonlat_order(x, y, bounds=bounds).tolist() == [True, False]
    assert not detect_swapped_lonlat(x, y, bounds=bounds).any()


# --- Gauss-Krüger detection ----------------------------------------------------------------


def test_degrees_are_not_gauss_kruger() -> None:
    assert detect_gauss_kruger([126.5, 43.5], [43.5, 126.5]) is None
    assert detect_gauss_kruger([np.nan], [np.nan]) is None
    assert detect_gauss_kruger([], []) is None


def test_detection_message_and_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="geo.crs"):
        detection = detect_gauss_kruger([42512345.6, np.nan], [4817000.0, np.nan])
    assert detection == GKDetection(
        crs=as_crs(4530),
        zone=42,
        zone_width=3,
        zone_in_easting=True,
        swapped=False,
        message="coordinates look like CGCS2000 Gauss-Krüger 3° zone 42 (EPSG:4530) "
        "with the zone number in the easting",
    )
    assert detection.message in caplog.text


def test_swapped_six_degree_zone() -> None:
    detection = detect_gauss_kruger([4817000.0], [21512345.6])
    assert detection is not None
    assert (detection.crs.to_epsg(), detection.zone, detection.zone_width) == (4499, 21, 6)
    assert detection.swapped
    assert detection.message.endswith("; x and y are swapped (the northing is in the x column)")


def test_without_zone_number_and_without_hint_the_user_must_say() -> None:
    detection = detect_gauss_kruger([512345.6], [4817000.0])
    assert detection is not None
    assert detection.needs_crs
    assert (detection.crs, detection.zone, detection.zone_width) == (None, None, None)
    assert "central meridian cannot be told" in detection.message


def test_without_zone_number_the_hint_picks_the_zone() -> None:
    detection = detect_gauss_kruger([512345.6], [4817000.0], hint_lon=125.6)
    assert detection is not None
    assert (detection.crs.to_epsg(), detection.zone, detection.zone_width) == (4551, 42, 3)
    assert "assuming 3° zone 42 (central meridian 126°E, EPSG:4551)" in detection.message
    six = detect_gauss_kruger([512345.6], [4817000.0], hint_lon=125.6, hint_zone_width=6)
    assert six is not None
    assert (six.crs.to_epsg(), six.zone, six.zone_width) == (4510, 21, 6)


def test_far_south_rows_fitting_both_orders_are_taken_as_easting_first() -> None:
    detection = detect_gauss_kruger([500000.0], [600000.0], hint_lon=112.0)
    assert detection is not None
    assert not detection.swapped


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        ([42512345.6, 41512345.6], [4.8e6, 4.8e6], r"mix several .*zone 41 \(1 row\), zone 42"),
        ([512345.6, 42512345.6], [4.8e6, 4.8e6], r"no zone number \(1 row\), zone 42"),
        ([42512345.6, 126.5], [4.8e6, 43.5], r"1 row in degrees \(e\.g\. x=126\.5, y=43\.5\)"),
        ([42512345.6, 4.8e6], [4.8e6, 42512345.6], "swapped in some rows only"),
        ([24512345.6], [4.8e6], "zone number 24, which is neither"),
        ([50512345.6], [4.8e6], "fit no CGCS2000 Gauss-Krüger zone"),
        ([42512345.6], [8.8e6], "fit no CGCS2000 Gauss-Krüger zone"),
        ([-512345.6], [4.8e6], "fit no CGCS2000 Gauss-Krüger zone"),
        ([2512345.6], [4.8e6], "fit no CGCS2000 Gauss-Krüger zone"),
    ],
)
def test_impossible_coordinates_raise(x: list[float], y: list[float], match: str) -> None:
    with pytest.raises(CRSError, match=match):
        detect_gauss_kruger(x, y)


def test_hint_outside_china_raises() -> None:
    with pytest.raises(CRSError, match=r"hint longitude 10\.0 is outside China"):
        detect_gauss_kruger([512345.6], [4817000.0], hint_lon=10.0)


@st.composite
def _gk_cases(draw: st.DrawFn) -> tuple[int, int, bool, bool, np.ndarray, np.ndarray]:
    width = draw(st.sampled_from([3, 6]))
    zone = draw(st.integers(25, 45) if width == 3 else st.integers(13, 23))
    central = zone * 3 if width == 3 else zone * 6 - 3
    in_easting = draw(st.booleans())
    swapped = draw(st.booleans())
    half = 0.45 * width
    n = draw(st.integers(1, 12))
    lons = draw(st.lists(st.floats(central - half, central + half), min_size=n, max_size=n))
    # South of ~8°N eastings without a zone number also fit as northings: keep clear of that.
    lats = draw(st.lists(st.floats(10.0 if not in_easting else 4.0, 53.5), min_size=n, max_size=n))
    return width, zone, in_easting, swapped, np.array(lons), np.array(lats)


@settings(deadline=None, max_examples=80)
@given(_gk_cases())
def test_gauss_kruger_round_trip(case: tuple[int, int, bool, bool, np.ndarray, np.ndarray]) -> None:
    width, zone, in_easting, swapped, lons, lats = case
    first = {(3, True): 4513 - 25, (6, True): 4491 - 13, (3, False): 4534 - 25}
    first[(6, False)] = 4502 - 13
    epsg = first[(width, in_easting)] + zone
    easting, northing = transformer(CGCS2000, as_crs(epsg)).transform(lons, lats)
    x, y = (northing, easting) if swapped else (easting, northing)
    hint = None if in_easting else float(np.clip(lons.mean(), 73.0, 136.0))

    detection = detect_gauss_kruger(x, y, hint_lon=hint, hint_zone_width=width)  # type: ignore[arg-type]

    assert detection is not None
    assert detection.crs is not None
    assert detection.crs.to_epsg() == epsg
    assert (detection.zone, detection.zone_width) == (zone, width)
    assert (detection.zone_in_easting, detection.swapped) == (in_easting, swapped)
    back_x, back_y = (y, x) if detection.swapped else (x, y)
    lon, lat = transformer(detection.crs, CGCS2000).transform(back_x, back_y)
    np.testing.assert_allclose(lon, lons, atol=1e-8)
    np.testing.assert_allclose(lat, lats, atol=1e-8)


# --- GCJ-02 and BD-09 ----------------------------------------------------------------------

_Convert = Callable[[float, float], tuple[np.ndarray, np.ndarray]]

# googollee/eviltransform test vectors: (WGS84 lat, lon, GCJ-02 lat, lon).
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]
# hujiulong/gcoord unit tests at (123, 45); gcoord checks them to 5 decimals.
GCOORD = [
    (wgs84_to_gcj02, (123.00607541, 45.00197815)),
    (gcj02_to_wgs84, (122.99395597, 44.99804071)),
    (gcj02_to_bd09, (123.00636499, 45.00636899)),
    (bd09_to_gcj02, (122.99363304, 44.99365430)),
    (bd09_to_wgs84, (122.98762210, 44.99171540)),
    (wgs84_to_bd09, (123.0124491, 45.0083293)),
]


def test_published_eviltransform_pairs() -> None:
    wlat, wlon, glat, glon = np.array(EVILTRANSFORM).T
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    np.testing.assert_allclose(lon, glon, atol=1e-9)
    np.testing.assert_allclose(lat, glat, atol=1e-9)
    lon, lat = gcj02_to_wgs84(glon, glat)
    np.testing.assert_allclose(lon, wlon, atol=1e-9)
    np.testing.assert_allclose(lat, wlat, atol=1e-9)


@pytest.mark.parametrize(("convert", "expected"), GCOORD, ids=lambda v: getattr(v, "__name__", ""))
def test_published_gcoord_values(convert: _Convert, expected: tuple[float, float]) -> None:
    lon, lat = convert(123.0, 45.0)
    assert (float(lon), float(lat)) == pytest.approx(expected, abs=5e-6)


# An independent scalar implementation of the published algorithm, written with the radii of
# curvature of the Krasovsky ellipsoid, Newton's method with a numerical Jacobian for the
# inverse and complex numbers for BD-09.
_A, _EE = 6378245.0, 0.00669342162296594323


def _ref_gcj(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    sin, pi = math.sin, math.pi
    ripple = 2 / 3 * (20 * sin(6 * pi * x) + 20 * sin(2 * pi * x))
    north_m = (
        -100 + 2 * x + 3 * y + 0.2 * y**2 + 0.1 * x * y + 0.2 * abs(x) ** 0.5 + ripple
        + 2 / 3 * (20 * sin(pi * y) + 40 * sin(pi * y / 3))
        + 2 / 3 * (160 * sin(pi * y / 12) + 320 * sin(pi * y / 30))
    )  # fmt: skip
    east_m = (
        300 + x + 2 * y + 0.1 * x**2 + 0.1 * x * y + 0.1 * abs(x) ** 0.5 + ripple
        + 2 / 3 * (20 * sin(pi * x) + 40 * sin(pi * x / 3))
        + 2 / 3 * (150 * sin(pi * x / 12) + 300 * sin(pi * x / 30))
    )  # fmt: skip
    phi = math.radians(lat)
    w = 1 - _EE * math.sin(phi) ** 2
    meridian_radius = _A * (1 - _EE) / w**1.5
    normal_radius = _A / math.sqrt(w)
    return (
        lon + math.degrees(east_m / (normal_radius * math.cos(phi))),
        lat + math.degrees(north_m / meridian_radius),
    )


def _ref_newton(
    forward: Callable[[float, float], tuple[float, float]], lon: float, lat: float
) -> tuple[float, float]:
    p = np.array([lon, lat])
    target = np.array([lon, lat])
    h = 1e-6
    for _ in range(10):
        f = np.array(forward(*p)) - target
        jac = np.column_stack(
            [(np.array(forward(*(p + step))) - np.array(forward(*(p - step)))) / (2 * h)
             for step in (np.array([h, 0.0]), np.array([0.0, h]))]
        )  # fmt: skip
        p = p - np.linalg.solve(jac, f)
    return float(p[0]), float(p[1])


def _ref_bd(lon: float, lat: float) -> tuple[float, float]:
    x_pi = math.pi * 3000 / 180
    z = complex(lon, lat)
    radius = abs(z) + 2e-5 * math.sin(lat * x_pi)
    angle = cmath.phase(z) + 3e-6 * math.cos(lon * x_pi)
    bd = cmath.rect(radius, angle) + complex(0.0065, 0.006)
    return bd.real, bd.imag


def test_against_independent_implementation() -> None:
    lons, lats = np.meshgrid(np.linspace(74, 134, 13), np.linspace(4, 53, 11))
    lons, lats = lons.ravel(), lats.ravel()
    expected = np.array([_ref_gcj(a, b) for a, b in zip(lons, lats, strict=True)])
    np.testing.assert_allclose(np.column_stack(wgs84_to_gcj02(lons, lats)), expected, atol=1e-10)
    inverse = np.array([_ref_newton(_ref_gcj, a, b) for a, b in zip(lons, lats, strict=True)])
    np.testing.assert_allclose(np.column_stack(gcj02_to_wgs84(lons, lats)), inverse, atol=1e-10)
    bd = np.array([_ref_bd(a, b) for a, b in zip(lons, lats, strict=True)])
    np.testing.assert_allclose(np.column_stack(gcj02_to_bd09(lons, lats)), bd, atol=1e-10)
    bd_inverse = np.array([_ref_newton(_ref_bd, a, b) for a, b in zip(lons, lats, strict=True)])
    np.testing.assert_allclose(np.column_stack(bd09_to_gcj02(lons, lats)), bd_inverse, atol=1e-10)


def test_outside_china_nothing_moves() -> None:
    lon = np.array([2.35, 183.0, 126.5, np.nan])
    lat = np.array([48.86, 45.0, 60.0, 40.0])
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84, bd09_to_wgs84, wgs84_to_bd09):
        out_lon, out_lat = convert(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


def test_shift_is_hundreds_of_metres_and_broadcasts() -> None:
    lon, lat = wgs84_to_gcj02(np.array([[116.39, 126.5]]), 40.0)
    assert lon.shape == lat.shape == (1, 2)
    east = (lon - [[116.39, 126.5]]) * 111_320 * math.cos(math.radians(40))
    metres = np.hypot(east, (lat - 40) * 110_570)
    assert np.all((metres > 100) & (metres < 1000))


_china = st.tuples(st.floats(73.0, 135.0), st.floats(4.0, 53.5))


@given(st.lists(_china, min_size=1, max_size=20))
def test_gcj02_round_trip(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    # 1e-9° is 0.1 mm: well inside the 1 cm the inverse promises.
    np.testing.assert_allclose(back_lon, lon, atol=1e-9)
    np.testing.assert_allclose(back_lat, lat, atol=1e-9)
    again_lon, again_lat = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    np.testing.assert_allclose(again_lon, lon, atol=1e-9)
    np.testing.assert_allclose(again_lat, lat, atol=1e-9)


@given(st.lists(_china, min_size=1, max_size=20))
def test_bd09_round_trips(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    for forward, backward in ((gcj02_to_bd09, bd09_to_gcj02), (wgs84_to_bd09, bd09_to_wgs84)):
        back_lon, back_lat = backward(*forward(lon, lat))
        np.testing.assert_allclose(back_lon, lon, atol=1e-9)
        np.testing.assert_allclose(back_lat, lat, atol=1e-9)
