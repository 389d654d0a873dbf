"""Where text leaves the program: one function per medium, each with its escaping.

Text from input files and from web users is data. Whatever medium it is written to, it
goes through the one function here for that medium, so that it is shown as text and
never runs as code:

==================  =========================  =============================================
medium              function                   what it does
==================  =========================  =============================================
HTML ``<script>``   :func:`script_json`        JSON with ``<``, ``>``, U+2028/9 escaped
HTML text           :func:`html_text`          ``& < > " '`` as entities
XLSX cell           :func:`xlsx_cell`          control characters out; formulas as text
CSV cell            :func:`csv_cell`           control characters out; formulas as ``'=…``
KML / XML text      :func:`xml_text`           control characters XML cannot hold out
shapefile text      :func:`dbf_text`           control characters out; fits the ``.dbf``
SQL identifier      :func:`sql_identifier`     ``"name"`` with quotes doubled
file / folder name  :func:`file_name`          no separators, ``..``, reserved characters
HTTP header         :func:`content_disposition` RFC 6266 / 5987 ``filename*`` with fallback
==================  =========================  =============================================

Reading back, :func:`csv_unescape` undoes :func:`csv_cell`, so a ledger returns the
values it was written with. Control characters are the rule of :mod:`layers.text`.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from layers.text import strip_control
from pipelines.errors import StoreError

__all__ = [
    "FORMULA_START",
    "content_disposition",
    "csv_cell",
    "csv_unescape",
    "dbf_text",
    "file_name",
    "html_text",
    "looks_like_formula",
    "script_json",
    "sql_identifier",
    "xlsx_cell",
    "xlsx_put",
    "xlsx_row",
    "xml_text",
]

#: First characters that make Excel, LibreOffice or WPS read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet would take ``text`` for a formula (or a quoted formula).

    A text starting with apostrophes before a formula character counts too, so that
    :func:`csv_cell` and :func:`csv_unescape` are inverse for every text.

    Examples
    --------
    >>> looks_like_formula("=1+1"), looks_like_formula("'=1+1"), looks_like_formula("1+1")
    (True, True, False)
    """
    return text.lstrip("'").startswith(FORMULA_START)


def script_json(value: Any) -> str:
    """Return ``value`` as JSON that is safe inside an HTML ``<script>`` element.

    ``<`` and ``>`` are written as ``\\u003c`` / ``\\u003e`` so that no data can close the
    script, and U+2028 / U+2029 are escaped for old JavaScript parsers; non-ASCII text
    stays UTF-8. ``value`` may also be an object with a ``text`` attribute holding JSON
    already (:class:`webmap.map.elements.RawJson`), embedded as it is.

    Examples
    --------
    >>> script_json({"t": "</script>"})
    '{"t":"\\\\u003c/script\\\\u003e"}'
    """
    raw = getattr(value, "text", None)
    if not isinstance(raw, str):
        raw = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        raw.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def html_text(value: Any) -> str:
    """Return ``value`` as HTML text (quotes too, so it can stand in an attribute).

    Examples
    --------
    >>> html_text('<b title="x">{{ 7*7 }}</b>')
    '&lt;b title=&quot;x&quot;&gt;{{ 7*7 }}&lt;/b&gt;'
    """
    return html.escape("" if value is None else str(value), quote=True)


def _bind_xlsx(cell: Any, value: Any) -> Any:
    if isinstance(value, str):
        cell.value = strip_control(value)[0]
        cell.data_type = "s"  # never "f": text that looks like a formula stays text
    else:
        cell.value = value
    return cell


def xlsx_cell(sheet: Any, value: Any) -> Any:
    """Return an openpyxl cell of ``sheet`` holding ``value`` as the ledger shows it.

    Text loses the control characters that XLSX cannot hold, and text that a
    spreadsheet would take for a formula (``= + - @``, tab, CR) is stored as a string
    cell, so that it shows and reads back as typed and never runs. Other values (numbers,
    dates, None) are stored as they are.

    Parameters
    ----------
    sheet : openpyxl.worksheet.worksheet.Worksheet
        The sheet the cell is for.
    value : Any
        The value.

    Returns
    -------
    openpyxl.cell.Cell
        A cell for ``sheet.append``.
    """
    from openpyxl.cell import Cell

    return _bind_xlsx(Cell(sheet), value)


def xlsx_row(sheet: Any, values: Iterable[Any]) -> None:
    """Append a row of ``values`` to ``sheet``, each through :func:`xlsx_cell`."""
    sheet.append([xlsx_cell(sheet, value) for value in values])


def xlsx_put(sheet: Any, row: int, column: int, value: Any) -> Any:
    """Set the cell at ``row``, ``column`` of ``sheet`` as :func:`xlsx_cell` does; return it.

    Parameters
    ----------
    sheet : openpyxl.worksheet.worksheet.Worksheet
        The sheet.
    row, column : int
        Position of the cell, 1-based.
    value : Any
        The value.
    """
    return _bind_xlsx(sheet.cell(row=row, column=column), value)


def csv_cell(value: Any) -> Any:
    """Return ``value`` for a CSV cell: control characters out, formulas prefixed ``'``.

    Examples
    --------
    >>> csv_cell('=HYPERLINK("http://x","详情")'), csv_cell("-3"), csv_cell(-3)
    ('\\'=HYPERLINK("http://x","详情")', "'-3", -3)
    >>> csv_unescape(csv_cell("'=1")) == "'=1"
    True
    """
    if not isinstance(value, str):
        return value
    text, _ = strip_control(value)
    return "'" + text if looks_like_formula(text) else text


def csv_unescape(text: str) -> str:
    """Undo :func:`csv_cell` on a cell read back from a ledger CSV."""
    if text.startswith("'") and looks_like_formula(text[1:]):
        return text[1:]
    return text


def xml_text(value: Any) -> str:
    """Return ``value`` as text that XML 1.0 can hold (KML names and descriptions).

    XML escaping of ``& < >`` is the writer's (GDAL, ElementTree); this removes the
    control characters no XML document may contain.
    """
    return strip_control("" if value is None else str(value))[0]


#: The longest text a ``.dbf`` field holds, in bytes of its encoding.
DBF_TEXT_BYTES = 254


def dbf_text(value: Any, *, encoding: str = "GBK") -> str:
    """Return ``value`` as text a shapefile's ``.dbf`` field in ``encoding`` can hold.

    Control characters go, a character the encoding has no code for becomes ``?`` and
    the text is cut, at a character, to the 254 bytes a field holds.

    Examples
    --------
    >>> dbf_text("长白山\x0b🐼"), len(dbf_text("长" * 200).encode("gbk"))
    ('长白山?', 254)
    """
    text = strip_control("" if value is None else str(value))[0]
    data = text.encode(encoding, errors="replace")[:DBF_TEXT_BYTES]
    return data.decode(encoding, errors="ignore")


_IDENTIFIER = re.compile(r"[^\x00]{1,63}")


def sql_identifier(name: str) -> str:
    """Return ``name`` quoted as an SQL identifier (SQLite and PostgreSQL alike).

    Examples
    --------
    >>> sql_identifier('lead"s')
    '"lead""s"'

    Raises
    ------
    StoreError
        If ``name`` is empty, longer than 63 characters or holds a NUL.
    """
    if not _IDENTIFIER.fullmatch(name):
        raise StoreError(f"bad SQL identifier {name!r}")
    return '"' + name.replace('"', '""') + '"'


_RESERVED = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def file_name(name: Any, *, max_len: int = 60) -> str:
    """Return a file-system-safe folder or file name that keeps Chinese characters.

    Separators, ``..``, characters Windows reserves and control characters become
    ``_``; the result is never empty, never starts with a dot and never names a parent.

    Examples
    --------
    >>> file_name("长白山/国家级: 保护区*?")
    '长白山_国家级_保护区'
    >>> file_name(".."), file_name("../../etc/passwd")
    ('_', 'etc_passwd')
    """
    text = unicodedata.normalize("NFKC", str(name)).strip()
    text = _RESERVED.sub("_", text)
    text = re.sub(r"\s+", "_", text)
    text = re.sub(r"_+", "_", text).strip("._ ")
    return text[:max_len].rstrip("._ ") or "_"


def content_disposition(filename: str, *, disposition: str = "attachment") -> str:
    """Return a ``Content-Disposition`` header value for a download named ``filename``.

    The name is given twice (RFC 6266): ``filename*=UTF-8''…`` percent-encoded for every
    browser of this century, and an ASCII ``filename="…"`` fallback in which every other
    character, quote and backslash becomes ``_``. The value is pure ASCII, so any HTTP
    server can send it.

    Examples
    --------
    >>> content_disposition('长白山"_R/1.zip')
    'attachment; filename="R_1.zip"; filename*=UTF-8\\'\\'%E9%95%BF%E7%99%BD%E5%B1%B1_R_1.zip'
    """
    safe = file_name(filename, max_len=120)
    ascii_name = re.sub(r'(?:[^\x20-\x7e]|["\\])+', "_", safe)
    ascii_name = re.sub(r"_+", "_", ascii_name).strip("_ ")
    if not ascii_name or ascii_name.startswith("."):
        ascii_name = "download" + ascii_name
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(safe, safe='')}"
