"""How commands print rows: one rich table printer for lists and histories.

Rich measures Chinese characters as two cells; what cut them was the column settings. Ids,
dates, times and labels are never cut (``no_wrap`` with their longest value as ``min_width``);
other text wraps (``overflow="fold"``), so a narrow terminal gets taller rows, not ``吉林长 …``;
a terminal too narrow even for those shows one record after the other.
Stored codes (zone, status, level) are shown as their labels, stored times in China
Standard Time, headers and titles through :func:`layers.i18n._`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from layers.i18n import _, label, local_time
from pipelines.cli.options import console as stdout_console

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["cell", "is_whole_column", "print_import_rows", "print_table"]

#: Columns whose values are ids, dates, times or counts: never wrapped, never cut.
_WHOLE = re.compile(r"(^|_)(id|code|at|date|deadline|due|batch|version|no|number)$|^(at|from|to)$")
#: Columns holding a stored code shown as its label.
_CODED = re.compile(r"(^|_)(zone|status|level)$")
#: Cells a wrapped text column keeps at least: three Chinese characters a line.
_MIN_TEXT_CELLS = 6
#: Columns holding a stored time.
_TIMES = re.compile(r"(^|_)at$")


def is_whole_column(name: str) -> bool:
    """Whether column ``name`` holds ids, dates or times, printed whole on one line.

    Examples
    --------
    >>> [is_whole_column(c) for c in ("lead_id", "at", "updated_at", "deadline", "note")]
    [True, True, True, True, False]
    """
    return bool(_WHOLE.search(name))


def print_table(
    rows: pd.DataFrame,
    headers: Mapping[str, str],
    title: str,
    *,
    counted: bool = True,
    empty: str | None = "none",
    console: Console | None = None,
) -> None:
    """Print ``rows`` as a table with one column per entry of ``headers``.

    Parameters
    ----------
    rows : pandas.DataFrame
        The rows; must hold every column named in ``headers``.
    headers : mapping of str to str
        Column of ``rows`` -> header shown (a Chinese msgid), in the order shown.
    title : str
        The table's title.
    counted : bool
        Add the number of rows to the title: ``矿山 (12)``.
    empty : str or None
        Without rows, print ``"<title>: <empty>"`` instead of the table (``"none"`` is
        shown as 无); None prints the table with its headers only.
    console : rich.console.Console or None
        Where to print; the command line's standard output by default.
    """
    out = console or stdout_console
    if rows.empty and empty is not None:
        out.print(f"{title}: {_('无') if empty == 'none' else empty}")
        return
    table = Table(title=f"{title} ({len(rows)})" if counted else title)
    columns = rows[list(headers)]
    shown = columns.astype(object).where(columns.notna(), "")
    texts: dict[str, list[str]] = {}
    for name in headers:
        values = shown[name].tolist()
        if _TIMES.search(name):
            values = [local_time(v) if v != "" else "" for v in values]
        elif _CODED.search(name):
            values = [label(v) if v != "" else "" for v in values]
        texts[name] = [cell(v) for v in values]
    headings = {name: _(header) for name, header in headers.items()}
    whole = {name: max([cell_len(headings[name]), *(cell_len(t) for t in texts[name])])
             for name in headers if is_whole_column(name) or _CODED.search(name)}
    needed = (sum(whole.values()) + _MIN_TEXT_CELLS * (len(headers) - len(whole))
              + 3 * len(headers) + 1)
    if needed > out.width:  # too narrow for the columns: one record after the other
        table = Table(title=table.title, show_header=False, show_lines=True)
        table.add_column(no_wrap=True)
        table.add_column(overflow="fold")
        for row in zip(*texts.values(), strict=True):
            table.add_row("\n".join(headings.values()), "\n".join(row))
        out.print(table)
        return
    for name, heading in headings.items():
        if name in whole:
            table.add_column(heading, no_wrap=True, min_width=whole[name])
        else:
            table.add_column(heading, overflow="fold", min_width=_MIN_TEXT_CELLS)
    for row in zip(*texts.values(), strict=True):
        table.add_row(*row)
    out.print(table)


def cell(value: object) -> str:
    """Return the text of one table cell: whole floats without ``.0``.

    Examples
    --------
    >>> cell(3.0), cell(2.5), cell("治理中"), cell(7)
    ('3', '2.5', '治理中', '7')
    """
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


#: Colours of a row's outcome in an import's listing.
_OUTCOME_STYLE = {"applied": "green", "refused": "red", "unchanged": "dim"}


def print_import_rows(rows: Iterable[Any], *, console: Console | None = None) -> None:
    """Print the rows of a ledger or field import that changed, were refused or warn.

    ``第 3 行 L001：已应用 待核查 → 问题（版本 1 → 2）``, a refused row with its problem
    (``已拒绝（冲突）``), warnings indented below their row.

    Parameters
    ----------
    rows : iterable of pipelines.verify.ledger_import.RowResult
        The import's rows.
    console : rich.console.Console or None
        Where to print; the command line's standard output by default.
    """
    from pipelines.verify.ledger_import import OUTCOMES, PROBLEMS

    out = console or stdout_console
    for r in rows:
        if r.outcome == "unchanged" and not r.warnings:
            continue
        what = _(OUTCOMES.get(r.outcome, r.outcome))
        if r.problem:
            what += _("（{problem}）").format(problem=_(PROBLEMS.get(r.problem, r.problem)))
        where = _("第 {row} 行 {lead}：").format(row=r.row, lead=escape(r.lead_id or ""))
        out.print(f"{where}[{_OUTCOME_STYLE.get(r.outcome, 'default')}]{what}[/] "
                  f"{escape(r.message)}")
        for warning in r.warnings:
            out.print(f"  [yellow]{_('警告：')}[/]{escape(warning)}")
