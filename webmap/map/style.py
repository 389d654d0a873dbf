"""Colours, line styles and the legend of the published map.

Styles are Leaflet path options keyed by a class (zone, level, status); the map writes
each style once per layer and each feature carries only its key. Zone colours follow
strictness (:data:`layers.schema.ZONE_RANK`): the stricter the zone, the darker and
redder; lead colours follow the verification workflow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from layers.schema import (
    LEVEL_LABELS,
    STATUS_COLOURS,
    STATUS_LABELS,
    ZONE_LABELS,
    ZONE_RANK,
    Level,
    Zone,
)
from pipelines.escape import html_text

__all__ = [
    "ACTIVITY_SHAPES",
    "ADMIN_STYLE",
    "BASEMAP_TITLE",
    "LAYER_ADMIN",
    "LAYER_GROUPS",
    "LAYER_LEADS",
    "LAYER_MINES",
    "LAYER_OTHER_MINES",
    "LAYER_RESERVES",
    "LAYER_WETLANDS",
    "LEVEL_OUTLINE",
    "MINE_STYLE",
    "OTHER_MINE_STYLE",
    "POINT_KEY",
    "SHAPE_VERTICES",
    "STATUS_COLOURS",
    "UNKNOWN_STATUS",
    "WETLAND_STYLE",
    "ZONE_FILL",
    "activity_shape",
    "lead_styles",
    "legend_html",
    "reserve_style_key",
    "reserve_styles",
    "shape_svg",
]

LAYER_RESERVES = "保护区功能区"
LAYER_WETLANDS = "湿地"
LAYER_MINES = "关闭矿山"
#: Mines that are not closed (有效, or a status the file did not give): their own layer.
LAYER_OTHER_MINES = "有效矿山及其他"
LAYER_ADMIN = "县界"
LAYER_LEADS = "线索"

#: Groups of the layer control, top first: title -> kinds of the layers in it.
LAYER_GROUPS: dict[str, tuple[str, ...]] = {
    "线索": ("leads",),
    "保护地": ("reserves",),
    "湿地": ("wetlands",),
    "矿山": ("mines", "other_mines"),
    "行政区": ("admin",),
}
#: Title of the basemaps in the layer control.
BASEMAP_TITLE = "底图"

#: Fill by strictness; both zoning systems share colours where their rank is equal.
ZONE_FILL: dict[Zone, str] = {
    Zone.CORE: "#8b0000",
    Zone.CORE_PROTECTION: "#8b0000",
    Zone.BUFFER: "#f28c28",
    Zone.EXPERIMENTAL: "#f2d13a",
    Zone.GENERAL_CONTROL: "#f2d13a",
    Zone.UNZONED: "#a8dc96",
}
_ZONE_FILL_OPACITY = 0.45

#: Outline by reserve level: national reserves thick and dark, local ones thin and dashed.
LEVEL_OUTLINE: dict[Level | None, dict[str, Any]] = {
    Level.NATIONAL: {"color": "#1a1a1a", "weight": 2.5},
    Level.PROVINCIAL: {"color": "#4d4d4d", "weight": 1.8},
    Level.MUNICIPAL: {"color": "#6e6e6e", "weight": 1.2, "dashArray": "6 4"},
    Level.COUNTY: {"color": "#8c8c8c", "weight": 1.0, "dashArray": "2 4"},
    None: {"color": "#8c8c8c", "weight": 1.0},
}

UNKNOWN_STATUS = "unknown"
#: Suffix of the style keys of point leads (circle markers).
POINT_KEY = ".pt"
_UNKNOWN_STATUS_LABEL = "状态不明"
_UNKNOWN_STATUS_COLOUR = "#ffffff"

WETLAND_STYLE: dict[str, Any] = {
    "color": "#1f5fa8",
    "weight": 1.0,
    "fillColor": "#4a90d9",
    "fillOpacity": 0.35,
}
MINE_STYLE: dict[str, Any] = {
    "color": "#5b4636",
    "weight": 1.2,
    "fillColor": "#8c6d4f",
    "fillOpacity": 0.55,
}
#: Mines with valid rights (or no closed status): hatched-looking, lighter and dashed.
OTHER_MINE_STYLE: dict[str, Any] = {
    "color": "#4d5b36",
    "weight": 1.2,
    "dashArray": "4 3",
    "fillColor": "#b5b58c",
    "fillOpacity": 0.4,
}
#: Ring of grey and white point leads (待核查, 状态不明): dark, at least 6:1 against every
#: zone fill over a light background, where grey alone is 1.2:1 on 核心区 and a white ring
#: 1.2:1 on 实验区. The coloured statuses keep a white ring (crowds of them stay readable).
_DARK_RING = "#1a1a1a"
_LIGHT_FILLS = frozenset({"pending", "unknown"})
ADMIN_STYLE: dict[str, Any] = {"color": "#7a7a7a", "weight": 1.0, "fill": False, "opacity": 0.9}


#: Marker shape of point leads by MEE activity type; other types are circles.
ACTIVITY_SHAPES: dict[str, str] = {
    "矿产资源开发": "triangle",
    "工业开发": "square",
    "能源开发": "star",
    "旅游开发": "pentagon",
    "交通开发": "diamond",
    "养殖开发": "hexagon",
    "农业用地": "triangle-down",
    "居民点": "cross",
    "其他人工设施": "circle",
}


def _polygon(n: int, *, start: float = -90.0, radii: Sequence[float] = (1.0,)) -> list[list[float]]:
    """Vertices of a regular polygon (or a star, with two radii) of unit size, y down."""
    points = []
    for k in range(n * len(radii)):
        angle = math.radians(start + k * 360.0 / (n * len(radii)))
        r = radii[k % len(radii)]
        points.append([round(r * math.cos(angle), 3), round(r * math.sin(angle), 3)])
    return points


_ARM = 0.35
#: Unit vertices of each marker shape (y down, radius 1); "circle" has none. The legend
#: draws them as SVG, the browser scales them by the marker radius on the canvas.
SHAPE_VERTICES: dict[str, list[list[float]]] = {
    "circle": [],
    "square": [[-0.85, -0.85], [0.85, -0.85], [0.85, 0.85], [-0.85, 0.85]],
    "triangle": _polygon(3, radii=(1.2,)),
    "triangle-down": _polygon(3, start=90.0, radii=(1.2,)),
    "diamond": _polygon(4, radii=(1.15,)),
    "pentagon": _polygon(5, radii=(1.05,)),
    "hexagon": _polygon(6, start=0.0),
    "star": _polygon(5, radii=(1.3, 0.55)),
    "cross": [[-_ARM, -1], [_ARM, -1], [_ARM, -_ARM], [1, -_ARM], [1, _ARM], [_ARM, _ARM],
              [_ARM, 1], [-_ARM, 1], [-_ARM, _ARM], [-1, _ARM], [-1, -_ARM], [-_ARM, -_ARM]],
}


def activity_shape(activity: str | None) -> str:
    """Return the marker shape of an activity type (:data:`ACTIVITY_SHAPES`), else circle.

    Examples
    --------
    >>> activity_shape("能源开发"), activity_shape("挖塘"), activity_shape(None)
    ('star', 'circle', 'circle')
    """
    return ACTIVITY_SHAPES.get(activity or "", "circle")


def shape_svg(shape: str, *, size: int = 12, fill: str = "#555555") -> str:
    """Return an inline SVG of a marker shape, for the legend.

    Parameters
    ----------
    shape : str
        The marker shape (a key of ``SHAPE_VERTICES``; others draw a circle).
    size : int
        Width and height in pixels.
    fill : str
        Fill colour.
    """
    half = size / 2
    scale = half / 1.35
    vertices = SHAPE_VERTICES.get(shape) or []
    if not vertices:
        body = f'<circle cx="{half:g}" cy="{half:g}" r="{scale:.2f}"/>'
    else:
        points = " ".join(f"{half + x * scale:.2f},{half + y * scale:.2f}" for x, y in vertices)
        body = f'<polygon points="{points}"/>'
    return (
        f'<svg class="shape" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
        f'fill="{fill}" stroke="#ffffff" stroke-width="0.8">{body}</svg>'
    )


def reserve_style_key(zone: Zone, level: Level | None) -> str:
    """Return the style key of a reserve polygon, e.g. ``"core|national"``."""
    return f"{zone.value}|{level.value if level else ''}"


def reserve_styles() -> dict[str, dict[str, Any]]:
    """Return the path options of every (zone, level) pair, keyed by :func:`reserve_style_key`."""
    styles: dict[str, dict[str, Any]] = {}
    for zone, fill in ZONE_FILL.items():
        for level, outline in LEVEL_OUTLINE.items():
            styles[reserve_style_key(zone, level)] = {
                **outline,
                "fillColor": fill,
                "fillOpacity": _ZONE_FILL_OPACITY,
            }
    return styles


def lead_styles() -> dict[str, dict[str, Any]]:
    """Return the path options of each status, for patches and (key + :data:`POINT_KEY`) points.

    Patches get a coloured outline and a light fill; points (circle markers) a solid fill
    and a white ring, so they stay visible over dark core zones, or a dark ring for the
    grey and white fills (待核查 on the red core fill, 状态不明 on the light ones).

    Returns
    -------
    dict
        Status code (or :data:`UNKNOWN_STATUS`), optionally suffixed with
        :data:`POINT_KEY` -> Leaflet path options.
    """
    colours: dict[str, str] = {status.value: colour for status, colour in STATUS_COLOURS.items()}
    colours[UNKNOWN_STATUS] = _UNKNOWN_STATUS_COLOUR
    styles: dict[str, dict[str, Any]] = {}
    for key, colour in colours.items():
        unknown = key == UNKNOWN_STATUS
        styles[key] = {
            "color": "#555555" if unknown else colour,
            "weight": 2.0,
            "fillColor": colour,
            "fillOpacity": 0.4,
        }
        styles[key + POINT_KEY] = {
            "color": _DARK_RING if key in _LIGHT_FILLS else "#ffffff",
            "weight": 1.2,
            "fillColor": colour,
            "fillOpacity": 0.95,
        }
    return styles


def _swatch(fill: str, *, outline: str = "#555555", width: float = 1.0, dash: bool = False) -> str:
    border = "dashed" if dash else "solid"
    return (
        f'<span class="swatch" style="background:{fill};'
        f'border:{max(width, 1.0):g}px {border} {outline}"></span>'
    )


def _row(symbol: str, label: str, count: int | None = None, status: str | None = None) -> str:
    attr = f' data-status="{status}"' if status else ""
    counted = f'<span class="count"{attr}>{count:,}</span>' if count is not None else ""
    return f'<div class="row">{symbol}{html_text(label)}{counted}</div>'


def legend_html(
    *,
    status_counts: Mapping[str, int] | None,
    zones: bool,
    wetlands: bool,
    mines: bool,
    admin: bool,
    activities: Sequence[str] = (),
    other_mines: bool = False,
) -> str:
    """Return the legend as HTML, in Chinese; every label is escaped.

    Parameters
    ----------
    status_counts : mapping of str to int, or None
        Leads per status code (may include :data:`UNKNOWN_STATUS`); None if no leads.
        The page keeps the counts up to date with the filters (``data-status``).
    zones, wetlands, mines, admin : bool
        Whether the map has that layer; sections of absent layers are left out.
    other_mines : bool
        Whether the map has the layer of mines that are not closed.
    activities : sequence of str
        Activity types of point leads, listed with their marker shape; empty for none.

    Returns
    -------
    str
        A ``<details>`` block, open by default, for :func:`lvdun.addLegend`.
    """
    parts = ["<details open><summary>图例</summary>"]
    if status_counts is not None:
        parts.append(f"<h4>{LAYER_LEADS}（核查状态）</h4>")
        for status, colour in STATUS_COLOURS.items():
            dot = f'<span class="dot" style="background:{colour}"></span>'
            parts.append(_row(dot, STATUS_LABELS[status], status_counts.get(status.value, 0),
                              status.value))
        if status_counts.get(UNKNOWN_STATUS):
            dot = f'<span class="dot" style="background:{_UNKNOWN_STATUS_COLOUR}"></span>'
            parts.append(_row(dot, _UNKNOWN_STATUS_LABEL, status_counts[UNKNOWN_STATUS],
                              UNKNOWN_STATUS))
    if activities:
        parts.append("<h4>活动类型（点的形状）</h4>")
        for activity in activities:
            parts.append(_row(shape_svg(activity_shape(activity)), activity))
    if zones:
        parts.append(f"<h4>{LAYER_RESERVES}</h4>")
        seen: set[str] = set()
        for zone in sorted(ZONE_FILL, key=lambda z: -ZONE_RANK[z]):
            fill = ZONE_FILL[zone]
            same_rank = [z for z in ZONE_FILL if ZONE_FILL[z] == fill]
            label = " / ".join(ZONE_LABELS[z] for z in same_rank)
            if label not in seen:
                seen.add(label)
                parts.append(_row(_swatch(fill), label))
        parts.append("<h4>保护区级别（边线）</h4>")
        for level, outline in LEVEL_OUTLINE.items():
            if level is None:
                continue
            symbol = _swatch(
                "transparent",
                outline=outline["color"],
                width=outline["weight"],
                dash="dashArray" in outline,
            )
            parts.append(_row(symbol, LEVEL_LABELS[level]))
    others = [
        (wetlands, WETLAND_STYLE, LAYER_WETLANDS),
        (mines, MINE_STYLE, LAYER_MINES),
        (other_mines, OTHER_MINE_STYLE, LAYER_OTHER_MINES),
        (admin, ADMIN_STYLE, LAYER_ADMIN),
    ]
    if any(present for present, _, _ in others):
        parts.append("<h4>其他图层</h4>")
        for present, style, label in others:
            if present:
                fill = style.get("fillColor", "transparent") if style.get("fill", True) else None
                swatch = _swatch(fill or "transparent", outline=style["color"],
                                 dash="dashArray" in style)
                parts.append(_row(swatch, label))
    parts.append("</details>")
    return "".join(parts)
