"""Verification packets (核查包): what a field team takes to the reserve, one per reserve.

A lead inside several reserves is in the packet of each (``lead_reserves``). A packet is a
folder (and a zip of it) holding the XLSX ledger (台账, read back by
``lvdun status import``), a GPKG and a KML of the reserve's leads for field apps, the
before/after chips, and one printable HTML file (``核查单.html``, and a PDF where Chromium
is installed) with one A4 page per lead: a location map of the reserve's zones drawn from
the geometries (SVG, no tiles, works offline), the before and after chips, the lead's
attributes, and blank fields for the field record (核查人, 核查日期, 实地情况, 照片编号, 结论).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.schema import LEVEL_LABELS, SQM_PER_MU, ZONE_ORDER, ZONE_RANK, Level, Zone
from pipelines.errors import PipelineError
from pipelines.escape import html_text
from pipelines.publish.chips import CHIP_TABLE
from pipelines.publish.export import export
from pipelines.publish.views import LEDGER_COLUMNS, leads_view
from pipelines.store.base import Workspace, new_run_id, now_iso

__all__ = ["HTML_NAME", "PAGE_CLASS", "find_chromium", "write_packets"]

log = logging.getLogger(__name__)

HTML_NAME = "核查单.html"
#: CSS class of one lead's page; one element per lead.
PAGE_CLASS = "lead-page"
_CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_ZONE_COLOURS = {
    Zone.CORE.value: "#e06666", Zone.CORE_PROTECTION.value: "#e06666",
    Zone.BUFFER.value: "#f6b26b",
    Zone.EXPERIMENTAL.value: "#b6d7a8", Zone.GENERAL_CONTROL.value: "#b6d7a8",
    Zone.UNZONED.value: "#d9d9d9",
}
_ZONE_NAMES = {"#e06666": "核心区/核心保护区", "#f6b26b": "缓冲区",
               "#b6d7a8": "实验区/一般控制区", "#d9d9d9": "未分区"}
_LEVELS = {lv.value for lv in Level}
_RANK = {z.value: r for z, r in ZONE_RANK.items()}
_ZONE_ORDER = {z.value: k for k, z in enumerate(ZONE_ORDER)}
#: Attributes shown on a page, in order (ledger column -> label).
_ATTRIBUTES = ("lead_id", "batch", "activity_type", "change_type", "reserve_name",
               "reserve_level", "zone_label", "overlaps_text", "wetland_names", "mine_ids",
               "county_name", "lonlat", "area", "dist_boundary_m", "date_before", "date_after",
               "status_label", "note")
_MAP_PX = 300
_OUTSIDE_RADIUS_M = 3000.0
_OUTSIDE_MAX_M = 15000.0
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON = 111_320.0


def find_chromium() -> str | None:
    """Return the path of a Chromium/Chrome executable, or None."""
    for name in _CHROMIUM:
        found = shutil.which(name)
        if found:
            return found
    return None


def write_packets(
    ws: Workspace, out_dir: str | Path, *, by: str = "reserve", pdf: bool | None = None
) -> dict[str, Path]:
    """Write one verification packet per reserve (or county): folder and zip.

    Parameters
    ----------
    ws : Workspace
        A classified workspace (chips, when made with ``lvdun chips``, are included).
    out_dir : str or pathlib.Path
        Folder to write into: ``<group>/`` and ``<group>.zip`` per group.
    by : {"reserve", "county"}
        ``reserve`` or ``county``, as for :func:`pipelines.publish.export.export`.
    pdf : bool or None
        Print ``核查单.pdf`` with headless Chromium: None (default) when it is installed,
        True to require it, False never.

    Returns
    -------
    dict
        Group name (reserve name, 保护区外, county name) -> packet folder; the zip is
        the folder's path with ``.zip``.

    Raises
    ------
    PipelineError
        ``pdf=True`` without Chromium, or Chromium failing to print.
    WorkspaceError
        From the export: leads not classified, unknown ``by``.
    """
    chromium = find_chromium() if pdf is not False else None
    if pdf and chromium is None:
        raise PipelineError("no PDF converter: install Chromium (chromium --headless) or "
                            "leave PDF out")
    started, run_id = now_iso(), new_run_id()
    out = Path(out_dir)
    exported = export(ws, out, by=by, formats=("xlsx", "gpkg", "kml"))
    view = leads_view(ws)
    key = "reserve_code" if by == "reserve" else "county_adcode"
    members: dict[str, list[str]] = {}
    if by == "reserve":
        found = ws.lead_memberships()
        members = {str(c): ids.tolist() for c, ids in found.groupby("reserve_code")["lead_id"]}
    zones = ws.read_features("reserves")
    chips = ws.read_table(CHIP_TABLE)
    packets: dict[str, Path] = {}
    pages: dict[str, int] = {}
    for label, exported_group in exported.groups.items():  # by code, never by name
        code = exported_group.code
        if code is None:
            rows = view[view[key].isna()]
        elif by == "reserve":  # every lead lying in the reserve, as its ledger lists them
            rows = view[view["lead_id"].isin(set(members.get(code, ())))]
        else:
            rows = view[view[key] == code]
        group = exported_group.name if code is not None else label
        folder = exported_group.files[0].parent
        rows = rows.assign(_order=rows["zone"].map(lambda z: _ZONE_ORDER.get(z, 99)))
        rows = rows.sort_values(["_order", "lead_id"]).drop(columns="_order")
        chip_src = _copy_chips(chips[chips["lead_id"].isin(rows["lead_id"])], folder / "chips")
        page = _Page(title=str(group), zones=zones, group_leads=rows, chips=chip_src,
                     outside=code is None)
        body = "\n".join(page.render(row, k + 1, len(rows))
                         for k, row in enumerate(rows.itertuples(index=False)))
        html_path = folder / HTML_NAME
        html_path.write_text(_document(str(group), body), encoding="utf-8")
        packets[label] = folder
        pages[label] = len(rows)
    if chromium is not None:  # a few Chromium processes side by side
        workers = max(1, min(4, os.cpu_count() or 1, len(packets)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda f: _print_pdf(chromium, f / HTML_NAME, required=bool(pdf)),
                          packets.values()))
    for folder in packets.values():
        _zip(folder, folder.with_name(folder.name + ".zip"))
    with ws.transaction():
        ws.record_run(run_id, "export packet", started_at=started,
                      params={"by": by, "out": str(out), "pdf": chromium is not None,
                              "ledger_run": exported.run_id},
                      counts=pages)
    log.info("wrote %d packets to %s", len(packets), out)
    return packets


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
    """Renders the page of one lead; shares the group's zones and chips."""

    def __init__(self, *, title: str, zones: gpd.GeoDataFrame, group_leads: gpd.GeoDataFrame,
                 chips: Mapping[tuple[str, str], Mapping[str, Any]], outside: bool) -> None:
        self.title = title
        self.zones = zones
        self.zone_geoms = np.asarray(zones.geometry.values, dtype=object)
        self.others = np.asarray(shapely.centroid(group_leads.geometry.values), dtype=object)
        self.chips = chips
        self.outside = outside
        self.extent: tuple[float, float, float, float] | None = None
        if not outside and len(group_leads):
            codes = set(group_leads["reserve_code"].dropna())
            mine = zones[zones["reserve_code"].isin(codes)]
            boxes = [*([mine.total_bounds] if len(mine) else []),
                     group_leads.total_bounds]
            b = np.array(boxes)
            self.extent = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())

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
        figure = (f'<figure class="map">{self._map(row.geometry, row.dist_boundary_m)}'
                  "<figcaption>位置示意图(据保护区边界绘制,非正式地图)</figcaption></figure>")
        chips = self._chip(lead_id, "before", "前时相") + self._chip(lead_id, "after", "后时相")
        return (f'<section class="{PAGE_CLASS}" data-lead="{html_text(lead_id)}">\n{head}\n'
                f"<h1>{html_text(lead_id)}</h1>\n<p class=\"sub\">{html_text(heading)}</p>\n"
                f'<div class="top">\n{figure}\n{_attributes(row)}\n</div>\n'
                f'<div class="chips">{chips}</div>\n{_FIELD_RECORD}\n</section>')

    def _chip(self, lead_id: str, kind: str, label: str) -> str:
        chip = self.chips.get((lead_id, kind))
        if chip is None:
            return (f'<figure class="chip"><div class="nochip">无{label}影像</div>'
                    f"<figcaption>{label}</figcaption></figure>")
        parts = [label, _text(chip["date"]), chip["image"],
                 f"宽 {float(chip['size_m']):.0f} 米" if _text(chip["size_m"]) else ""]
        caption = " · ".join(html_text(p) for p in parts if p)
        return (f'<figure class="chip"><img src="{html_text(chip["src"])}" alt="{label}">'
                f"<figcaption>{caption}</figcaption></figure>")

    def _map(self, geom: shapely.Geometry, dist_m: Any) -> str:
        if self.extent is not None:
            minx, miny, maxx, maxy = self.extent
        else:  # outside every reserve: the neighbourhood, reaching a nearby boundary
            c = shapely.centroid(geom)
            dist = float(dist_m) if _text(dist_m) else 0.0
            radius = min(max(_OUTSIDE_RADIUS_M, dist * 1.15), _OUTSIDE_MAX_M)
            dx = radius / (_M_PER_DEG_LON * math.cos(math.radians(c.y)))
            dy = radius / _M_PER_DEG_LAT
            minx, miny, maxx, maxy = c.x - dx, c.y - dy, c.x + dx, c.y + dy
        frame = _Frame((minx, miny, maxx, maxy), _MAP_PX)
        box = shapely.box(*frame.bounds)
        near = shapely.intersects(self.zone_geoms, box) if len(self.zone_geoms) else []
        parts = ['<rect width="100%" height="100%" fill="#f7fbff"/>']
        order = sorted(np.flatnonzero(near),  # stricter zones drawn last, on top
                       key=lambda i: _RANK.get(str(self.zones["zone"].iloc[i]), 0))
        for i in order:
            colour = _ZONE_COLOURS.get(str(self.zones["zone"].iloc[i]), "#d9d9d9")
            g = shapely.simplify(self.zone_geoms[i], frame.deg_per_px / 2)
            parts.append(f'<path d="{_path(g, frame.xy)}" fill="{colour}" fill-opacity="0.75" '
                         'stroke="#555" stroke-width="0.6" fill-rule="evenodd"/>')
        for p in self.others:
            x, y = frame.xy(np.array([[p.x, p.y]]))[0]
            if 0 <= x <= _MAP_PX and 0 <= y <= _MAP_PX:
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.8" fill="#666"/>')
        if shapely.get_dimensions(geom) == 2:
            parts.append(f'<path d="{_path(geom, frame.xy)}" fill="#c00" fill-opacity="0.5" '
                         'stroke="#c00" stroke-width="1.2" fill-rule="evenodd"/>')
        c = shapely.centroid(geom)
        x, y = frame.xy(np.array([[c.x, c.y]]))[0]
        parts.append(f'<circle class="lead-marker" cx="{x:.1f}" cy="{y:.1f}" r="7" fill="none" '
                     'stroke="#c00" stroke-width="2.2"/>'
                     f'<path d="M{x - 11:.1f} {y:.1f}h6M{x + 5:.1f} {y:.1f}h6M{x:.1f} '
                     f'{y - 11:.1f}v6M{x:.1f} {y + 5:.1f}v6" stroke="#c00" stroke-width="1.6"/>')
        parts.append(frame.scale_bar() + _NORTH + _legend(order, self.zones))
        return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_MAP_PX} {_MAP_PX}" '
                f'width="{_MAP_PX}" height="{_MAP_PX}">{"".join(parts)}</svg>')


class _Frame:
    """Lon/lat to SVG pixels: local equirectangular, square, 6 % margin."""

    def __init__(self, bounds: tuple[float, float, float, float], px: int) -> None:
        minx, miny, maxx, maxy = bounds
        self.lat0 = (miny + maxy) / 2
        self.kx = _M_PER_DEG_LON * math.cos(math.radians(self.lat0))
        width_m = max((maxx - minx) * self.kx, (maxy - miny) * _M_PER_DEG_LAT, 200.0) * 1.12
        self.m_per_px = width_m / px
        self.cx, self.cy = (minx + maxx) / 2, (miny + maxy) / 2
        self.px = px
        half_x, half_y = width_m / 2 / self.kx, width_m / 2 / _M_PER_DEG_LAT
        self.bounds = (self.cx - half_x, self.cy - half_y, self.cx + half_x, self.cy + half_y)
        self.deg_per_px = self.m_per_px / _M_PER_DEG_LAT

    def xy(self, lonlat: np.ndarray) -> np.ndarray:
        """SVG pixel coordinates of ``(n, 2)`` lon/lat."""
        x = (lonlat[:, 0] - self.cx) * self.kx / self.m_per_px + self.px / 2
        y = self.px / 2 - (lonlat[:, 1] - self.cy) * _M_PER_DEG_LAT / self.m_per_px
        return np.column_stack([x, y])

    def scale_bar(self) -> str:
        """A scale bar of a round length about a quarter of the map."""
        target = self.m_per_px * self.px / 4
        power = 10 ** math.floor(math.log10(target))
        length = max(s * power for s in (1, 2, 5) if s * power <= target)
        bar = length / self.m_per_px
        label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
        y = self.px - 12
        return (f'<g class="scale"><rect x="8" y="{y - 12}" width="{bar + 8:.1f}" height="20" '
                f'fill="#fff" fill-opacity="0.8"/><path d="M12 {y}h{bar:.1f}" stroke="#000" '
                f'stroke-width="2"/><text x="12" y="{y - 3}" font-size="9">{label}</text></g>')


_NORTH = ('<g transform="translate(282 22)"><path d="M0 -12L5 4L0 1L-5 4Z" fill="#000"/>'
          '<text x="0" y="14" font-size="9" text-anchor="middle">N</text></g>')


def _legend(order: list[int], zones: gpd.GeoDataFrame) -> str:
    colours = list(dict.fromkeys(_ZONE_COLOURS.get(str(zones["zone"].iloc[i]), "#d9d9d9")
                                 for i in order))
    items = [(c, _ZONE_NAMES[c]) for c in colours] + [("#c00", "本线索")]
    rows = "".join(
        f'<rect x="6" y="{8 + 13 * k}" width="9" height="9" fill="{c}"/>'
        f'<text x="19" y="{16 + 13 * k}" font-size="9">{html_text(n)}</text>'
        for k, (c, n) in enumerate(items)
    )
    top = _MAP_PX - 13 * len(items) - 10
    return (f'<g class="legend" transform="translate({_MAP_PX - 118} {top})">'
            f'<rect x="2" y="4" width="112" height="{13 * len(items) + 6}" '
            f'fill="#fff" fill-opacity="0.85"/>{rows}</g>')


def _path(geom: shapely.Geometry, xy: Callable[[np.ndarray], np.ndarray]) -> str:
    """SVG path data of the rings and lines of ``geom``."""
    parts: list[str] = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            rings = [part.exterior, *part.interiors]
            close = True
        elif part.geom_type in ("LineString", "LinearRing"):
            rings, close = [part], False
        else:
            continue
        for ring in rings:
            pts = xy(np.asarray(ring.coords)[:, :2])
            if len(pts) < 2:
                continue
            text = " ".join(f"{x:.1f} {y:.1f}" for x, y in pts)
            parts.append(f"M{text}" + ("Z" if close else ""))
    return "".join(parts)


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
    labels = {**LEDGER_COLUMNS, "lonlat": "中心点经纬度(CGCS2000)", "area": "面积"}
    rows = "".join(f"<tr><th>{html_text(labels[c])}</th>"
                   f"<td>{html_text(_text(values.get(c)))}</td></tr>"
                   for c in _ATTRIBUTES if c in labels)
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
       sans-serif; margin: 0; background: #888; color: #111; font-size: 10.5pt; }
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
.map svg { width: 72mm; height: 72mm; border: 1px solid #999; display: block; }
.attrs { border-collapse: collapse; font-size: 8pt; flex: 1; align-self: flex-start; }
.attrs th, .attrs td { border: 1px solid #bbb; padding: 0.3mm 1.5mm; text-align: left;
                       vertical-align: top; }
.attrs th { background: #eef3f8; white-space: nowrap; width: 30mm; }
.chips { display: flex; gap: 6mm; margin-top: 3mm; justify-content: center; }
.chip { width: 68mm; }
.chip img, .nochip { width: 68mm; height: 68mm; display: block; border: 1px solid #999;
                     object-fit: contain; image-rendering: auto; }
.nochip { display: flex; align-items: center; justify-content: center; background: #eee;
          color: #777; }
.record { width: 100%; border-collapse: collapse; margin-top: 3mm; font-size: 9pt; }
.record caption { text-align: left; font-weight: bold; margin-bottom: 1mm; }
.record th, .record td { border: 1px solid #555; padding: 1mm 1.4mm; height: 7.5mm;
                         text-align: left; }
.record th { width: 26mm; background: #f4f4f4; }
.record .tall td { height: 22mm; }
@media print { body { background: #fff; } .lead-page { margin: 0; } }
"""


def _document(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{html_text(title)} 绿盾实地核查单</title><style>{_CSS}</style></head>"
            f"<body>\n{body}\n</body></html>\n")


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return str(value)


# -- files --------------------------------------------------------------------------------
def _print_pdf(chromium: str, html_path: Path, *, required: bool) -> Path | None:
    """Print ``html_path`` to a PDF next to it with headless Chromium."""
    pdf = html_path.with_suffix(".pdf")
    try:
        with tempfile.TemporaryDirectory(prefix="lvdun-chromium-") as profile:
            args = [chromium, "--headless", "--disable-gpu", "--disable-background-networking",
                    f"--user-data-dir={profile}", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", html_path.resolve().as_uri()]
            if hasattr(os, "geteuid") and os.geteuid() == 0:  # Chromium refuses root otherwise
                args.insert(2, "--no-sandbox")
            subprocess.run(args, check=True, capture_output=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as exc:
        if required:
            raise PipelineError(f"Chromium could not print {html_path.name}: {exc}") from exc
        log.warning("no PDF for %s: Chromium failed (%s)", html_path, exc)
        return None
    return pdf if pdf.exists() else None


def _zip(folder: Path, target: Path) -> Path:
    """Zip ``folder`` (entries under the folder's name, sorted) into ``target``."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, Path(folder.name) / path.relative_to(folder))
    return target
