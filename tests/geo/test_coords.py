"""Numbers and coordinates as typed in lead sheets: decimal commas, DMS, hemispheres."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.coords import format_dms, parse_coordinates, parse_coordinates_detail, parse_numbers

ARCSECOND = 1.0 / 3600.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("126.5", 126.5),
        ("126,5", 126.5),
        (" 126,5 ", 126.5),
        ("１２６．５", 126.5),  # full-width digits and point
        ("１２６，５", 126.5),  # full-width comma
        ("－４５，５", -45.5),
        ("−45.5", -45.5),  # U+2212 minus sign
        ("+45.5", 45.5),
        ("0,123", 0.123),  # "0" never starts a thousands group
        ("1234,567", 1234.567),  # four digits before the comma: no grouping
        ("12,3456", 12.3456),
        (",5", 0.5),
        (".5", 0.5),
        ("1,234,567", 1234567.0),
        ("1,234,567.5", 1234567.5),
        ("1.234.567,5", 1234567.5),
        ("1 234 567,5", 1234567.5),
        ("1 234", 1234.0),
        ("42 512 345.67", 42512345.67),
        ("4.25E+07", 42500000.0),
        (7, 7.0),
        (7.25, 7.25),
        (np.float32(1.5), 1.5),
    ],
)
def test_parse_numbers_reads_what_people_type(text: object, expected: float) -> None:
    values, ok = parse_numbers([text])
    assert ok.tolist() == [True]
    assert values[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "text",
    ["1,234", "126,500", "", "   ", "x", "1.2.3", "1,23,4", "1 23", "nan", "inf", "1,234,5", "--1"],
)
def test_parse_numbers_rejects_ambiguous_and_garbage(text: str) -> None:
    values, ok = parse_numbers([text])
    assert ok.tolist() == [False]
    assert math.isnan(values[0])


@pytest.mark.parametrize("value", [None, True, np.bool_(False), float("nan"), object(), b"12"])
def test_parse_numbers_rejects_non_numbers(value: object) -> None:
    assert parse_numbers([value])[1].tolist() == [False]


def test_decimal_comma_option_settles_the_ambiguous_cases() -> None:
    texts = ["1,234", "126,5", "1,234,567", "1,234.5"]
    as_decimal, ok_decimal = parse_numbers(texts, decimal_comma=True)
    assert ok_decimal.tolist() == [True, True, False, False]
    assert as_decimal[:2].tolist() == [1.234, 126.5]
    as_thousands, ok_thousands = parse_numbers(texts, decimal_comma=False)
    assert ok_thousands.tolist() == [True, False, True, True]
    assert as_thousands[[0, 2, 3]].tolist() == [1234.0, 1234567.0, 1234.5]


def test_numeric_arrays_take_the_fast_path() -> None:
    values, ok = parse_numbers(np.array([1, 2, 3], dtype="int32"))
    assert values.dtype == np.float64
    assert values.tolist() == [1.0, 2.0, 3.0]
    assert ok.all()
    values, ok = parse_numbers(np.array([1.5, np.nan]))
    assert ok.tolist() == [True, False]


@given(
    whole=st.integers(min_value=0, max_value=10**7),
    frac=st.text(alphabet="0123456789", min_size=1, max_size=6),
)
def test_decimal_comma_round_trip(whole: int, frac: str) -> None:
    values, ok = parse_numbers([f"{whole},{frac}", f"-{whole},{frac}"])
    ambiguous = 1 <= whole <= 999 and len(frac) == 3  # "1,234": thousands or decimal?
    expected = float(f"{whole}.{frac}")
    if ambiguous:
        assert not ok.any()
        values, ok = parse_numbers([f"{whole},{frac}"], decimal_comma=True)
        assert values.tolist() == [expected]
    else:
        assert ok.all()
        assert values.tolist() == [expected, -expected]


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_thousands_separators_round_trip(value: float) -> None:
    english = f"{value:,.2f}"  # 1,234,567.89
    french = english.replace(",", " ").replace(".", ",")  # 1 234 567,89
    values, ok = parse_numbers([english, french])
    assert ok.all()
    assert values.tolist() == [float(f"{value:.2f}")] * 2


# --- coordinates ---------------------------------------------------------------------------

DMS_126 = 126 + 30 / 60 + 15.2 / 3600


@pytest.mark.parametrize(
    ("text", "expected", "dms"),
    [
        ("126°30'15.2\"E", DMS_126, True),
        ("126°30′15.2″", DMS_126, True),
        ("126° 30′ 15.2″ E", DMS_126, True),
        ("126 30 15.2", DMS_126, True),
        ("126:30:15.2", DMS_126, True),
        ("126度30分15.2秒", DMS_126, True),
        ("東經126度30分15.2秒", DMS_126, True),
        ("E126°30'15.2\"", DMS_126, True),
        ("126°30'15,2\"", DMS_126, True),  # decimal comma in the seconds
        ("126°30'15.2''", DMS_126, True),  # two apostrophes for seconds
        ("126º30'15.2\"", DMS_126, True),  # masculine ordinal for the degree sign
        ("１２６°３０′１５．２″", DMS_126, True),
        ("东经126°30'", 126.5, True),
        ("126°30.5'", 126 + 30.5 / 60, True),
        ("126 30", 126.5, True),
        ("西经73°30'", -73.5, True),
        ("W 73°30'", -73.5, True),
        ("73°30'w", -73.5, True),
        ("-73°30'", -73.5, True),
        ("-0°30'", -0.5, True),  # the sign belongs to the whole value, not the degrees
        ("126.5°", 126.5, False),
        ("126.5E", 126.5, False),
        ("东经 126,5", 126.5, False),
        ("126.5", 126.5, False),
        ("126,5", 126.5, False),
        ("42512345.67", 42512345.67, False),  # projected: returned unchanged
        ("42 512 345,67", 42512345.67, False),
        (126.5, 126.5, False),
    ],
)
def test_parse_longitudes(text: object, expected: float, dms: bool) -> None:
    parsed = parse_coordinates_detail([text], axis="x")
    assert parsed.ok.tolist() == [True]
    assert parsed.values[0] == pytest.approx(expected, abs=1e-12)
    assert parsed.dms.tolist() == [dms]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("43°30'N", 43.5),
        ("北纬43°30′", 43.5),
        ("南纬33°52'", -(33 + 52 / 60)),
        ("S33°52'", -(33 + 52 / 60)),
        ("N:43.5", 43.5),
        ("43:30:00", 43.5),
        ("4812345.6", 4812345.6),
    ],
)
def test_parse_latitudes(text: str, expected: float) -> None:
    values, ok = parse_coordinates([text], axis="y")
    assert ok.tolist() == [True]
    assert values[0] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    "text",
    [
        "126°60'",  # minutes >= 60
        "126°30'60\"",  # seconds >= 60
        "126 30 60",
        "126:75",
        "126.5°30'",  # fraction before a finer unit
        "126°30.5'15\"",
        "181°",  # beyond 180 in DMS
        "200E",  # beyond 180 with a hemisphere
        "42512345.67E",
        "-126.5E",  # sign and hemisphere together
        "E126.5W",
        "E",
        "东经",
        "",
        "abc",
        "1,234",  # ambiguous thousands
        None,
    ],
)
def test_parse_longitudes_rejects(text: object) -> None:
    values, ok = parse_coordinates([text], axis="x")
    assert ok.tolist() == [False]
    assert math.isnan(values[0])


def test_latitude_in_the_longitude_column_is_flagged() -> None:
    parsed = parse_coordinates_detail(["43°30'N", "北纬43.5", "126.5E", "nan"], axis="x")
    assert parsed.ok.tolist() == [False, False, True, False]
    assert parsed.wrong_axis.tolist() == [True, True, False, False]
    assert parsed.hemisphere.tolist() == [True, True, True, False]


def test_latitude_limit_is_ninety() -> None:
    _, ok = parse_coordinates(["91°", "90°", "91", "95N"], axis="y")
    assert ok.tolist() == [False, True, True, False]  # a bare 91 may be a projected value


def test_detail_counts_dms_for_the_ingest_report() -> None:
    parsed = parse_coordinates_detail(
        ["126°30'E", "126 30 15", "126.5", "126.5°", "45°N", "", 126.0], axis="x"
    )
    assert parsed.n_dms == 2
    assert parsed.n_bad == 2
    assert parsed.summary() == (
        "7 longitude values: 2 in degrees-minutes-seconds, "
        "2 not readable (1 with a latitude hemisphere)"
    )


def test_repeated_values_are_parsed_once_and_mapped_back() -> None:
    texts = ["126°30'", "126,5", "x"] * 1000
    values, ok = parse_coordinates(texts, axis="x")
    assert values.shape == (3000,)
    assert ok.sum() == 2000
    assert np.all(values[ok] == 126.5)


def test_axis_must_be_x_or_y() -> None:
    with pytest.raises(ValueError, match="axis must be 'x' or 'y'"):
        parse_coordinates(["1"], axis="z")  # type: ignore[arg-type]


# --- formatting ----------------------------------------------------------------------------


def test_format_dms_carries_rounding() -> None:
    assert format_dms([126.9999999], axis="x").tolist() == ["127°00′00.0″E"]
    assert format_dms([-33.5], axis="y", style="ascii").tolist() == ["33°30'00.0\"S"]
    assert format_dms([-0.00000001], axis="x", decimals=0).tolist() == ["0°00′00″E"]
    assert format_dms([np.nan], axis="x").tolist() == [""]


@given(
    value=st.floats(min_value=-180, max_value=180, allow_nan=False),
    axis=st.sampled_from(["x", "y"]),
    decimals=st.integers(min_value=0, max_value=4),
    style=st.sampled_from(["ascii", "prime", "chinese"]),
)
def test_format_then_parse_round_trip(value: float, axis: str, decimals: int, style: str) -> None:
    if axis == "y":
        value /= 2.0
    text = format_dms([value], axis=axis, decimals=decimals, style=style)  # type: ignore[arg-type]
    parsed = parse_coordinates_detail(text, axis=axis)  # type: ignore[arg-type]
    assert parsed.ok.all(), text
    assert parsed.dms.all()
    assert parsed.values[0] == pytest.approx(value, abs=0.5 * 10**-decimals * ARCSECOND + 1e-12)


@given(st.lists(st.from_regex(r"[+-]?[0-9]{1,9}(\.[0-9]{1,12})?", fullmatch=True),
                min_size=1, max_size=30),
       st.sampled_from(["x", "y"]))
def test_plain_decimal_cells_read_as_the_full_parser_reads_them(cells, axis):
    """The one-conversion path for "126.5012345" cells gives what the cell parser gives."""
    from geo.coords import _clean, _coordinate

    got = parse_coordinates_detail([*cells, "126°30'E" if axis == "x" else "43°30'N"],
                                   axis=axis)
    expected = [_coordinate(_clean(c), axis, None).value for c in cells]
    np.testing.assert_array_equal(got.values[:-1], np.array(expected))
    assert not got.dms[:-1].any() and got.dms[-1] and got.ok.all()
