"""Read numbers and coordinates the way people type them into spreadsheets.

Lead sheets and reserve tables arrive with decimal commas (``126,5``), full-width digits
(``１２６.５``), degrees-minutes-seconds in many spellings (``126°30'15.2"E``,
``东经126度30分15.2秒``, ``126 30 15.2``) and projected Gauss-Krüger metres. The functions here
turn such columns into float arrays plus an "ok" mask; nothing raises for a bad value, so the
caller can report every bad row at once. Detecting which CRS the numbers are in is the job of
:mod:`geo.crs`.

Rules for the decimal separator (:func:`parse_numbers`):

* a ``.`` is always a decimal point, except in ``1.234.567,5`` (dots grouping thousands
  before a decimal comma);
* a single ``,`` is a decimal comma (``126,5``, ``0,123``, ``1234,567``) unless the value
  is also a valid thousands grouping (``1,234`` could be 1234 or 1.234): such values are
  ambiguous and rejected, unless the caller says what the comma means (``decimal_comma``);
* several commas (``1,234,567``), or commas before a final ``.`` (``1,234,567.5``), group
  thousands; so do single spaces (``1 234 567,5``), which are never decimal separators;
* anything else (two decimal points, letters, an empty cell) is rejected.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from geo.errors import CoordinateError

__all__ = [
    "ParsedCoordinates",
    "format_dms",
    "parse_coordinates",
    "parse_coordinates_detail",
    "parse_numbers",
]

log = logging.getLogger(__name__)

# Characters NFKC leaves alone (or mangles: "º" becomes "o") that people use for the same thing.
_BEFORE_NFKC = str.maketrans(
    {
        "º": "°",  # masculine ordinal, typed for a degree sign
        "˚": "°",  # ring above
        "ᵒ": "°",
        "−": "-",  # minus sign
        "‐": "-",
        "‑": "-",
        "–": "-",  # en dash
    }
)
# After NFKC: unify minute and second marks and the Chinese unit words.
_AFTER_NFKC = str.maketrans(
    {
        "′": "'",
        "’": "'",
        "‘": "'",
        "´": "'",
        "″": '"',
        "”": '"',
        "“": '"',
        "度": "°",
        "分": "'",
        "秒": '"',
    }
)
_SPACES = re.compile(r"\s+")

_PLAIN = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
#: A signed ASCII decimal with nothing around it: read as the number it is, no cleaning.
_PLAIN_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_DECIMAL_COMMA = re.compile(r"\d*,\d+")
_GROUP_COMMA = re.compile(r"[1-9]\d{0,2}(?:,\d{3})+")
_GROUP_DOT = re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+")
_GROUP_SPACE = re.compile(r"([1-9]\d{0,2}(?: \d{3})+)(?:[.,](\d+))?")

_HEMISPHERES: dict[str, tuple[str, float]] = {
    "E": ("x", 1.0),
    "W": ("x", -1.0),
    "N": ("y", 1.0),
    "S": ("y", -1.0),
    "东经": ("x", 1.0),
    "東經": ("x", 1.0),
    "东": ("x", 1.0),
    "東": ("x", 1.0),
    "西经": ("x", -1.0),
    "西經": ("x", -1.0),
    "西": ("x", -1.0),
    "北纬": ("y", 1.0),
    "北緯": ("y", 1.0),
    "北": ("y", 1.0),
    "南纬": ("y", -1.0),
    "南緯": ("y", -1.0),
    "南": ("y", -1.0),
}
_HEMI = r"东经|東經|西经|西經|北纬|北緯|南纬|南緯|[东東西北南NSEWnsew]"
_HEMI_PREFIX = re.compile(rf"^({_HEMI})\s*:?\s*")
_HEMI_SUFFIX = re.compile(rf"\s*({_HEMI})$")

_NUM = r"\d+(?:[.,]\d+)?"
_DMS_SYMBOLS = re.compile(
    rf"(?P<d>{_NUM})\s*°\s*(?:(?P<m>{_NUM})\s*(?:'\s*(?:(?P<s>{_NUM})\s*\"?)?)?)?"
)
_DMS_SEPARATED = re.compile(
    r"(?P<d>\d{1,3})(?P<sep>[: ])(?P<m>\d{1,2}(?:[.,]\d+)?)"
    r"(?:(?P=sep)(?P<s>\d{1,2}(?:[.,]\d+)?))?"
)
_AXIS_LIMIT = {"x": 180.0, "y": 90.0}
_AXIS_WORD = {"x": "longitude", "y": "latitude"}


def _clean(text: str) -> str:
    """Return ``text`` NFKC-normalised with unified marks and single inner spaces."""
    text = unicodedata.normalize("NFKC", text.translate(_BEFORE_NFKC)).translate(_AFTER_NFKC)
    text = text.replace("''", '"')
    return _SPACES.sub(" ", text).strip()


def _number(body: str, decimal_comma: bool | None) -> float | None:
    """Return the value of a cleaned, unsigned number string, or None when unreadable."""
    if _PLAIN.fullmatch(body):
        return float(body)
    grouped = _GROUP_SPACE.fullmatch(body)
    if grouped:
        whole = grouped.group(1).replace(" ", "")
        return float(f"{whole}.{grouped.group(2) or '0'}")
    has_dot = "." in body
    if "," in body and not has_dot:
        grouping = body.count(",") > 1 or decimal_comma is False
        if decimal_comma is not True and grouping and _GROUP_COMMA.fullmatch(body):
            return float(body.replace(",", ""))
        if body.count(",") == 1 and _DECIMAL_COMMA.fullmatch(body):
            if decimal_comma is False:
                return None
            if decimal_comma is None and _GROUP_COMMA.fullmatch(body):
                return None  # "1,234": 1234 or 1.234?
            return float(body.replace(",", "."))
        return None
    if "," in body and has_dot:
        if body.rfind(".") > body.rfind(","):
            whole, frac = body.rsplit(".", 1)
            group = _GROUP_COMMA
        else:
            whole, frac = body.rsplit(",", 1)
            group = _GROUP_DOT
        if group.fullmatch(whole) and frac.isdigit() and decimal_comma is not True:
            return float(f"{whole.replace(',', '').replace('.', '')}.{frac}")
    return None


def _signed(text: str, decimal_comma: bool | None) -> float | None:
    """Return the value of a cleaned number string that may carry a sign."""
    sign = -1.0 if text.startswith("-") else 1.0
    body = text[1:].lstrip() if text[:1] in "+-" else text
    value = _number(body, decimal_comma) if body else None
    return None if value is None or not math.isfinite(value) else sign * value


def _as_objects(values: Sequence[object] | ArrayLike) -> np.ndarray:
    """Return ``values`` as an object array that keeps numbers as numbers."""
    arr = np.empty(len(values), dtype=object)  # type: ignore[arg-type]
    arr[:] = list(values)  # type: ignore[arg-type]
    return arr


def _numeric_fast_path(values: object) -> np.ndarray | None:
    """Return ``values`` as float64 when it is already a numeric array, else None."""
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
        return np.asarray(values, dtype="float64").ravel()
    return None


def parse_numbers(
    values: Sequence[object] | ArrayLike, *, decimal_comma: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Parse numbers typed with decimal commas, full-width digits or thousands separators.

    Parameters
    ----------
    values
        One value per row: numbers, strings, None. Booleans and other objects are rejected.
    decimal_comma
        What a lone comma means when it could be either (``"1,234"``). ``None`` (default)
        rejects such values; ``True`` reads the comma as a decimal comma everywhere (and then
        no comma groups thousands); ``False`` reads every comma as a thousands separator.

    Returns
    -------
    values : numpy.ndarray
        float64, NaN where a value could not be read.
    ok : numpy.ndarray
        bool, True where the value was read and is finite.

    Examples
    --------
    >>> v, ok = parse_numbers(["126,5", " １２６.５ ", "1,234,567.5", "1 234,5", "1,234", "x", 7])
    >>> v.tolist()
    [126.5, 126.5, 1234567.5, 1234.5, nan, nan, 7.0]
    >>> ok.tolist()
    [True, True, True, True, False, False, True]
    >>> parse_numbers(["1,234"], decimal_comma=True)[0].tolist()
    [1.234]
    """
    fast = _numeric_fast_path(values)
    if fast is not None:
        return fast, np.isfinite(fast)
    raw = _as_objects(values)
    out = np.full(len(raw), np.nan)
    seen: dict[str, float | None] = {}
    for i, value in enumerate(raw):
        if isinstance(value, str):
            if value not in seen:
                seen[value] = _signed(_clean(value), decimal_comma)
            parsed = seen[value]
            if parsed is not None:
                out[i] = parsed
        elif isinstance(value, Real) and not isinstance(value, bool | np.bool_):
            out[i] = float(value)
    return out, np.isfinite(out)


@dataclass(frozen=True, eq=False)
class ParsedCoordinates:
    """One coordinate column as read by :func:`parse_coordinates_detail`.

    Attributes
    ----------
    values
        float64: decimal degrees (west and south negative) or, for plain numbers, the number
        unchanged (projected metres stay metres). NaN where not ok.
    ok
        bool: the value was read.
    dms
        bool: the value was written in degrees and minutes (and maybe seconds).
    hemisphere
        bool: the value carried a hemisphere (``E``, ``S``, ``东经``, ``北纬``...).
    wrong_axis
        bool: the hemisphere belongs to the other axis (``N`` in the longitude column);
        such values are not ok.
    axis
        ``"x"`` (longitude / easting) or ``"y"`` (latitude / northing).
    """

    values: np.ndarray
    ok: np.ndarray
    dms: np.ndarray
    hemisphere: np.ndarray
    wrong_axis: np.ndarray
    axis: Literal["x", "y"]

    @property
    def n_dms(self) -> int:
        """Number of values read from degrees-minutes(-seconds) notation."""
        return int(self.dms.sum())

    @property
    def n_bad(self) -> int:
        """Number of values that could not be read."""
        return int((~self.ok).sum())

    def summary(self) -> str:
        """Return a sentence for the ingest report.

        Examples
        --------
        >>> print(parse_coordinates_detail(["126°30'E", "126.5", "45°N", ""], axis="x").summary())
        ... # doctest: +NORMALIZE_WHITESPACE
        4 longitude values: 1 in degrees-minutes-seconds,
        2 not readable (1 with a latitude hemisphere)
        """
        word = _AXIS_WORD[self.axis]
        other = _AXIS_WORD["y" if self.axis == "x" else "x"]
        text = f"{len(self.values)} {word} values: {self.n_dms} in degrees-minutes-seconds"
        if self.n_bad:
            text += f", {self.n_bad} not readable"
            wrong = int(self.wrong_axis.sum())
            if wrong:
                text += f" ({wrong} with a {other} hemisphere)"
        return text


@dataclass(frozen=True)
class _Coordinate:
    value: float = math.nan
    dms: bool = False
    hemisphere: bool = False
    wrong_axis: bool = False


_BAD = _Coordinate()


def _component(text: str | None) -> float:
    return 0.0 if text is None else float(text.replace(",", "."))


def _dms(body: str) -> tuple[float, bool] | None:
    """Return (degrees, written in DMS) for a DMS string, (nan, True) when out of range."""
    match = _DMS_SYMBOLS.fullmatch(body) or _DMS_SEPARATED.fullmatch(body)
    if match is None:
        return None
    d, m, s = match.group("d"), match.group("m"), match.group("s")
    fractional = [bool(re.search(r"[.,]", part)) for part in (d, m) if part is not None]
    has_finer = [m is not None, s is not None]
    if any(frac and finer for frac, finer in zip(fractional, has_finer, strict=False)):
        return math.nan, True  # "126.5°30'" or "126°30.5'15"": a fraction before a finer unit
    minutes, seconds = _component(m), _component(s)
    if minutes >= 60 or seconds >= 60:
        return math.nan, True
    return _component(d) + minutes / 60.0 + seconds / 3600.0, m is not None


def _coordinate(text: str, axis: Literal["x", "y"], decimal_comma: bool | None) -> _Coordinate:
    """Read one cleaned coordinate string."""
    prefix, suffix = _HEMI_PREFIX.match(text), _HEMI_SUFFIX.search(text)
    if prefix and suffix and prefix.end() > suffix.start():
        suffix = None  # the whole string is one hemisphere word
    if prefix and suffix:
        return _BAD
    found = prefix or suffix
    hemi_axis, hemi_sign = axis, 1.0
    body = text
    if found:
        hemi_axis, hemi_sign = _HEMISPHERES[found.group(1).upper()]
        body = (text[found.end() :] if prefix else text[: found.start()]).strip()
    sign = 1.0
    if body[:1] in ("+", "-"):
        if found and body[0] == "-":
            return _Coordinate(hemisphere=True)  # "-126°E": which one is meant?
        sign = -1.0 if body[0] == "-" else 1.0
        body = body[1:].lstrip()
    dms = _dms(body)
    if dms is None:
        value = _number(body, decimal_comma) if body else None
        if value is None or not math.isfinite(value):
            return _Coordinate(hemisphere=bool(found))
        is_dms = False
        degrees = bool(found)
    else:
        value, is_dms = dms
        degrees = True
    if hemi_axis != axis:
        return _Coordinate(hemisphere=True, wrong_axis=True)
    if degrees and not value <= _AXIS_LIMIT[axis]:
        return _Coordinate(hemisphere=bool(found))
    return _Coordinate(sign * hemi_sign * value, is_dms, bool(found))


def parse_coordinates_detail(
    values: Sequence[object] | ArrayLike,
    *,
    axis: Literal["x", "y"],
    decimal_comma: bool | None = None,
) -> ParsedCoordinates:
    """Parse one coordinate column and say how each value was written.

    Accepted forms, with any hemisphere (``E/W/N/S`` before or after, ``东经/西经/北纬/南纬``
    before or after; west and south give negative values) and decimal commas:

    * decimal degrees or any plain number: ``126.5``, ``126,5``, ``-33.9``, ``126.5°E``;
    * degrees-minutes-seconds: ``126°30'15.2"E``, ``126°30′15.2″``, ``E126°30'15"``,
      ``126度30分15.2秒``, ``东经126°30'``, ``126 30 15.2``, ``126:30:15``,
      ``126°30.25'`` (decimal minutes);
    * projected numbers such as ``42512345.67``, returned unchanged.

    Rejected (not ok): minutes or seconds of 60 or more, a fraction followed by a finer unit
    (``126.5°30'``), degrees beyond 180 (``x``) or 90 (``y``) when written as DMS or with a
    hemisphere, a hemisphere of the other axis, a minus sign together with a hemisphere,
    ambiguous thousands (see :func:`parse_numbers`), empty or unreadable text. Packed
    ``ddd.mmss`` notation (``126.3015`` meaning 126°30'15") cannot be told from decimal
    degrees and is read as decimal degrees.

    Parameters
    ----------
    values : sequence or array_like
        One value per row.
    axis : {"x", "y"}
        ``"x"`` for longitude / easting, ``"y"`` for latitude / northing.
    decimal_comma : bool or None
        See :func:`parse_numbers`.

    Returns
    -------
    ParsedCoordinates
        Values, ok mask and per-row flags (DMS, hemisphere, wrong axis) for the report.

    Examples
    --------
    >>> p = parse_coordinates_detail(["126°30'15.2\\"E", "西经73°30'", "42512345.67"], axis="x")
    >>> [round(v, 6) for v in p.values.tolist()]
    [126.504222, -73.5, 42512345.67]
    >>> p.n_dms
    2
    """
    if axis not in _AXIS_LIMIT:
        raise CoordinateError(f"axis must be 'x' or 'y', not {axis!r}")
    fast = _numeric_fast_path(values)
    if fast is not None:
        no = np.zeros(len(fast), dtype=bool)
        return ParsedCoordinates(fast, np.isfinite(fast), no, no.copy(), no.copy(), axis)
    raw = _as_objects(values)
    n = len(raw)
    out = np.full(n, np.nan)
    dms, hemisphere, wrong_axis = (np.zeros(n, dtype=bool) for _ in range(3))
    # the bureau's usual cell, "126.5012345": read in one numpy conversion, not one by one
    plain = np.fromiter((isinstance(v, str) and _PLAIN_DECIMAL.fullmatch(v) is not None
                         for v in raw), dtype=bool, count=n)
    if plain.any():
        out[plain] = np.fromiter(map(float, raw[plain]), dtype="float64")
    seen: dict[str, _Coordinate] = {}
    for k in np.flatnonzero(~plain).tolist():
        value = raw[k]
        if isinstance(value, str):
            if value not in seen:
                seen[value] = _coordinate(_clean(value), axis, decimal_comma)
            row = seen[value]
        elif isinstance(value, Real) and not isinstance(value, bool | np.bool_):
            row = _Coordinate(float(value))
        else:
            row = _BAD
        out[k], dms[k], hemisphere[k], wrong_axis[k] = (
            row.value, row.dms, row.hemisphere, row.wrong_axis)
    ok = np.isfinite(out)
    result = ParsedCoordinates(values=out, ok=ok, dms=dms & ok, hemisphere=hemisphere,
                               wrong_axis=wrong_axis, axis=axis)
    log.debug("parsed coordinates: %s", result.summary())
    return result


def parse_coordinates(
    values: Sequence[object] | ArrayLike,
    *,
    axis: Literal["x", "y"],
    decimal_comma: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Parse a coordinate column into decimal degrees (or projected numbers, unchanged).

    The forms accepted are those of :func:`parse_coordinates_detail`, which also reports how
    many values were written in degrees-minutes-seconds.

    Parameters
    ----------
    values : sequence or array_like
        One value per row.
    axis : {"x", "y"}
        ``"x"`` for longitude / easting, ``"y"`` for latitude / northing.
    decimal_comma : bool or None
        See :func:`parse_numbers`.

    Returns
    -------
    values : numpy.ndarray
        float64, NaN where a value could not be read.
    ok : numpy.ndarray
        bool, True where the value was read.

    Examples
    --------
    >>> v, ok = parse_coordinates(["北纬43°30'", "43:30:00", "43,5", "43°75'"], axis="y")
    >>> v.tolist(), ok.tolist()
    ([43.5, 43.5, 43.5, nan], [True, True, True, False])
    """
    parsed = parse_coordinates_detail(values, axis=axis, decimal_comma=decimal_comma)
    return parsed.values, parsed.ok


def format_dms(
    values: ArrayLike,
    *,
    axis: Literal["x", "y"],
    decimals: int = 1,
    style: Literal["ascii", "prime", "chinese"] = "prime",
) -> np.ndarray:
    """Format decimal degrees as degrees-minutes-seconds strings with a hemisphere.

    Parameters
    ----------
    values : array_like
        Decimal degrees, west and south negative.
    axis : {"x", "y"}
        ``"x"`` (E/W, 东经/西经) or ``"y"`` (N/S, 北纬/南纬).
    decimals : int
        Decimals of the seconds; rounding carries into minutes and degrees.
    style : {"ascii", "prime", "chinese"}
        ``"ascii"``: ``126°30'15.2"E``; ``"prime"``: ``126°30′15.2″E``;
        ``"chinese"``: ``东经126°30′15.2″``.

    Returns
    -------
    numpy.ndarray
        Object array of strings, ``""`` where the value is not finite.

    Examples
    --------
    >>> format_dms([126.504222, -0.5], axis="x").tolist()
    ['126°30′15.2″E', '0°30′00.0″W']
    >>> format_dms([43.5], axis="y", style="chinese", decimals=0).tolist()
    ['北纬43°30′00″']
    """
    arr = np.asarray(values, dtype="float64").ravel()
    scale = 10**decimals
    finite = np.isfinite(arr)
    total = np.rint(np.abs(np.where(finite, arr, 0.0)) * 3600 * scale).astype("int64")
    degrees, rest = np.divmod(total, 3600 * scale)
    minutes, seconds = np.divmod(rest, 60 * scale)
    minute_mark, second_mark = ("'", '"') if style == "ascii" else ("′", "″")
    positive, negative = {
        ("x", False): ("E", "W"),
        ("y", False): ("N", "S"),
        ("x", True): ("东经", "西经"),
        ("y", True): ("北纬", "南纬"),
    }[(axis, style == "chinese")]
    width = 2 + (decimals + 1 if decimals else 0)
    out = np.empty(len(arr), dtype=object)
    for i in range(len(arr)):
        if not finite[i]:
            out[i] = ""
            continue
        hemi = negative if arr[i] < 0 and total[i] > 0 else positive
        sec = f"{seconds[i] / scale:0{width}.{decimals}f}"
        text = f"{degrees[i]}°{minutes[i]:02d}{minute_mark}{sec}{second_mark}"
        out[i] = hemi + text if style == "chinese" else text + hemi
    return out
