"""Write a :class:`~pipelines.publish.report.model.Report` as Markdown, HTML or XLSX.

Markdown carries text and tables (charts are in the HTML and XLSX); HTML is one
self-contained file with charts embedded as base64 PNG; XLSX has one sheet per section,
tables stacked with their titles, numbers as numbers, charts as images.
"""

from __future__ import annotations

import base64
import io
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from layers.i18n import _
from pipelines.escape import html_text, xlsx_put, xlsx_row
from pipelines.progress import Progress, no_progress
from pipelines.publish.report.model import Chart, Report, Table

__all__ = ["FORMATS", "render_html", "render_markdown", "write_xlsx"]

FORMATS = ("md", "html", "xlsx")


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def render_markdown(report: Report) -> str:
    """Return the report as Markdown (text and tables; charts are left to HTML/XLSX)."""
    lines = [f"# {report.title}", "", *(f"{s}  " for s in report.scope), ""]
    for section in report.sections:
        lines += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Table):
                lines += [f"### {block.title}", "", _markdown_table(block.frame), ""]
                if block.note:
                    lines += [block.note, ""]
            elif isinstance(block, str):
                lines += [block, ""]
    return "\n".join(lines)


def _markdown_table(frame: pd.DataFrame) -> str:
    def esc(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    if frame.empty:
        return "（无）"
    out = ["| " + " | ".join(esc(str(c)) for c in frame.columns) + " |",
           "|" + "---|" * len(frame.columns)]
    for row in frame.itertuples(index=False):
        out.append("| " + " | ".join(esc(_cell(v)) for v in row) + " |")
    return "\n".join(out)


_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em auto;
max-width:1100px;color:#222;line-height:1.5}
h1{color:#1d5c40}h2{border-bottom:2px solid #2f7d5b;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#eef5f1}
td.n{text-align:right}tr:last-child td{font-weight:600}
figure{margin:1em 0}figcaption{font-size:13px;color:#555}.note{font-size:13px;color:#555}
"""


def render_html(report: Report) -> str:
    """Return the report as one self-contained HTML page (charts as embedded PNG)."""
    esc = html_text
    parts = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
             f"<title>{esc(report.title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{esc(report.title)}</h1>",
             *(f'<p class="note">{esc(s)}</p>' for s in report.scope)]
    for section in report.sections:
        parts.append(f'<h2 id="{esc(section.key)}">{esc(section.title)}</h2>')
        for block in section.blocks:
            if isinstance(block, Table):
                parts.append(f"<h3>{esc(block.title)}</h3>{_html_table(block.frame)}")
                if block.note:
                    parts.append(f'<p class="note">{esc(block.note)}</p>')
            elif isinstance(block, Chart):
                data = base64.b64encode(block.png).decode("ascii")
                caption = esc(block.title) + (f"<br>{esc(block.legend)}" if block.legend else "")
                parts.append(f'<figure><img alt="{esc(block.title)}" '
                             f'src="data:image/png;base64,{data}">'
                             f"<figcaption>{caption}</figcaption></figure>")
            else:
                parts.append(f"<p>{esc(block)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _html_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p>（无）</p>"
    head = "".join(f"<th>{html_text(c)}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = "".join(
            f'<td class="n">{_cell(v)}</td>' if isinstance(v, int | float) and not isinstance(
                v, bool) else f"<td>{html_text(_cell(v))}</td>" for v in row)
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _sheet_title(title: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", title)[:28] or "sheet"
    name, k = base, 2
    while name in used:
        name, k = f"{base[:26]}_{k}", k + 1
    used.add(name)
    return name


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def write_xlsx(report: Report, path: str | Path, *, progress: Progress = no_progress) -> Path:
    """Write the report as an XLSX workbook: one sheet per section.

    Parameters
    ----------
    report : Report
        The report.
    path : str or pathlib.Path
        The workbook to write.
    progress : Progress
        Told of step ``写出报告``: each sheet, then saving the workbook.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    bold = Font(bold=True)
    step, total = _("写出报告"), len(report.sections) + 1
    progress(step, 0, total)
    for done, section in enumerate(report.sections, start=1):
        sheet = book.create_sheet(_sheet_title(section.title, used))
        xlsx_row(sheet, [section.title])
        sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
        if section is report.sections[0]:
            for line in report.scope:
                xlsx_row(sheet, [line])
        sheet.append([])
        for block in section.blocks:
            if isinstance(block, Table):
                xlsx_row(sheet, [block.title])
                sheet.cell(row=sheet.max_row, column=1).font = bold
                xlsx_row(sheet, [str(c) for c in block.frame.columns])
                for cell in sheet[sheet.max_row]:
                    cell.font = bold
                for row in block.frame.itertuples(index=False):
                    xlsx_row(sheet, [_plain(v) for v in row])
                if block.note:
                    xlsx_row(sheet, [block.note])
                sheet.append([])
            elif isinstance(block, Chart):
                image = Image(io.BytesIO(block.png))
                anchor = sheet.max_row + 1
                xlsx_put(sheet, anchor, 1, block.title).font = bold
                sheet.add_image(image, f"A{anchor + 1}")
                rows = int(image.height / 20) + 2
                if block.legend:
                    xlsx_put(sheet, anchor + rows, 1, block.legend)
                sheet.cell(row=anchor + rows + 1, column=1, value=None)
                for _blank in range(rows + 1):
                    sheet.append([])
            else:
                xlsx_row(sheet, [block])
        sheet.column_dimensions["A"].width = 28
        progress(step, done, total)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    progress(step, total, total)
    return path
