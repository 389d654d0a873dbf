"""Reports of a workspace: counts and areas, progress, overdue, wetlands, mines, changes.

:func:`build_report` computes a :class:`~pipelines.publish.report.model.Report` once; the
renderers write it as Markdown, HTML (charts embedded) or XLSX. The numbers are those of
the workspace's tables (``leads``, ``lead_class``, ``lead_status``, ``batches``,
``wetlands``, ``mines``), computed by :mod:`pipelines.publish.report.summaries`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from layers.i18n import _
from pipelines.errors import ReportError
from pipelines.progress import Progress, no_progress
from pipelines.publish.report.model import Chart, Report, Section, Table
from pipelines.publish.report.render import FORMATS, render_html, render_markdown, write_xlsx
from pipelines.publish.report.sections import build_report
from pipelines.publish.report.summaries import ONLY, by_reserve_zone, by_status, filter_leads
from pipelines.store.base import Workspace

__all__ = [
    "FORMATS",
    "ONLY",
    "Chart",
    "Report",
    "Section",
    "Table",
    "build_report",
    "by_reserve_zone",
    "by_status",
    "filter_leads",
    "markdown_report",
    "render_html",
    "render_markdown",
    "write_report",
    "write_xlsx",
]


def markdown_report(ws: Workspace, *, today: date | None = None) -> str:
    """Return the whole report of ``ws`` as Markdown."""
    return render_markdown(build_report(ws, today=today, charts=False))


def write_report(report: Report, path: str | Path, fmt: str, *,
                 progress: Progress = no_progress) -> Path:
    """Write ``report`` to ``path`` as ``md``, ``html`` or ``xlsx``.

    Parameters
    ----------
    report : Report
        The report, from :func:`pipelines.publish.report.sections.build_report`.
    path : str or pathlib.Path
        The file to write.
    fmt : {"md", "html", "xlsx"}
        The format.
    progress : Progress
        Told of step ``写出报告``: an XLSX's sheets and its saving, a text file as one unit.

    Raises
    ------
    ValueError
        For an unknown format.
    """
    path = Path(path)
    if fmt == "xlsx":
        return write_xlsx(report, path, progress=progress)
    if fmt not in FORMATS:
        raise ReportError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    step = _("写出报告")
    progress(step, 0, 1)
    text = render_markdown(report) if fmt == "md" else render_html(report)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    progress(step, 1, 1)
    return path
