"""folium elements of the published map, drawn by the helpers in ``static/lvdun-map.js``."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from branca.element import MacroElement
from folium.map import Layer
from folium.template import Template

from webmap.features import LayerData

__all__ = ["Legend", "MapTitle", "RawJson", "ScaleBar", "VectorLayer", "script_json"]


def script_json(value: Any) -> str:
    """Return ``value`` as JSON that is safe inside an HTML ``<script>`` element.

    ``<`` and ``>`` are written as ``\\u003c`` / ``\\u003e`` so that no data can close the
    script; non-ASCII text stays UTF-8. Wrap text that is already JSON (a GeoJSON
    FeatureCollection) in :class:`RawJson` to embed it as it is.

    Examples
    --------
    >>> script_json({"t": "</script>"})
    '{"t":"\\\\u003c/script\\\\u003e"}'
    """
    raw = (
        value.text
        if isinstance(value, RawJson)
        else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    )
    return (
        raw.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


class RawJson:
    """Text that is already valid JSON (e.g. a GeoJSON FeatureCollection)."""

    def __init__(self, text: str) -> None:
        self.text = text


class VectorLayer(Layer):
    """A GeoJSON overlay drawn by ``lvdun.vectorLayer``: styled by key, popup and tooltip.

    Parameters
    ----------
    name
        Name in the layer control.
    data
        The layer from :mod:`webmap.features` (features with ``k`` and escaped ``v``).
    styles
        Style key -> Leaflet path options.
    fallback
        Path options of features without a known key.
    radius
        Circle marker radius of point features, in pixels.
    boost
        ``(below_zoom, weight)``: below that zoom, polygon outlines get at least that
        weight, so patches too small to see still show as dots of their colour.
    show
        Whether the layer is on when the map opens.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = lvdun.vectorLayer(
                {{ this.data_js }},
                {{ this.spec_js }}
            );
        {% endmacro %}
        """
    )

    def __init__(
        self,
        name: str,
        data: LayerData,
        *,
        styles: dict[str, dict[str, Any]] | None = None,
        fallback: dict[str, Any] | None = None,
        radius: float = 5.0,
        boost: tuple[int, float] | None = None,
        show: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "VectorLayer"
        self.data_js = script_json(RawJson(data.geojson))
        self.spec_js = script_json(
            {
                "styles": styles or {},
                "fallback": fallback or {},
                "radius": radius,
                "labels": [escape(label) for label in data.labels],
                "tooltip": list(data.tooltip),
                "boost": {"belowZoom": boost[0], "weight": boost[1]} if boost else None,
            }
        )


class _MapCall(MacroElement):
    """Call one lvdun helper with the parent map and JSON arguments."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            lvdun.{{ this.function }}({{ this._parent.get_name() }}, {{ this.args_js }});
        {% endmacro %}
        """
    )
    function = ""

    def __init__(self, *args: Any) -> None:
        super().__init__()
        self._name = type(self).__name__
        self.args_js = ", ".join(script_json(arg) for arg in args)


class Legend(_MapCall):
    """The legend control; ``html`` must be escaped already (:func:`webmap.style.legend_html`)."""

    function = "addLegend"

    def __init__(self, html: str, position: str = "bottomright") -> None:
        super().__init__(html, position)


class MapTitle(_MapCall):
    """The map title at the top centre, set as text (never parsed as HTML)."""

    function = "addTitle"

    def __init__(self, title: str) -> None:
        super().__init__(title)


class ScaleBar(_MapCall):
    """A metric-only scale bar (folium's ``control_scale`` also shows miles and feet)."""

    function = "addScale"

    def __init__(self, position: str = "bottomleft") -> None:
        super().__init__(position)
