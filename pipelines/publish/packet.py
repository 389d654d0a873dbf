"""Verification packets (核查包): what a field team takes to the reserve, one per reserve.

A lead inside several reserves is in the packet of each (``lead_reserves``). A packet is a
folder (and a zip of it) holding the XLSX ledger (台账, read back by
``lvdun status import``), a GPKG and a KML of the reserve's leads for field apps, the
before/after chips, and one printable HTML file (``核查单.html``, and a PDF where Chromium
is installed) with one A4 page per lead: a location map of the reserve's zones drawn from
the geometries (SVG, no tiles, works offline), the before and after chips it has, the
lead's attributes, and blank fields for the field record (核查人, 核查日期, 实地情况, 照片编号,
结论).

A packet weighs what it holds. The map of a reserve is drawn once, ``assets/locator.png``,
and each page lays its lead's marker over it (:mod:`pipelines.publish.export.locator`); a
lead outside every reserve gets a small map of its surroundings. A chip is copied once into
``chips/``; a lead without chips shows none, and no empty frame. The PDF is printed in
chunks of pages, several Chromium processes at a time, while the next packets are written
(:mod:`pipelines.publish.export.pdf`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import zipfile
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from layers.schema import LEVEL_LABELS, SQM_PER_MU, Level
from pipelines.errors import PipelineError
from pipelines.escape import html_text
from pipelines.progress import Progress, no_progress
from pipelines.publish.chips import CHIP_TABLE
from pipelines.publish.export import ExportJob, ExportReport, PlannedGroup
from pipelines.publish.export.locator import BaseMap, Locator
from pipelines.publish.export.pdf import CHUNK_PAGES, PrintPool, find_chromium, join_pdfs
from pipelines.publish.views import LEDGER_COLUMNS
from pipelines.store.base import Workspace, new_run_id, now_iso

__all__ = ["HTML_NAME", "MAP_NAME", "PAGE_CLASS", "PacketReport", "export_packets",
           "find_chromium", "write_packets"]

log = logging.getLogger(__name__)

HTML_NAME = "核查单.html"
#: The reserve's location map, under the packet folder; every page refers to it.
MAP_NAME = "assets/locator.png"
#: CSS class of one lead's page; one element per lead.
PAGE_CLASS = "lead-page"
#: The files a packet's folder always holds, besides those asked for.
PACKET_FORMATS = ("xlsx", "gpkg", "kml")
_LEVELS = {lv.value for lv in Level}
#: Attributes shown on a page, in order (ledger column -> label).
_ATTRIBUTES = ("lead_id", "batch", "activity_type", "change_type", "reserve_name",
               "reserve_level", "zone_label", "primary_reserve", "overlaps_text",
               "wetland_names", "mine_ids", "county_name", "lonlat", "area",
               "dist_boundary_m", "date_before", "date_after", "status_label", "note")
#: Files a zip stores as they are: compressing them again gains nothing.
_STORED = {".pdf", ".png", ".jpg", ".jpeg", ".xlsx", ".zip", ".kmz"}
#: Pages rendered between two progress reports.
_REPORT_EVERY = 50


@dataclass
class PacketReport:
    """What :func:`export_packets` wrote.

    ``folders`` and ``pages`` are keyed by the groups' labels (folder names), like the
    export's groups; ``pdfs`` holds the PDFs printed.
    """

    export: ExportReport
    run_id: str
    folders: dict[str, Path] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    pdfs: dict[str, Path] = field(default_factory=dict)


def write_packets(
    ws: Workspace, out_dir: str | Path, *, by: str = "reserve", pdf: bool | None = None
) -> dict[str, Path]:
    """Write one verification packet per reserve (or county): folder and zip.

    :func:`export_packets` for every group; see there.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    out_dir : str or pathlib.Path
        The folder the packets go into.
    by : str
        ``reserve`` or ``county``.
    pdf : bool, optional
        Print each packet to PDF (None: when Chromium is found).

    Returns
    -------
    dict
        Group label (reserve name, 保护区外, county name; ``<名称>_<代码>`` when two
        share a name) -> packet folder; the zip is the folder's path with ``.zip``.
    """
    return export_packets(ws, out_dir, by=by, pdf=pdf).folders


def export_packets(
    ws: Workspace,
    out_dir: str | Path,
    *,
    by: str = "reserve",
    codes: Iterable[str | None] | None = None,
    formats: tuple[str, ...] = (),
    pdf: bool | None = None,
    progress: Progress = no_progress,
) -> PacketReport:
    """Write one verification packet per reserve (or county), folder and zip, in one export.

    Parameters
    ----------
    ws : Workspace
        A classified workspace (chips, when made with ``lvdun chips``, are included).
    out_dir : str or pathlib.Path
        Folder to write into: ``<group>/`` and ``<group>.zip`` per group.
    by : {"reserve", "county"}
        ``reserve`` or ``county``, as for :func:`pipelines.publish.export.export`.
    codes : iterable of str or None, optional
        Only these groups, as for :func:`pipelines.publish.export.export`.
    formats : tuple of str
        More export formats written into each packet's folder (the XLSX ledger, GPKG
        and KML always are): a packet export is also the export of those formats.
    pdf : bool or None
        Print ``核查单.pdf`` with headless Chromium: None (default) when it is installed,
        True to require it, False never.
    progress : Progress
        Told of each group as a step of its own (``导出 <group>``): its files, pages
        rendered, pages printed and the zip.

    Raises
    ------
    PipelineError
        ``pdf=True`` without Chromium, or Chromium failing to print.
    WorkspaceError, NotFoundError
        From the export: leads not classified, unknown ``by``, codes without leads.
    """
    chromium = find_chromium() if pdf is not False else None
    if pdf and chromium is None:
        raise PipelineError("no PDF converter: install Chromium (chromium --headless) or "
                            "leave PDF out")
    started, run_id = now_iso(), new_run_id()
    job = ExportJob(ws, out_dir, by=by, formats=tuple(dict.fromkeys((*PACKET_FORMATS,
                                                                     *formats))),
                    codes=codes)
    locator = Locator(ws.read_features("reserves"))
    chips = ws.read_table(CHIP_TABLE)
    report = PacketReport(export=job.report, run_id=run_id)
    counter = _Counter(progress)
    printing: list[tuple[PlannedGroup, Path, list[Future[Path]]]] = []
    pool = PrintPool(chromium) if chromium else None
    failed = True
    try:
        for planned in job.groups:
            pages = len(planned.rows)
            total = len(job.formats) + pages + (pages if chromium else 0) + 1
            job.write(planned, progress, more=total - len(job.formats))
            counter.start(planned.step, len(job.formats), total)
            folder = job.out / planned.group.label
            html, pages_html = _write_html(planned, folder, locator, chips, counter)
            report.folders[planned.group.label] = folder
            report.pages[planned.group.label] = pages
            step = planned.step
            futures = [] if pool is None else [
                pool.submit(path, path.with_suffix(".pdf"), pages=n,
                            done=lambda n, step=step: counter.add(step, n))
                for path, n in _chunks(html, planned.title, pages_html)]
            printing.append((planned, folder, futures))
        for planned, folder, futures in printing:
            try:
                parts = [f.result() for f in futures]
            except PipelineError as exc:
                if pdf:
                    raise
                log.warning("no PDF for %s: %s", folder / HTML_NAME, exc)
                parts = []
            if parts:
                report.pdfs[planned.group.label] = join_pdfs(parts, folder / "核查单.pdf")
            _clean_chunks(folder)
            _zip(folder, folder.with_name(folder.name + ".zip"))
            counter.finish(planned.step)
        failed = False
    finally:
        if pool is not None:
            pool.close(cancel=failed)
    job.finish()
    with ws.transaction():
        ws.record_run(run_id, "export packet", started_at=started,
                      params={"by": by, "out": str(job.out), "pdf": bool(report.pdfs),
                              "codes": job.wanted, "ledger_run": job.report.run_id},
                      counts=report.pages)
    log.info("wrote %d packets to %s", len(report.folders), job.out)
    return report


class _Counter:
    """Progress of each group's step, moved from the main thread and the printers."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self._lock = threading.Lock()
        self._done: dict[str, int] = {}
        self._total: dict[str, int] = {}

    def start(self, step: str, done: int, total: int) -> None:
        with self._lock:
            self._done[step], self._total[step] = done, total

    def add(self, step: str, units: int) -> None:
        with self._lock:
            self._done[step] += units
            self.progress(step, self._done[step], self._total[step])

    def finish(self, step: str) -> None:
        with self._lock:
            self._done[step] = self._total[step]
            self.progress(step, self._done[step], self._total[step])


# -- the HTML --------------------------------------------------------------------------------
def _write_html(planned: PlannedGroup, folder: Path, locator: Locator, chips: pd.DataFrame,
                counter: _Counter) -> tuple[Path, list[str]]:
    """Write the packet's chips, location map and ``核查单.html``; return it and its pages."""
    rows = planned.rows
    chip_src = _copy_chips(chips[chips["lead_id"].isin(rows["lead_id"])], folder / "chips")
    dots = _centres(rows)
    outside = planned.group.code is None
    base = None
    extent = None if outside else locator.extent(rows)
    if extent is not None:
        base = locator.base(extent, dots)
        target = folder / MAP_NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base.png)
    page = _Page(title=str(planned.group.name if not outside else planned.group.label),
                 locator=locator, base=base, dots=dots, chips=chip_src)
    total = len(rows)
    parts: list[str] = []
    for k, row in enumerate(rows.itertuples(index=False)):
        parts.append(page.render(row, k + 1, total))
        if (k + 1) % _REPORT_EVERY == 0 or k + 1 == total:
            counter.add(planned.step, (k % _REPORT_EVERY) + 1)
    html_path = folder / HTML_NAME
    defs = locator.defs(base) if base is not None else ""
    html_path.write_text(_document(page.title, "\n".join(parts), defs), encoding="utf-8")
    return html_path, [defs, *parts]


def _centres(rows: Any) -> np.ndarray:
    geoms = np.asarray(rows.geometry.values, dtype=object)
    if not len(geoms):
        return np.empty((0, 2))
    return shapely.get_coordinates(shapely.centroid(geoms))


# -- chips --------------------------------------------------------------------------------
def _copy_chips(chips: pd.DataFrame, folder: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Copy the chips of a group into ``folder``; return (lead, kind) -> relative src etc."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for row in chips.itertuples(index=False):
        src = Path(str(row.path))
        if not src.is_file():
            log.warning("chip %s of lead %s is missing: %s", row.kind, row.lead_id, src)
            continue
        data = src.read_bytes()
        if hashlib.sha256(data).hexdigest() != row.sha256:
            log.warning("chip %s changed since it was made (sha256 differs); left out", src)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        (folder / src.name).write_bytes(data)
        out[(str(row.lead_id), str(row.kind))] = {
            "src": f"chips/{src.name}", "size_m": row.size_m, "date": row.image_date,
            "image": Path(str(row.image)).name,
        }
    return out


# -- pages --------------------------------------------------------------------------------
class _Page:
    """Renders the page of one lead; shares the packet's map and chips.

    ``base`` is the reserve's map (:meth:`Locator.base`); None for the leads outside
    every reserve, each drawn on a map of its own.
    """

    def __init__(self, *, title: str, locator: Locator, base: BaseMap | None,
                 dots: np.ndarray, chips: Mapping[tuple[str, str], Mapping[str, Any]]) -> None:
        self.title = title
        self.locator = locator
        self.base = base
        self.dots = dots
        self.chips = chips

    def render(self, row: Any, number: int, total: int) -> str:
        """HTML of one lead's page.

        Parameters
        ----------
        row : namedtuple
            The lead, a row of the group's :func:`pipelines.publish.views.leads_view`
            (``itertuples``).
        number, total : int
            The page's number (from 1) and the number of pages, shown in the header.
        """
        lead_id = str(row.lead_id)
        heading = " · ".join(_text(v) for v in (row.activity_type, row.zone_label,
                                                 row.status_label) if _text(v))
        head = (f"<header><span>绿盾实地核查单 · {html_text(self.title)}</span>"
                f"<span>第 {number} / {total} 页</span></header>")
        if self.base is not None:
            drawn = (f'<img src="{MAP_NAME}" alt="保护区位置底图">'
                     f"{self.locator.marker(self.base, row.geometry)}")
        else:
            dist = row.dist_boundary_m
            drawn = self.locator.neighbourhood(
                row.geometry, float(dist) if _text(dist) else None, self.dots)
        figure = (f'<figure class="map"><div class="frame">{drawn}</div>'
                  "<figcaption>位置示意图(据保护区边界绘制,非正式地图)</figcaption></figure>")
        chips = self._chip(lead_id, "before", "前时相") + self._chip(lead_id, "after", "后时相")
        shown = f'<div class="chips">{chips}</div>\n' if chips else ""
        return (f'<section class="{PAGE_CLASS}" data-lead="{html_text(lead_id)}">\n{head}\n'
                f"<h1>{html_text(lead_id)}</h1>\n<p class=\"sub\">{html_text(heading)}</p>\n"
                f'<div class="top">\n{figure}\n{_attributes(row)}\n</div>\n'
                f"{shown}{_FIELD_RECORD}\n</section>")

    def _chip(self, lead_id: str, kind: str, label: str) -> str:
        chip = self.chips.get((lead_id, kind))
        if chip is None:
            return ""
        parts = [label, _text(chip["date"]), chip["image"],
                 f"宽 {float(chip['size_m']):.0f} 米" if _text(chip["size_m"]) else ""]
        caption = " · ".join(html_text(p) for p in parts if p)
        return (f'<figure class="chip"><img src="{html_text(chip["src"])}" alt="{label}">'
                f"<figcaption>{caption}</figcaption></figure>")


def _attributes(row: Any) -> str:
    values = row._asdict()
    level = _text(values.get("reserve_level"))
    values["reserve_level"] = LEVEL_LABELS.get(Level(level), level) if level in _LEVELS else level
    values["lonlat"] = (f"{values['lon']:.6f}, {values['lat']:.6f}"
                        if _text(values.get("lon")) else "")
    area = values.get("area_m2")
    values["area"] = f"{area:,.0f} 平方米({area / SQM_PER_MU:,.2f} 亩)" if _text(area) else ""
    dist = values.get("dist_boundary_m")
    values["dist_boundary_m"] = f"{dist:,.0f}" if _text(dist) else ""
    if _text(values.get("primary_reserve")) == _text(values.get("reserve_name")):
        values["primary_reserve"] = ""  # the page's own reserve won the lead: said once
    labels = {**LEDGER_COLUMNS, "lonlat": "中心点经纬度(CGCS2000)", "area": "面积"}
    rows = "".join(f"<tr><th>{html_text(labels[c])}</th>"
                   f"<td>{html_text(_text(values.get(c)))}</td></tr>"
                   for c in _ATTRIBUTES if c in labels and (
                       c != "primary_reserve" or _text(values.get(c))))
    return f'<table class="attrs">{rows}</table>'


_FIELD_RECORD = """<table class="record">
<caption>实地核查记录</caption>
<tr><th>核查人</th><td></td><th>核查日期</th><td></td></tr>
<tr><th>实地位置(GPS)</th><td></td><th>照片编号</th><td></td></tr>
<tr class="tall"><th>实地情况</th><td colspan="3"></td></tr>
<tr><th>结论</th><td colspan="3">□ 问题(违法违规)&emsp;□ 非问题,原因:□ 保护区设立前已存在 □ 手续合法
□ 自然变化 □ 解译错误 □ 重复线索 □ 位于保护区外 □ 其他______</td></tr>
<tr><th>核查人签字</th><td></td><th>审核人签字</th><td></td></tr>
</table>"""

_CSS = """
@page { size: A4 portrait; margin: 10mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
       "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", sans-serif;
       margin: 0; background: #888; color: #111; font-size: 10.5pt; }
.lead-page { background: #fff; width: 190mm; height: 274mm; margin: 8mm auto; padding: 6mm;
             overflow: hidden; break-after: page; page-break-after: always; }
.lead-page:last-child { break-after: auto; page-break-after: auto; }
header { display: flex; justify-content: space-between; font-size: 8.5pt; color: #555;
         border-bottom: 1px solid #999; padding-bottom: 1mm; }
h1 { font-size: 15pt; margin: 2.5mm 0 0.5mm; }
.sub { margin: 0 0 2mm; color: #333; }
.top { display: flex; gap: 4mm; }
figure { margin: 0; }
figcaption { font-size: 7.5pt; color: #555; text-align: center; }
.map .frame { position: relative; width: 72mm; height: 72mm; border: 1px solid #999; }
.map .frame > img, .map .frame > svg { position: absolute; left: 0; top: 0; width: 100%;
                                       height: 100%; display: block; }
.attrs { border-collapse: collapse; font-size: 8pt; flex: 1; align-self: flex-start; }
.attrs th, .attrs td { border: 1px solid #bbb; padding: 0.3mm 1.5mm; text-align: left;
                       vertical-align: top; }
.attrs th { background: #eef3f8; white-space: nowrap; width: 30mm; }
.chips { display: flex; gap: 6mm; margin-top: 3mm; justify-content: center; }
.chip { width: 68mm; }
.chip img { width: 68mm; height: 68mm; display: block; border: 1px solid #999;
            object-fit: contain; image-rendering: auto; }
.record { width: 100%; border-collapse: collapse; margin-top: 3mm; font-size: 9pt; }
.record caption { text-align: left; font-weight: bold; margin-bottom: 1mm; }
.record th, .record td { border: 1px solid #555; padding: 1mm 1.4mm; height: 7.5mm;
                         text-align: left; }
.record th { width: 26mm; background: #f4f4f4; }
.record .tall td { height: 22mm; }
@media print { body { background: #fff; } .lead-page { margin: 0; } }
"""


def _document(title: str, body: str, defs: str = "") -> str:
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{html_text(title)} 绿盾实地核查单</title><style>{_CSS}</style></head>"
            f"<body>{defs}\n{body}\n</body></html>\n")


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return str(value)


# -- the PDF and the zip --------------------------------------------------------------------
_CHUNK_PREFIX = ".核查单-"


def _chunks(html: Path, title: str, pages: list[str]) -> list[tuple[Path, int]]:
    """Write ``pages`` as HTML files of :data:`CHUNK_PAGES` pages each beside ``html``.

    ``pages[0]`` is what every document holds before its pages (the map's defs).
    """
    defs, pages = pages[0], pages[1:]
    out = []
    for k, start in enumerate(range(0, len(pages), CHUNK_PAGES)):
        part = pages[start:start + CHUNK_PAGES]
        path = html.with_name(f"{_CHUNK_PREFIX}{k + 1:04d}.html")
        path.write_text(_document(title, "\n".join(part), defs), encoding="utf-8")
        out.append((path, len(part)))
    return out


def _clean_chunks(folder: Path) -> None:
    for path in folder.glob(f"{_CHUNK_PREFIX}*"):
        path.unlink(missing_ok=True)


def _zip(folder: Path, target: Path) -> Path:
    """Zip ``folder`` (entries under the folder's name, sorted) into ``target``.

    PDFs, pictures and XLSX files are stored as they are (they are compressed already).
    """
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            method = zipfile.ZIP_STORED if path.suffix.lower() in _STORED else None
            archive.write(path, Path(folder.name) / path.relative_to(folder),
                          compress_type=method)
    return target
