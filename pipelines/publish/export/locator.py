"""Location maps (位置示意图) of a verification packet, drawn from the zones (no tiles).

A reserve's packet shows every lead on the same map of the reserve: its zones (and those
of neighbours in view), a dot per lead of the packet, scale bar, north arrow and legend.
The zones and dots are drawn once per packet (:meth:`Locator.base`: a PNG every page
refers to, so that a browser decodes it once and a PDF holds it once) and each page lays
over it an SVG of its lead's marker and outline, the scale bar, north arrow and legend
(:meth:`Locator.marker`), about a kilobyte. A lead outside every reserve gets an SVG map
of its own neighbourhood (:meth:`Locator.neighbourhood`), reaching the nearest reserve
boundary. Zones are clipped to the map's frame and simplified to the pixels drawn (half
a pixel in the PNG, a pixel in an SVG), so a map weighs what it shows, not what the
surveyed boundary weighs.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from layers.schema import ZONE_RANK, Zone
from pipelines.escape import html_text

__all__ = ["MAP_PX", "BaseMap", "Frame", "Locator"]

#: Side of a location map, in SVG pixels.
MAP_PX = 300
#: Pixels of the base map's PNG per SVG pixel (sharp when printed at 72 mm).
_PNG_SCALE = 2
_BACKGROUND = "#f7fbff"
_CHROME_ID = "map-chrome"
_ZONE_COLOURS = {
    Zone.CORE.value: "#e06666", Zone.CORE_PROTECTION.value: "#e06666",
    Zone.BUFFER.value: "#f6b26b",
    Zone.EXPERIMENTAL.value: "#b6d7a8", Zone.GENERAL_CONTROL.value: "#b6d7a8",
    Zone.UNZONED.value: "#d9d9d9",
}
_ZONE_NAMES = {"#e06666": "核心区/核心保护区", "#f6b26b": "缓冲区",
               "#b6d7a8": "实验区/一般控制区", "#d9d9d9": "未分区"}
_RANK = {z.value: r for z, r in ZONE_RANK.items()}
_OUTSIDE_RADIUS_M = 3000.0
_OUTSIDE_MAX_M = 15000.0
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON = 111_320.0
_NORTH = ('<g transform="translate(282 22)"><path d="M0 -12L5 4L0 1L-5 4Z" fill="#000"/>'
          '<text x="0" y="14" font-size="9" text-anchor="middle">N</text></g>')


class Frame:
    """Lon/lat to SVG pixels: local equirectangular, square, 6 % margin.

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` in degrees that the map must show.
    px
        Side of the map in pixels.
    """

    def __init__(self, bounds: tuple[float, float, float, float], px: int = MAP_PX) -> None:
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


class Locator:
    """Draws the location maps of one export from the reserves' zones.

    Parameters
    ----------
    zones
        The ``reserves`` layer (one row per reserve and zone; columns ``reserve_code``,
        ``zone``), lon/lat.
    """

    def __init__(self, zones: gpd.GeoDataFrame) -> None:
        self.geoms = np.asarray(zones.geometry.values, dtype=object)
        self.zone = zones["zone"].astype(str).to_numpy() if len(zones) else np.array([])
        self.codes = zones["reserve_code"].astype(str).to_numpy() if len(zones) else np.array(
            [])
        self.tree = shapely.STRtree(self.geoms)

    def extent(self, leads: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
        """The bounds a reserve's map shows: its zones and its leads (None without leads)."""
        if not len(leads):
            return None
        codes = set(leads["reserve_code"].dropna().astype(str))
        mine = self.geoms[np.isin(self.codes, list(codes))] if len(self.codes) else []
        boxes = [shapely.total_bounds(leads.geometry.values)]
        if len(mine):
            boxes.append(shapely.total_bounds(mine))
        b = np.array(boxes)
        return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()),
                float(b[:, 3].max()))

    def base(self, bounds: tuple[float, float, float, float], dots: np.ndarray) -> BaseMap:
        """The map of a reserve's packet without any lead marked.

        Parameters
        ----------
        bounds
            What the map shows (:meth:`extent`).
        dots
            ``(n, 2)`` lon/lat of the packet's leads, drawn as grey dots.
        """
        from PIL import Image, ImageDraw

        frame = Frame(bounds)
        order, view = self._in_view(frame)
        side = MAP_PX * _PNG_SCALE
        image = Image.new("RGBA", (side, side), _BACKGROUND)
        for i in order:
            shown = shapely.simplify(shapely.clip_by_rect(self.geoms[i], *view),
                                     frame.deg_per_px / _PNG_SCALE / 2)
            mask = Image.new("L", image.size, 0)
            fill = ImageDraw.Draw(mask)
            for polygon in shapely.get_parts(shown):
                if polygon.geom_type != "Polygon":
                    continue
                rings = [polygon.exterior, *polygon.interiors]
                for k, ring in enumerate(rings):
                    pts = [tuple(p) for p in frame.xy(np.asarray(ring.coords)[:, :2])
                           * _PNG_SCALE]
                    if len(pts) >= 3:
                        fill.polygon(pts, fill=255 if k == 0 else 0)
            layer = Image.new("RGBA", image.size, _ZONE_COLOURS.get(self.zone[i], "#d9d9d9"))
            layer.putalpha(mask.point(lambda v: v * 3 // 4))  # fill-opacity 0.75
            lines = ImageDraw.Draw(layer)
            for polygon in shapely.get_parts(shown):
                if polygon.geom_type == "Polygon":
                    for ring in (polygon.exterior, *polygon.interiors):
                        pts = [tuple(p) for p in frame.xy(np.asarray(ring.coords)[:, :2])
                               * _PNG_SCALE]
                        if len(pts) >= 2:
                            lines.line(pts, fill="#555555", width=1)
            image = Image.alpha_composite(image, layer)
        draw = ImageDraw.Draw(image)
        r = 1.8 * _PNG_SCALE
        for x, y in _dots_in(frame, dots) * _PNG_SCALE:
            draw.ellipse((x - r, y - r, x + r, y + r), fill="#666666")
        out = io.BytesIO()
        image.convert("RGB").save(out, format="PNG")
        chrome = frame.scale_bar() + _NORTH + _legend(self._colours(order))
        return BaseMap(frame, out.getvalue(), chrome)

    def marker(self, base: BaseMap, geom: shapely.Geometry) -> str:
        """The overlay of one lead on its packet's :meth:`base` map (an inline SVG).

        It draws the map's scale bar, north arrow and legend from :meth:`defs`, which the
        document holds once.
        """
        return _svg(f'<use href="#{_CHROME_ID}"/>' + _mark(base.frame, geom), css="mark")

    @staticmethod
    def defs(base: BaseMap) -> str:
        """What every :meth:`marker` of ``base`` draws, once per HTML document."""
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0" '
                f'style="position:absolute" aria-hidden="true"><defs><g id="{_CHROME_ID}">'
                f"{base.chrome}</g></defs></svg>")

    def neighbourhood(self, geom: shapely.Geometry, dist_m: float | None,
                      dots: np.ndarray) -> str:
        """The map of a lead outside every reserve: its surroundings, to the nearest boundary.

        Parameters
        ----------
        geom : shapely.Geometry
            The lead.
        dist_m : float or None
            Its distance to the nearest reserve boundary in metres (None: unknown).
        dots : numpy.ndarray
            ``(n, 2)`` lon/lat of the other leads of the packet.
        """
        c = shapely.centroid(geom)
        dist = dist_m if dist_m is not None and math.isfinite(dist_m) else 0.0
        radius = min(max(_OUTSIDE_RADIUS_M, dist * 1.15), _OUTSIDE_MAX_M)
        dx = radius / (_M_PER_DEG_LON * math.cos(math.radians(c.y)))
        dy = radius / _M_PER_DEG_LAT
        frame = Frame((c.x - dx, c.y - dy, c.x + dx, c.y + dy))
        return _svg(self._ground(frame, dots) + _mark(frame, geom))

    def _in_view(self, frame: Frame) -> tuple[list[int], tuple[float, float, float, float]]:
        """Zones in view of ``frame`` (stricter ones last, to be drawn on top), and the view."""
        minx, miny, maxx, maxy = frame.bounds
        pad = 2 * frame.deg_per_px
        view = (minx - pad, miny - pad, maxx + pad, maxy + pad)
        near = self.tree.query(shapely.box(*view), predicate="intersects") if len(
            self.geoms) else np.array([], dtype=int)
        return sorted(near.tolist(), key=lambda i: (_RANK.get(self.zone[i], 0), i)), view

    def _colours(self, order: list[int]) -> list[str]:
        return list(dict.fromkeys(_ZONE_COLOURS.get(self.zone[i], "#d9d9d9") for i in order))

    def _ground(self, frame: Frame, dots: np.ndarray) -> str:
        """Zones in view as SVG, dots, scale bar, north arrow, legend."""
        order, view = self._in_view(frame)
        parts = [f'<rect width="100%" height="100%" fill="{_BACKGROUND}"/>',
                 '<g fill-opacity="0.75" stroke="#555" stroke-width="0.6" '
                 'fill-rule="evenodd">']
        for i in order:
            colour = _ZONE_COLOURS.get(self.zone[i], "#d9d9d9")
            shown = shapely.simplify(shapely.clip_by_rect(self.geoms[i], *view),
                                     frame.deg_per_px)
            path = _path(shown, frame.xy, digits=0)  # whole pixels: 0.24 mm at 72 mm
            if path:
                parts.append(f'<path d="{path}" fill="{colour}"/>')
        parts.append('</g><g fill="#666">')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.8"/>'
                  for x, y in _dots_in(frame, dots)]
        parts.append("</g>")
        parts.append(frame.scale_bar() + _NORTH + _legend(self._colours(order)))
        return "".join(parts)


@dataclass(frozen=True)
class BaseMap:
    """A reserve's map drawn once: its frame, the PNG of zones and dots, the SVG furniture.

    ``chrome`` is the scale bar, north arrow and legend, laid over the PNG with each
    lead's marker.
    """

    frame: Frame
    png: bytes
    chrome: str


def _dots_in(frame: Frame, dots: np.ndarray) -> np.ndarray:
    """Pixel positions of the ``dots`` inside the frame, each once (to a tenth of a pixel)."""
    if not len(dots):
        return np.empty((0, 2))
    xy = frame.xy(np.asarray(dots, dtype=float))
    inside = (xy[:, 0] >= 0) & (xy[:, 0] <= frame.px) & (xy[:, 1] >= 0) & (xy[:, 1] <= frame.px)
    return np.unique(np.round(xy[inside], 1), axis=0)


def _svg(body: str, *, css: str = "") -> str:
    ns = ' xmlns="http://www.w3.org/2000/svg"'
    cls = f' class="{css}"' if css else ""
    return (f'<svg{ns}{cls} viewBox="0 0 {MAP_PX} {MAP_PX}" width="{MAP_PX}" '
            f'height="{MAP_PX}">{body}</svg>')


def _mark(frame: Frame, geom: shapely.Geometry) -> str:
    """The lead's outline (a patch) and a red cross-hair ring on its centre."""
    parts = []
    if shapely.get_dimensions(geom) == 2:
        parts.append(f'<path d="{_path(geom, frame.xy)}" fill="#c00" fill-opacity="0.5" '
                     'stroke="#c00" stroke-width="1.2" fill-rule="evenodd"/>')
    c = shapely.centroid(geom)
    x, y = frame.xy(np.array([[c.x, c.y]]))[0]
    parts.append(f'<circle class="lead-marker" cx="{x:.1f}" cy="{y:.1f}" r="7" fill="none" '
                 'stroke="#c00" stroke-width="2.2"/>'
                 f'<path d="M{x - 11:.1f} {y:.1f}h6M{x + 5:.1f} {y:.1f}h6M{x:.1f} '
                 f'{y - 11:.1f}v6M{x:.1f} {y + 5:.1f}v6" stroke="#c00" stroke-width="1.6"/>')
    return "".join(parts)


def _legend(colours: list[str]) -> str:
    items = [(c, _ZONE_NAMES[c]) for c in colours] + [("#c00", "本线索")]
    rows = "".join(
        f'<rect x="6" y="{8 + 13 * k}" width="9" height="9" fill="{c}"/>'
        f'<text x="19" y="{16 + 13 * k}" font-size="9">{html_text(n)}</text>'
        for k, (c, n) in enumerate(items)
    )
    top = MAP_PX - 13 * len(items) - 10
    return (f'<g class="legend" transform="translate({MAP_PX - 118} {top})">'
            f'<rect x="2" y="4" width="112" height="{13 * len(items) + 6}" '
            f'fill="#fff" fill-opacity="0.85"/>{rows}</g>')


def _path(geom: Any, xy: Callable[[np.ndarray], np.ndarray], *, digits: int = 1) -> str:
    """SVG path data of the rings and lines of ``geom`` (pixels to ``digits`` decimals)."""
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
            text = " ".join(f"{x:.{digits}f} {y:.{digits}f}" for x, y in pts)
            parts.append(f"M{text}" + ("Z" if close else ""))
    return "".join(parts)
