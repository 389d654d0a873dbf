"""The data rows of a ledger's big sheets, written as sheet XML into openpyxl's workbook.

openpyxl writes the workbook (styles, widths, drop-down lists, print setup, the hidden
sheets, thumbnails) and the title and header rows; the rows of the leads, tens of
thousands of cells a sheet, are written here as the XML openpyxl itself would write for
them (same values, same styles, text always as text so that nothing becomes a formula),
ten times faster than openpyxl's pure-Python serialiser, and put into its sheets by
:func:`insert_rows` after it saved.

Values as openpyxl stores them: text (control characters removed) as an inline string,
numbers as numbers, dates and times as Excel serial numbers under the column's date
style, booleans as booleans, None as an empty cell that keeps the column's style.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from layers.text import strip_control

__all__ = ["SheetRows", "insert_rows"]

_DIMENSION = re.compile(rb'<dimension ref="[^"]*"\s*/>')
_SHEET_DATA_END = b"</sheetData>"
_EMPTY_DATA = re.compile(rb"<sheetData\s*/>")
_EPOCH = datetime(1899, 12, 30)


class SheetRows:
    """Rows for one sheet, from ``first_row`` down; each cell a value and its style id.

    Parameters
    ----------
    first_row
        The sheet row (1-based) of the first row added.
    columns
        How many columns a row has (the dimension of the sheet).
    """

    def __init__(self, first_row: int, columns: int) -> None:
        self.first_row = first_row
        self.next_row = first_row
        self.letters = [_letter(k) for k in range(1, columns + 1)]
        self._parts: list[str] = []

    def add(self, values: Sequence[Any], styles: Sequence[tuple[int, int]],
            height: float | None = None) -> None:
        """Add a row: ``values`` with, per column, the style ids for text and for the rest.

        Parameters
        ----------
        values : sequence
            One value per column.
        styles : sequence of tuple of int
            Per column ``(style of text, style of any other value)``; 0 is the default.
        height : float, optional
            Row height in points, or None for the default.
        """
        r = self.next_row
        cells = []
        for letter, value, (text_style, other_style) in zip(self.letters, values, styles,
                                                            strict=False):
            cells.append(_cell(f"{letter}{r}", value, text_style, other_style))
        ht = f' ht="{height:g}" customHeight="1"' if height is not None else ""
        self._parts.append(f'<row r="{r}"{ht}>{"".join(cells)}</row>')
        self.next_row += 1

    def xml(self) -> bytes:
        """The rows as sheet XML (UTF-8)."""
        return "".join(self._parts).encode("utf-8")

    @property
    def last_row(self) -> int:
        """The sheet row of the last row added (``first_row - 1`` when none)."""
        return self.next_row - 1


def _cell(ref: str, value: Any, text_style: int, other_style: int) -> str:
    if isinstance(value, str):
        text = strip_control(value)[0]
        space = ' xml:space="preserve"' if text != text.strip() else ""
        s = f' s="{text_style}"' if text_style else ""
        return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'
    s = f' s="{other_style}"' if other_style else ""
    if value is None:
        return f'<c r="{ref}"{s}/>' if other_style else ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float) or hasattr(value, "dtype"):
        number = float(value)
        if not math.isfinite(number):
            return f'<c r="{ref}"{s}/>' if other_style else ""
        shown = int(value) if isinstance(value, int) or number.is_integer() else number
        return f'<c r="{ref}"{s}><v>{shown!r}</v></c>'
    if isinstance(value, datetime | date | time):
        return f'<c r="{ref}"{s}><v>{_serial(value)!r}</v></c>'
    text = strip_control(str(value))[0]
    s = f' s="{text_style}"' if text_style else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def _serial(value: datetime | date | time) -> float | int:
    """Excel's serial number of a date or time (the 1900 system, as openpyxl writes)."""
    if isinstance(value, time):
        return (value.hour * 3600 + value.minute * 60 + value.second
                + value.microsecond / 1e6) / 86400
    if not isinstance(value, datetime):
        return (value - _EPOCH.date()).days
    stamp = value.replace(tzinfo=None)
    delta = stamp - _EPOCH
    serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
    return int(serial) if float(serial).is_integer() else serial


def _letter(k: int) -> str:
    out = ""
    while k:
        k, rem = divmod(k - 1, 26)
        out = chr(65 + rem) + out
    return out


def insert_rows(workbook: bytes, path: Path, sheets: Iterable[tuple[int, SheetRows]]) -> Path:
    """Write ``workbook`` (an XLSX openpyxl saved) to ``path`` with the rows put in.

    Parameters
    ----------
    workbook : bytes
        The saved workbook; the sheets named hold only the rows above ``first_row``.
    path : pathlib.Path
        The file to write.
    sheets : iterable of tuple
        ``(position of the sheet in the workbook, from 1; its rows)``.
    """
    wanted = {f"xl/worksheets/sheet{k}.xml": rows for k, rows in sheets}
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            rows = wanted.get(info.filename)
            if rows is not None and rows.last_row >= rows.first_row:
                end = data.rfind(_SHEET_DATA_END)
                if end < 0:  # an empty sheet: <sheetData/>
                    data = _EMPTY_DATA.sub(b"<sheetData></sheetData>", data, count=1)
                    end = data.rindex(_SHEET_DATA_END)
                data = data[:end] + rows.xml() + data[end:]
                ref = f"A1:{rows.letters[-1]}{rows.last_row}".encode()
                data = _DIMENSION.sub(b'<dimension ref="' + ref + b'"/>', data, count=1)
            target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return path
