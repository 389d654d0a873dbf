"""folium elements of the published map, drawn by the helpers in ``static/lvdun-map.js``.

No text of the data ever passes through Jinja. branca compiles what a ``MacroElement``
template renders as a new template (it wraps it in a new ``Element``), so a name like
``{{ lipsum.__globals__... }}`` would run as Python. Every element here therefore builds
its JavaScript in Python, from element names and :func:`~pipelines.escape.script_json`
only, and adds it to the page as :class:`RawHtml`, which is written as it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer

from pipelines.escape import html_text, script_json
from webmap.map.features import LayerData

__all__ = [
    "AppInit",
    "GcjBasemaps",
    "GroupedLayerControl",
    "LeadControls",
    "Legend",
    "MapTitle",
    "RawHtml",
    "RawJson",
    "ScaleBar",
    "ScriptElement",
    "VectorLayer",
    "script_json",
]


class RawJson:
    """Text that is already valid JSON (e.g. a GeoJSON FeatureCollection)."""

    def __init__(self, text: str) -> None:
        self.text = text


class RawHtml(Element):
    """HTML written as it is (never compiled as a Jinja template); escape it beforehand."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self._name = "RawHtml"
        self.html = html

    def render(self, **kwargs: Any) -> str:
        """Return the HTML."""
        return self.html


class ScriptElement(MacroElement):
    """An element whose script is built in Python and written to the page as it is.

    Subclasses return their JavaScript from :meth:`script`; it may hold element names
    and :func:`script_json` values only. Nothing is compiled as a template.
    """

    def script(self) -> str:
        """Return the element's JavaScript."""
        raise NotImplementedError

    def render(self, **kwargs: Any) -> None:
        """Add the script to the page's scripts, then render the children."""
        figure = self.get_root()
        figure.script.add_child(RawHtml(self.script()), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class VectorLayer(Layer):
    """A GeoJSON overlay drawn by ``lvdun.vectorLayer``: styled by key, popup and tooltip.

    Parameters
    ----------
    name
        Name in the layer control.
    data
        The layer from :mod:`webmap.map.features` (features with ``k`` and escaped ``v``).
    styles
        Style key -> Leaflet path options.
    fallback
        Path options of features without a known key.
    radius
        Circle marker radius of point features, in pixels.
    boost
        ``(below_zoom, weight)``: below that zoom, polygon outlines get at least that
        weight, so patches too small to see still show as dots of their colour.
    scale
        ``(below_zoom, factor)`` steps by increasing zoom: below the first zoom that
        applies, point markers (radius and ring) and boosted outlines are drawn that
        much smaller, so that an overview of many leads leaves the layers below visible.
    outline_above
        Draw the polygons' outlines once more above every other layer (not clickable),
        so that features drawn over them never hide their boundaries.
    show
        Whether the layer is on when the map opens.
    kind
        What the layer holds (``leads``, ``reserves``...), for the browser.
    source
        URL the web app loads the layer from (``data`` is then empty at first).
    extra
        More spec entries for ``lvdun.vectorLayer`` (the leads' filters and shapes;
        values are raw and the browser only sets them as text).
    """

    def __init__(
        self,
        name: str,
        data: LayerData,
        *,
        styles: dict[str, dict[str, Any]] | None = None,
        fallback: dict[str, Any] | None = None,
        radius: float = 5.0,
        boost: tuple[int, float] | None = None,
        scale: Sequence[tuple[int, float]] = (),
        outline_above: bool = False,
        show: bool = True,
        kind: str = "",
        source: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "VectorLayer"
        self.kind = kind
        self.data_json = script_json(RawJson(data.geojson)) if data.geojson else ""
        self.data_id_js = json.dumps(f"{self.get_name()}-data" if data.geojson else None)
        self.spec_js = script_json(
            {
                **data.spec,
                **(extra or {}),
                "kind": kind,
                "source": source,
                "styles": styles or {},
                "fallback": fallback or {},
                "radius": radius,
                "labels": [html_text(label) for label in data.labels],
                "tooltip": list(data.tooltip),
                "boost": {"belowZoom": boost[0], "weight": boost[1]} if boost else None,
                "scale": [[zoom, factor] for zoom, factor in sorted(scale)] or None,
                "outlineAbove": outline_above,
            }
        )


    def render(self, **kwargs: Any) -> None:
        """Write the data as a JSON block in the page body, then the layer's script.

        Large data read with ``JSON.parse`` loads much faster than a JavaScript literal;
        neither the data nor the spec ever passes through Jinja.
        """
        figure = self.get_root()
        name = self.get_name()
        if self.data_json:
            figure.html.add_child(
                RawHtml(f'<script type="application/json" id="{name}-data">'
                        f"{self.data_json}</script>"),
                name=f"{name}_data",
            )
        script = f"var {name} = lvdun.vectorLayer(lvdun.readJson({self.data_id_js}), " \
                 f"{self.spec_js});"
        if self.show:
            script += f"\n{name}.addTo({self._parent.get_name()});"
        figure.script.add_child(RawHtml(script), name=name)


class _MapCall(ScriptElement):
    """Call one lvdun helper with the parent map and JSON arguments."""

    function = ""

    def __init__(self, *args: Any) -> None:
        super().__init__()
        self._name = type(self).__name__
        self.args_js = ", ".join(script_json(arg) for arg in args)

    def script(self) -> str:
        """``lvdun.<function>(map, args...)``."""
        return f"lvdun.{self.function}({self._parent.get_name()}, {self.args_js});"


class Legend(_MapCall):
    """The legend control; ``html`` must be escaped already (see ``style.legend_html``)."""

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


class _LayersCall(ScriptElement):
    """Call one lvdun helper with the map, some of its vector layers and JSON options."""

    function = ""

    def __init__(self, layers: Mapping[str, VectorLayer | None], options: Any) -> None:
        super().__init__()
        self._name = type(self).__name__
        names = [f"{json.dumps(kind)}: {layer.get_name() if layer else 'null'}"
                 for kind, layer in layers.items()]
        self.layers_js = "{" + ", ".join(names) + "}"
        self.options_js = script_json(options)

    def script(self) -> str:
        """``lvdun.<function>(map, {kind: layer...}, options)``."""
        return (f"lvdun.{self.function}({self._parent.get_name()}, {self.layers_js}, "
                f"{self.options_js});")


class LeadControls(ScriptElement):
    """The filter panel, the search box and ``window.lvdunMap`` (``lvdun.leadControls``).

    Parameters
    ----------
    leads, reserves
        The leads and reserve layers (either may be None).
    statuses
        ``(code, label, colour)`` of each status, in workflow order.
    """

    def __init__(
        self,
        leads: VectorLayer | None,
        reserves: VectorLayer | None,
        statuses: Sequence[tuple[str, str, str]],
    ) -> None:
        super().__init__()
        self._name = "LeadControls"
        self.leads_js = leads.get_name() if leads else "null"
        self.reserves_js = reserves.get_name() if reserves else "null"
        self.options_js = script_json({"statuses": [list(s) for s in statuses]})

    def script(self) -> str:
        """``lvdun.leadControls(map, leads, reserves, options)``."""
        return (f"lvdun.leadControls({self._parent.get_name()}, {self.leads_js}, "
                f"{self.reserves_js}, {self.options_js});")


class AppInit(_LayersCall):
    """Start the web app page: log in, load every layer from the API (``lvdun.appInit``)."""

    function = "appInit"


class GcjBasemaps(_MapCall):
    """Shift lvdun layers to GCJ-02 while one of the named (Amap) basemaps is shown."""

    function = "gcjBasemaps"

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(list(names))


class GroupedLayerControl(JSCSSMixin, ScriptElement):
    """The layer control: basemaps as radio buttons under a title, overlays grouped by kind.

    Drawn by ``lvdun.groupedLayers`` over the vendored leaflet-groupedlayercontrol. Like
    :class:`folium.LayerControl`, it lists the map's layers when the map is rendered, so
    add it after them or before: either works. A layer's group is found from its
    :attr:`VectorLayer.kind`; overlays of no listed kind go in ``other_title``. Empty
    groups are left out. Names and titles are set as text in the page.

    Parameters
    ----------
    groups
        Group title -> kinds of the layers in it, in display order (top first).
    base_title
        Title above the basemaps (radio buttons: one is shown at a time).
    other_title
        Group of the overlays whose kind is in no group.
    position
        Corner of the map.
    collapsed
        Show the control as an icon that opens on hover instead of open.
    """

    #: The names folium's own GroupedLayerControl uses: both are inlined from webmap/static.
    default_js: ClassVar[list[tuple[str, str]]] = [
        (
            "leaflet.groupedlayercontrol.min.js",
            "https://cdn.jsdelivr.net/npm/leaflet-groupedlayercontrol@0.6.1/dist/"
            "leaflet.groupedlayercontrol.min.js",
        )
    ]
    default_css: ClassVar[list[tuple[str, str]]] = [
        (
            "leaflet.groupedlayercontrol.min.css",
            "https://cdn.jsdelivr.net/npm/leaflet-groupedlayercontrol@0.6.1/dist/"
            "leaflet.groupedlayercontrol.min.css",
        )
    ]

    def __init__(
        self,
        groups: Mapping[str, Sequence[str]],
        *,
        base_title: str,
        other_title: str = "其他",
        position: str = "topright",
        collapsed: bool = False,
    ) -> None:
        super().__init__()
        self._name = "GroupedLayerControl"
        self.groups = {title: tuple(kinds) for title, kinds in groups.items()}
        self.base_title = base_title
        self.other_title = other_title
        self.position = position
        self.collapsed = collapsed
        self.layers_js = ""
        self.spec_js = ""

    def entries(self) -> tuple[list[tuple[str, Layer]], list[tuple[str, list[tuple[str, Layer]]]]]:
        """Return the basemaps ``(name, layer)`` and the groups ``(title, [(name, layer)])``.

        Layers are those of the parent map with ``control=True``, in the order they were
        added; groups in the order of ``groups``, then ``other_title``; empty ones left out.
        """
        group_of = {kind: title for title, kinds in self.groups.items() for kind in kinds}
        bases: list[tuple[str, Layer]] = []
        grouped: dict[str, list[tuple[str, Layer]]] = {t: [] for t in self.groups}
        for item in self._parent._children.values():
            if not isinstance(item, Layer) or not item.control:
                continue
            if not item.overlay:
                bases.append((item.layer_name, item))
                continue
            title = group_of.get(getattr(item, "kind", ""), self.other_title)
            grouped.setdefault(title, []).append((item.layer_name, item))
        return bases, [(title, layers) for title, layers in grouped.items() if layers]

    def render(self, **kwargs: Any) -> None:
        """List the map's layers, then render as any element."""
        bases, groups = self.entries()
        layers = [layer for _, layer in bases]
        layers += [layer for _, members in groups for _, layer in members]
        index = {id(layer): k for k, layer in enumerate(layers)}
        self.layers_js = ", ".join(layer.get_name() for layer in layers)
        self.spec_js = script_json(
            {
                "base": [[name, index[id(layer)]] for name, layer in bases],
                "groups": [
                    [title, [[name, index[id(layer)]] for name, layer in members]]
                    for title, members in groups
                ],
                "baseTitle": self.base_title,
                "position": self.position,
                "collapsed": self.collapsed,
            }
        )
        super().render(**kwargs)

    def script(self) -> str:
        """``var control = lvdun.groupedLayers(map, [layers...], spec)``."""
        return (f"var {self.get_name()} = lvdun.groupedLayers({self._parent.get_name()},\n"
                f"    [{self.layers_js}],\n    {self.spec_js});\n")
