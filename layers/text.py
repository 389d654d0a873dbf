"""The rule for control characters in text, on the way in and on the way out.

C0 control characters other than tab, line feed and carriage return (and DEL) have no
meaning in a name, a note or an id; XLSX and XML cannot hold them and PostgreSQL refuses
NUL. Text read from files or typed by users loses them here, and the caller reports how
many were removed.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["CONTROL_CHARACTERS", "clean_text", "strip_control"]

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
