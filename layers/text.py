"""Text and dates as people type them: control characters, blanks, dates.

The rule for control characters in text, on the way in and on the way out.

C0 control characters other than tab, line feed and carriage return (and DEL) have no
meaning in a name, a note or an id; XLSX and XML cannot hold them and PostgreSQL refuses
NUL. Text read from files or typed by users loses them here, and the caller reports how
many were removed.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

__all__ = ["CONTROL_CHARACTERS", "clean_text", "given", "iso_date", "strip_control",
           "text_or_none"]

#: U+0000–U+0008, U+000B, U+000C, U+000E–U+001F and U+007F.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_control(text: str) -> tuple[str, int]:
    """Return ``text`` without control characters, and how many were removed.

    Examples
    --------
    >>> strip_control("a\\x0bb\\x00c\\td")
    ('abc\\td', 2)
    """
    cleaned, count = CONTROL_CHARACTERS.subn("", text)
    return cleaned, count


def clean_text(value: Any) -> Any:
    """Return ``value`` without control characters if it is text, else unchanged.

    Examples
    --------
    >>> clean_text("备注\\x0b"), clean_text(3)
    ('备注', 3)
    """
    return strip_control(value)[0] if isinstance(value, str) else value


def given(value: Any) -> bool:
    """True for a value that says something (not None, NaN, NaT or blank).

    Examples
    --------
    >>> given(" "), given(float("nan")), given(0), given("问题")
    (False, False, True, True)
    """
    if value is None or (isinstance(value, float) and value != value):
        return False
    if type(value).__name__ == "NaTType":
        return False
    return bool(str(value).strip())


def text_or_none(value: Any) -> str | None:
    """The stripped text of ``value``, or None when it says nothing (:func:`given`)."""
    return str(value).strip() if given(value) else None


_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}.*)?$"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def iso_date(value: Any) -> str | None:
    """Return ``value`` as an ISO date ``YYYY-MM-DD``; None for a blank value.

    Accepts dates, datetimes (and pandas timestamps) and the ways people write them:
    ``2025-06-30``, ``2025/6/30``, ``2025.6.30``, ``2025年6月30日``, ``20250630``, with or
    without a time.

    Raises
    ------
    ValueError
        When ``value`` is not a date (callers raise their own error naming the field).

    Examples
    --------
    >>> iso_date("2025年6月30日"), iso_date("2025/6/3"), iso_date(" "), iso_date(20250630)
    ('2025-06-30', '2025-06-03', None, '2025-06-30')
    """
    if not given(value):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    match = _DATE.match(text) or _COMPACT_DATE.match(text)
    if match:
        return date(*(int(g) for g in match.groups())).isoformat()
    raise ValueError(f"{text!r} is not a date")

