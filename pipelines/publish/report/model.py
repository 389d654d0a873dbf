"""What a report holds, independent of its format: sections of text, tables and charts."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["Chart", "Report", "Section", "Table"]


@dataclass
class Table:
    """A titled table; ``key`` names it for code and tests (e.g. ``by_reserve``).

    ``frame`` has plain columns with Chinese headers and a default index.
    """

    key: str
    title: str
    frame: pd.DataFrame
    note: str = ""


@dataclass
class Chart:
    """A titled PNG chart; ``legend`` explains numbered labels when no CJK font exists."""

    key: str
    title: str
    png: bytes
    legend: str = ""


@dataclass
class Section:
    """A titled part of a report: paragraphs, tables and charts in order."""

    key: str
    title: str
    blocks: list[str | Table | Chart] = field(default_factory=list)

    def tables(self) -> list[Table]:
        """The section's tables."""
        return [b for b in self.blocks if isinstance(b, Table)]


@dataclass
class Report:
    """A whole report: title, scope lines (filters, dates) and sections."""

    title: str
    scope: list[str]
    sections: list[Section]

    def table(self, key: str) -> Table:
        """Return the table named ``key``.

        Raises
        ------
        KeyError
            When the report has no such table.
        """
        for section in self.sections:
            for table in section.tables():
                if table.key == key:
                    return table
        raise KeyError(key)

    def charts(self) -> list[Chart]:
        """Every chart of the report."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, Chart)]
