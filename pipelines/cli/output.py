"""How commands print rows: one rich table printer for lists and histories."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from rich.table import Table

from pipelines.cli.options import console

__all__ = ["cell", "print_table"]


def print_table(
    rows: pd.DataFrame,
    headers: Mapping[str, str],
    title: str,
    *,
    counted: bool = True,
    empty: str | None = "none",
) -> None:
    """Print ``rows`` as a table with one column per entry of ``headers``.

    Parameters
    ----------
    rows
        The rows; must hold every column named in ``headers``.
    headers
        Column of ``rows`` -> header shown, in the order shown.
    title
        The table's title.
    counted
        Add the number of rows to the title: ``矿山 (12)``.
    empty
        Without rows, print ``"<title>: <empty>"`` instead of the table; None prints the
        table with its headers only.
    """
    if rows.empty and empty is not None:
        console.print(f"{title}: {empty}")
        return
    table = Table(title=f"{title} ({len(rows)})" if counted else title)
    for header in headers.values():
        table.add_column(header)
    columns = rows[list(headers)]
    shown = columns.astype(object).where(columns.notna(), "")
    for row in shown.itertuples(index=False):
        table.add_row(*(cell(v) for v in row))
    console.print(table)


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
