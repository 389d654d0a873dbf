"""QGIS styles of the workspace's layers, written into the workspace itself.

A GeoPackage or PostGIS workspace opened in QGIS shows every layer styled as the web map
draws it: leads (and the view ``lead_status_view``) coloured by verification state with
the Chinese state names as category labels, reserve zones filled by strictness with the
outline width by reserve level, wetlands, mines and counties in plain styles, each with a
Chinese label. Every style is written twice, as a QGIS document (QML) and as an OGC
Styled Layer Descriptor (SLD 1.1) for other GIS clients, into the ``layer_styles`` table
QGIS reads the default style from (:meth:`Workspace.write_layer_styles`).
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from layers.schema import (
    LEVEL_LABELS,
    STATUS_COLOURS,
    STATUS_LABELS,
    ZONE_LABELS,
    Level,
    Status,
    Zone,
)
from pipelines.escape import xml_text
from pipelines.store.base import Workspace

__all__ = ["ZONE_FILLS", "LayerStyle", "layer_styles", "write_styles"]

log = logging.getLogger(__name__)

#: Zone fills, strictest darkest (the web map's colours).
ZONE_FILLS: dict[Zone, str] = {
    Zone.CORE: "#8b0000", Zone.CORE_PROTECTION: "#8b0000", Zone.BUFFER: "#f28c28",
    Zone.EXPERIMENTAL: "#f2d13a", Zone.GENERAL_CONTROL: "#f2d13a",
    Zone.UNZONED: "#9e9e9e", Zone.OUTSIDE: "#ffffff",
}

#: Reserve outline width in millimetres by level (national widest).
LEVEL_WIDTHS: dict[Level, str] = {
    Level.NATIONAL: "1.2", Level.PROVINCIAL: "0.8", Level.MUNICIPAL: "0.5",
    Level.COUNTY: "0.3",
}

_SLD = "http://www.opengis.net/sld"
_SE = "http://www.opengis.net/se"
_OGC = "http://www.opengis.net/ogc"
_OUTLINE = "#1d5c40"


@dataclass(frozen=True)
class LayerStyle:
    """One layer's default style: its name, QML and SLD documents."""

    layer: str
    name: str
    qml: str
    sld: str
    description: str


@dataclass(frozen=True)
class _Class:
    """One category: the attribute value, its label and how it is drawn."""

    value: str
    label: str
    fill: str
    outline: str = "#ffffff"
    width: str = "0.4"
    fill_alpha: int = 255


def _sub(parent: ET.Element, tag: str, text: object = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        node.text = xml_text(text)
    return node


def _rgba(hex_colour: str, alpha: int = 255) -> str:
    red, green, blue = (int(hex_colour[k:k + 2], 16) for k in (1, 3, 5))
    return f"{red},{green},{blue},{alpha}"


# -- QML -------------------------------------------------------------------------------
def _qml_symbol(parent: ET.Element, name: str, kind: str, cls: _Class) -> None:
    symbol = _sub(parent, "symbol", type=kind, name=name, alpha="1", clip_to_extent="1",
                  force_rhr="0")
    if kind == "marker":
        layer = _sub(symbol, "layer", **{"class": "SimpleMarker", "enabled": "1",
                                        "locked": "0", "pass": "0"})
        props = {"name": "circle", "color": _rgba(cls.fill), "size": "3",
                 "outline_color": _rgba(cls.outline), "outline_width": cls.width,
                 "outline_style": "solid"}
    else:
        layer = _sub(symbol, "layer", **{"class": "SimpleFill", "enabled": "1",
                                        "locked": "0", "pass": "0"})
        props = {"color": _rgba(cls.fill, cls.fill_alpha),
                 "style": "solid" if cls.fill_alpha else "no",
                 "outline_color": _rgba(cls.outline), "outline_width": cls.width,
                 "outline_width_unit": "MM", "outline_style": "solid"}
    for key, value in props.items():
        _sub(layer, "prop", k=key, v=value)


def _qml(kind: str, attr: str | None, classes: list[_Class], label_field: str) -> str:
    root = ET.Element("qgis", {"version": "3.22.0", "styleCategories": "Symbology|Labeling"})
    if attr is None:
        renderer = _sub(root, "renderer-v2", type="singleSymbol", symbollevels="0",
                        enableorderby="0", forceraster="0")
        _qml_symbol(_sub(renderer, "symbols"), "0", kind, classes[0])
    else:
        renderer = _sub(root, "renderer-v2", type="categorizedSymbol", attr=attr,
                        symbollevels="0", enableorderby="0", forceraster="0")
        categories = _sub(renderer, "categories")
        symbols = _sub(renderer, "symbols")
        for k, cls in enumerate(classes):
            _sub(categories, "category", value=cls.value, label=cls.label, symbol=str(k),
                 render="true")
            _qml_symbol(symbols, str(k), kind, cls)
    labeling = _sub(root, "labeling", type="simple")
    settings = _sub(labeling, "settings", calloutType="simple")
    _sub(settings, "text-style", fieldName=label_field, isExpression="0", fontSize="9",
         fontFamily="Noto Sans CJK SC", textColor="0,0,0,255", namedStyle="Regular")
    _sub(settings, "text-buffer", bufferDraw="1", bufferSize="0.8",
         bufferColor="255,255,255,255")
    _sub(settings, "placement", placement="0" if kind == "marker" else "1", dist="1")
    _sub(settings, "rendering", scaleVisibility="0", obstacle="1")
    _sub(root, "layerGeometryType", "0" if kind == "marker" else "2")
    return ET.tostring(root, encoding="unicode")


# -- SLD -------------------------------------------------------------------------------
def _sld_symbolizer(rule: ET.Element, kind: str, cls: _Class) -> None:
    if kind == "marker":
        point = _sub(rule, f"{{{_SE}}}PointSymbolizer")
        graphic = _sub(point, f"{{{_SE}}}Graphic")
        mark = _sub(graphic, f"{{{_SE}}}Mark")
        _sub(mark, f"{{{_SE}}}WellKnownName", "circle")
        fill = _sub(mark, f"{{{_SE}}}Fill")
        _sub(fill, f"{{{_SE}}}SvgParameter", cls.fill, name="fill")
        stroke = _sub(mark, f"{{{_SE}}}Stroke")
        _sub(stroke, f"{{{_SE}}}SvgParameter", cls.outline, name="stroke")
        _sub(graphic, f"{{{_SE}}}Size", "11")
        return
    polygon = _sub(rule, f"{{{_SE}}}PolygonSymbolizer")
    if cls.fill_alpha:
        fill = _sub(polygon, f"{{{_SE}}}Fill")
        _sub(fill, f"{{{_SE}}}SvgParameter", cls.fill, name="fill")
        _sub(fill, f"{{{_SE}}}SvgParameter", f"{cls.fill_alpha / 255:.2f}",
             name="fill-opacity")
    stroke = _sub(polygon, f"{{{_SE}}}Stroke")
    _sub(stroke, f"{{{_SE}}}SvgParameter", cls.outline, name="stroke")
    _sub(stroke, f"{{{_SE}}}SvgParameter", f"{float(cls.width) * 3.78:.1f}",
         name="stroke-width")


def _sld(layer: str, kind: str, attr: str | None, classes: list[_Class],
         label_field: str) -> str:
    ET.register_namespace("", _SLD)
    ET.register_namespace("se", _SE)
    ET.register_namespace("ogc", _OGC)
    root = ET.Element(f"{{{_SLD}}}StyledLayerDescriptor", {"version": "1.1.0"})
    named = _sub(root, f"{{{_SLD}}}NamedLayer")
    _sub(named, f"{{{_SE}}}Name", layer)
    user = _sub(named, f"{{{_SLD}}}UserStyle")
    _sub(user, f"{{{_SE}}}Name", layer)
    feature_style = _sub(user, f"{{{_SE}}}FeatureTypeStyle")
    for cls in classes:
        rule = _sub(feature_style, f"{{{_SE}}}Rule")
        _sub(rule, f"{{{_SE}}}Name", cls.label)
        description = _sub(rule, f"{{{_SE}}}Description")
        _sub(description, f"{{{_SE}}}Title", cls.label)
        if attr is not None:
            where = _sub(rule, f"{{{_OGC}}}Filter")
            equal = _sub(where, f"{{{_OGC}}}PropertyIsEqualTo")
            _sub(equal, f"{{{_OGC}}}PropertyName", attr)
            _sub(equal, f"{{{_OGC}}}Literal", cls.value)
        _sld_symbolizer(rule, kind, cls)
    rule = _sub(feature_style, f"{{{_SE}}}Rule")
    text = _sub(rule, f"{{{_SE}}}TextSymbolizer")
    label = _sub(text, f"{{{_SE}}}Label")
    _sub(label, f"{{{_OGC}}}PropertyName", label_field)
    font = _sub(text, f"{{{_SE}}}Font")
    _sub(font, f"{{{_SE}}}SvgParameter", "Noto Sans CJK SC", name="font-family")
    _sub(font, f"{{{_SE}}}SvgParameter", "12", name="font-size")
    return ET.tostring(root, encoding="unicode")


# -- the layers ------------------------------------------------------------------------
def _status_classes() -> list[_Class]:
    return [_Class(s.value, STATUS_LABELS[s], STATUS_COLOURS[s]) for s in Status]


def _zone_classes() -> list[_Class]:
    return [_Class(z.value, ZONE_LABELS[z], ZONE_FILLS[z], outline=_OUTLINE, width="0.4",
                   fill_alpha=110) for z in Zone if z is not Zone.OUTSIDE]


def _level_classes() -> list[_Class]:
    return [_Class(lv.value, LEVEL_LABELS[lv], "#ffffff", outline=_OUTLINE,
                   width=LEVEL_WIDTHS[lv], fill_alpha=0) for lv in Level]


#: layer -> (geometry kind, categorized attribute, classes, label field, style name)
def _definitions() -> dict[str, tuple[str, str | None, list[_Class], str, str]]:
    return {
        # the leads layer holds no state: its states are drawn by lead_status_view
        "leads": ("marker", None, [_Class("", "线索", "#8c8c8c")], "lead_id", "线索"),
        "lead_status_view": ("marker", "status", _status_classes(), "线索编号",
                             "线索核查状态"),
        "reserves": ("fill", "zone", _zone_classes(), "reserve_name", "保护区功能区"),
        "wetlands": ("fill", None, [_Class("", "湿地", "#4a90d9", outline="#1f5fa8",
                                          fill_alpha=90)], "wetland_name", "湿地"),
        "mines": ("fill", None, [_Class("", "矿山", "#8d6e63", outline="#4e342e",
                                       fill_alpha=120)], "mine_name", "矿山"),
        "admin": ("fill", None, [_Class("", "行政区", "#ffffff", outline="#555555",
                                       width="0.5", fill_alpha=0)], "admin_name", "行政区"),
    }


def layer_styles() -> list[LayerStyle]:
    """Return the default style of every styled layer, as QML and SLD.

    ``lead_status_view`` is categorized by ``status`` (one colour of
    :data:`~layers.schema.STATUS_COLOURS` and the Chinese label per state); reserves by
    ``zone`` (fills from :data:`ZONE_FILLS`), with their level outlines as a second
    style; leads, wetlands, mines and counties have one symbol. Every style labels features
    with their Chinese name (leads with their number).

    Examples
    --------
    >>> styles = {s.layer: s for s in layer_styles() if s.name != "保护区级别"}
    >>> view = styles["lead_status_view"].qml
    >>> "待核查" in view and 'attr="status"' in view
    True
    """
    styles = []
    for layer, (kind, attr, classes, label, name) in _definitions().items():
        styles.append(LayerStyle(layer, name, _qml(kind, attr, classes, label),
                                 _sld(layer, kind, attr, classes, label),
                                 f"lvdun: {name}"))
    level = _level_classes()
    styles.append(LayerStyle("reserves", "保护区级别",
                             _qml("fill", "level", level, "reserve_name"),
                             _sld("reserves", "fill", "level", level, "reserve_name"),
                             "lvdun: 保护区边界（按级别）"))
    return styles


def write_styles(ws: Workspace) -> int:
    """Write the styles of :func:`layer_styles` and the view ``lead_status_view``.

    The first style of each layer is its default (``useAsDefault``), so that QGIS draws
    it when the layer is added; styles lvdun wrote before are replaced, others kept.

    Returns
    -------
    int
        Styles written.
    """
    styles = layer_styles()
    seen: set[str] = set()
    rows = []
    for style in styles:
        rows.append((style.layer, style.name, style.qml, style.sld,
                     style.layer not in seen, style.description))
        seen.add(style.layer)
    with ws.transaction():
        ws.create_lead_status_view()
        ws.write_layer_styles(rows)
    log.info("wrote %d layer styles into %s", len(rows), ws.location)
    return len(rows)
