"""Reading a filled-in verification ledger (台账) file: XLSX or CSV, back into rows.

:func:`read_ledger` finds the header row of the main sheet (or the CSV), maps the headers
to ledger columns (:func:`pipelines.publish.export.ledger_columns`) and keeps the hidden
snapshot sheet of an Excel ledger; :mod:`pipelines.verify.ledger_import` judges and
applies the rows.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

from layers.aliases import normalize_header
from layers.i18n import _
from layers.read import is_blank
from pipelines.errors import LedgerError
from pipelines.escape import csv_unescape
from pipelines.publish.export import (
    IMAGE_COLUMNS,
    MAIN_SHEET,
    META_SHEET,
    ROWS_SHEET,
    ledger_columns,
)

__all__ = ["LedgerFile", "read_ledger"]


# -- reading a ledger back ------------------------------------------------------------------
@dataclass
class LedgerFile:
    """A ledger read back: its rows (canonical names -> raw cell values) and identity."""

    path: Path
    kind: str
    rows: list[tuple[int, dict[str, Any]]]
    columns: list[str]
    extra_columns: list[str] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    snapshot: dict[str, dict[str, str]] = field(default_factory=dict)

    def identities(self) -> set[tuple[str, str]]:
        """Return the (workspace id, export run) pairs the file names."""
        found = {(p[1], p[2]) for _, values in self.rows
                 if len(p := str(values.get("ledger_id") or "").split(":")) == 4
                 and p[0] == "lvdun"}
        if self.meta.get("workspace_id"):
            found.add((self.meta["workspace_id"], self.meta.get("run_id", "")))
        return found


def _header_map(headers: list[Any]) -> tuple[dict[int, str], list[str]]:
    names = {normalize_header(label): canon for canon, label in ledger_columns().items()}
    names.update({normalize_header(a): "opinion" for a in ("核查意见", "备注核查意见")})
    pictures = {normalize_header(label) for label in IMAGE_COLUMNS.values()}
    found: dict[int, str] = {}
    extra: list[str] = []
    for k, header in enumerate(headers):
        if is_blank(header) or normalize_header(header) in pictures:  # thumbnails: read-only
            continue
        canon = names.get(normalize_header(header))
        if canon is None or canon in found.values():
            extra.append(str(header))
        else:
            found[k] = canon
    return found, extra


def _rows(cells: list[list[Any]], path: Path, kind: str) -> LedgerFile:
    for h in range(min(5, len(cells))):
        mapping, extra = _header_map(list(cells[h]))
        if "lead_id" in mapping.values():
            break
    else:
        raise LedgerError(_("{path}：前 5 行中没有含线索编号的表头行：不是台账"
                            "（用 `lvdun export --format xlsx` 导出一份）").format(path=path))
    rows = [(h + 2 + n, {canon: (line[k] if k < len(line) else None)
                         for k, canon in mapping.items()})
            for n, line in enumerate(cells[h + 1:])]
    return LedgerFile(path, kind, rows, list(mapping.values()), extra)


def read_ledger(path: str | Path) -> LedgerFile:
    """Read an Excel (.xlsx) or CSV ledger; columns are found by their headers.

    Rows may be re-sorted or deleted and columns added or moved: the lead id and the
    headers tie everything together.

    Raises
    ------
    LedgerError
        When the file cannot be read or has no 线索编号 column.
    """
    path = Path(path)
    if not path.is_file():
        raise LedgerError(_("{path} 不存在").format(path=path))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix in (".csv", ".txt"):
        return _read_csv(path)
    raise LedgerError(_("{path}：台账是 .xlsx 或 .csv 文件，不是 {suffix}").format(
        path=path, suffix=suffix or _("无扩展名")))


def _read_xlsx(path: Path) -> LedgerFile:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, data_only=True)
    except (OSError, KeyError, ValueError, BadZipFile, InvalidFileException) as exc:
        raise LedgerError(_("{path}：无法作为 Excel 工作簿读取（{error}）").format(
            path=path, error=exc)) from exc
    visible = [s for s in book.worksheets if s.sheet_state == "visible"]
    order = sorted(visible, key=lambda s: s.title != MAIN_SHEET)
    ledger: LedgerFile | None = None
    for sheet in order:
        try:
            ledger = _rows([list(r) for r in sheet.iter_rows(values_only=True)], path, "xlsx")
            break
        except LedgerError:
            continue
    if ledger is None:
        raise LedgerError(_("{path}：没有工作表含线索编号列：不是台账").format(path=path))
    if META_SHEET in book.sheetnames:
        ledger.meta = {str(k): str(v) for k, v, *_rest in
                       book[META_SHEET].iter_rows(values_only=True) if k is not None}
    if ROWS_SHEET in book.sheetnames:
        lines = list(book[ROWS_SHEET].iter_rows(values_only=True))
        if lines:
            names = [str(h) for h in lines[0]]
            for line in lines[1:]:
                values = {n: "" if v is None else str(v) for n, v in zip(names, line,
                                                                         strict=False)}
                ledger.snapshot[values.get("lead_id", "")] = values
    return ledger


def _read_csv(path: Path) -> LedgerFile:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise LedgerError(_("{file}：既不是 UTF-8 也不是 GBK 文本").format(file=path))
    cells = [[csv_unescape(c) for c in r] for r in csv.reader(io.StringIO(text))]
    return _rows(cells, path, "csv")
