"""Colours of the map: every lead marker stands out on every zone fill (WCAG contrast)."""

from __future__ import annotations

import pytest

from layers.schema import Zone
from webmap.map.style import POINT_KEY, ZONE_FILL, lead_styles, reserve_style_key, reserve_styles


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG relative luminance of 0-255 sRGB."""
    linear = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4
              for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _zone_on_light_ground(zone: Zone) -> tuple[float, float, float]:
    """The zone's fill as drawn at its opacity over the light offline background."""
    style = reserve_styles()[reserve_style_key(zone, None)]
    alpha = style["fillOpacity"]
    return tuple(alpha * c + (1 - alpha) * 250 for c in _rgb(style["fillColor"]))  # type: ignore[return-value]


POINT_STYLES = {k: v for k, v in lead_styles().items() if k.endswith(POINT_KEY)}


@pytest.mark.parametrize("zone", list(ZONE_FILL))
@pytest.mark.parametrize("key", sorted(POINT_STYLES))
def test_every_marker_stands_out_on_every_zone_fill_by_its_ring_or_its_fill(key, zone):
    ground = _zone_on_light_ground(zone)
    ring = _contrast(_rgb(POINT_STYLES[key]["color"]), ground)
    fill = _contrast(_rgb(POINT_STYLES[key]["fillColor"]), ground)
    assert max(ring, fill) >= 1.6, (key, zone, ring, fill)


@pytest.mark.parametrize("zone", list(ZONE_FILL))
@pytest.mark.parametrize("key", ["pending" + POINT_KEY, "unknown" + POINT_KEY])
def test_grey_and_white_markers_have_a_dark_ring_on_every_zone(key, zone):
    ring = _rgb(POINT_STYLES[key]["color"])
    assert _contrast(ring, _zone_on_light_ground(zone)) >= 3.0, (key, zone)


def test_pending_grey_alone_would_vanish_on_the_core_fill():
    """Why the ring is needed: the grey fill itself is below 1.5:1 on 核心区."""
    grey = _rgb(POINT_STYLES["pending" + POINT_KEY]["fillColor"])
    assert _contrast(grey, _zone_on_light_ground(Zone.CORE)) < 1.5
