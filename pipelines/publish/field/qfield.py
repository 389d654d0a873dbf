"""The field package for QField / QGIS: a ``.qgz`` project over its own GeoPackage.

``<名称>_<代码>.gpkg`` holds three layers in CGCS2000 (EPSG:4490):

- ``leads`` (points at each lead's centre): ``lead_id``, ``status`` (the Chinese label,
  edited in the field), ``version`` (as packaged), ``reason`` (the 非问题 reason),
  ``note`` (核查意见), ``photo`` (a photo taken in QField, path relative to the project),
  ``ledger_id`` (the package identity with the digest of the row as packaged) and
  read-only attributes (batch, activity, zone, area);
- ``zones`` (the reserve's zones) and ``outline`` (their union).

``<名称>_<代码>.qgz`` is the QGIS project: the three layers with relative paths, leads
coloured by status (categorised renderer), zones by zone, forms with value maps for
核查状态 and 原因, a photo widget (``ExternalResource``, stored under ``DCIM/``), read-only
identity fields, Chinese aliases, and no basemap (nothing needs the internet). Copy both
files to the phone (QField: "Open local file"); bring the GeoPackage back for
``lvdun field import``.

The project file is written here as XML (no QGIS needed to make a package); the tests
open it in real QGIS.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
from pyproj import CRS

from layers.schema import (
    NOT_PROBLEM_REASONS,
    STATUS_COLOURS,
    STATUS_LABELS,
    ZONE_LABELS,
    Status,
    Zone,
)
from pipelines.escape import xml_text
from pipelines.publish.field import FieldContents
from pipelines.publish.field.kmz import ZONE_COLOURS

__all__ = ["LEAD_ALIASES", "LEAD_COLUMNS", "write_gpkg", "write_project", "write_qfield"]

log = logging.getLogger(__name__)

#: Columns of layer ``leads``: name -> Chinese alias (the form's labels).
LEAD_ALIASES: dict[str, str] = {
    "lead_id": "线索编号",
    "status": "核查状态",
    "reason": "原因（非问题）",
    "note": "核查意见",
    "photo": "现场照片",
    "version": "版本",
    "batch": "批次",
    "activity_type": "活动类型",
    "zone_label": "功能区",
    "area_m2": "面积(平方米)",
    "ledger_id": "台账标识",
}
LEAD_COLUMNS = tuple(LEAD_ALIASES)
_EDITABLE = ("status", "reason", "note", "photo")
_CRS = "EPSG:4490"
_QGIS_VERSION = "3.22.0-Białowieża"


def _text(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return xml_text(value) if isinstance(value, str) else value


def write_gpkg(contents: FieldContents, path: Path) -> Path:
    """Write the package's GeoPackage (layers ``leads``, ``zones``, ``outline``)."""
    leads = contents.leads
    rows = []
    for row in leads.to_dict(orient="records"):
        rows.append({
            "lead_id": str(row["lead_id"]), "status": row["status_label"],
            "reason": _text(row.get("reason")), "note": None, "photo": None,
            "version": None if row.get("version") is None else int(row["version"]),
            "batch": _text(row.get("batch")), "activity_type": _text(row.get("activity_type")),
            "zone_label": _text(row.get("zone_label")),
            "area_m2": None if row.get("area_m2") != row.get("area_m2")
            else row.get("area_m2"),
            "ledger_id": contents.row_id(row["status_label"], _text(row.get("reason"))),
        })
    points = gpd.points_from_xy(leads["lon"], leads["lat"], crs=leads.crs)
    frame = gpd.GeoDataFrame(rows, columns=list(LEAD_COLUMNS), geometry=points, crs=_CRS)
    if path.exists():
        path.unlink()
    pyogrio.write_dataframe(frame, path, layer="leads", driver="GPKG",
                            dataset_options={"VERSION": "1.2"})  # QField, QGIS 3.22
    zones = contents.zones
    zone_frame = gpd.GeoDataFrame(
        {"reserve_code": [contents.code] * len(zones),
         "reserve_name": [xml_text(contents.name)] * len(zones),
         "zone": list(zones["zone"]) if "zone" in zones else [None] * len(zones),
         "zone_label": [ZONE_LABELS[Zone(z)] if z in {v.value for v in Zone} else "未分区"
                        for z in (zones["zone"] if "zone" in zones else [None] * len(zones))]},
        geometry=list(zones.geometry), crs=_CRS)
    pyogrio.write_dataframe(zone_frame, path, layer="zones", driver="GPKG",
                            promote_to_multi=True)
    outline = gpd.GeoDataFrame({"reserve_code": list(contents.outline["reserve_code"]),
                                "reserve_name": [xml_text(n) for n in
                                                 contents.outline["reserve_name"]]},
                               geometry=list(contents.outline.geometry), crs=_CRS)
    pyogrio.write_dataframe(outline, path, layer="outline", driver="GPKG",
                            promote_to_multi=True)
    return path


# -- the project ----------------------------------------------------------------------------
def _sub(parent: ET.Element, tag: str, text: Any = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, tag, attrs)
    if text is not None:
        node.text = xml_text(text)
    return node


def _srs(parent: ET.Element) -> None:
    crs = CRS.from_user_input(_CRS)
    ref = _sub(parent, "spatialrefsys", nativeFormat="Wkt")
    _sub(ref, "wkt", crs.to_wkt("WKT2_2019"))
    _sub(ref, "authid", _CRS)
    _sub(ref, "description", crs.name)
    _sub(ref, "projectionacronym", "longlat")
    _sub(ref, "ellipsoidacronym", "EPSG:1024")
    _sub(ref, "geographicflag", "true")


def _rgba(hex_colour: str, alpha: int = 255) -> str:
    red, green, blue = (int(hex_colour[k:k + 2], 16) for k in (1, 3, 5))
    return f"{red},{green},{blue},{alpha}"


def _option(parent: ET.Element, name: str | None, value: str, kind: str = "QString") -> None:
    attrs = {"type": kind, "value": value}
    if name is not None:
        attrs["name"] = name
    _sub(parent, "Option", **attrs)


def _symbol(parent: ET.Element, name: str, kind: str, colour: str, *, fill_alpha: int = 255,
            outline: str = "#ffffff", width: str = "0.4") -> None:
    symbol = _sub(parent, "symbol", type=kind, name=name, alpha="1", clip_to_extent="1",
                  force_rhr="0")
    cls = "SimpleMarker" if kind == "marker" else "SimpleFill"
    layer = _sub(symbol, "layer", **{"class": cls, "enabled": "1", "locked": "0", "pass": "0"})
    props = ({"name": "circle", "color": _rgba(colour), "size": "4",
              "outline_color": _rgba(outline), "outline_width": width}
             if kind == "marker" else
             {"color": _rgba(colour, fill_alpha), "style": "solid" if fill_alpha else "no",
              "outline_color": _rgba(outline), "outline_width": width,
              "outline_style": "solid"})
    for key, value in props.items():
        _sub(layer, "prop", k=key, v=value)


def _categorized(parent: ET.Element, attr: str, kind: str,
                 classes: list[tuple[str, str, str]]) -> None:
    renderer = _sub(parent, "renderer-v2", type="categorizedSymbol", attr=attr,
                    symbollevels="0", enableorderby="0", forceraster="0")
    categories = _sub(renderer, "categories")
    symbols = _sub(renderer, "symbols")
    for k, (value, label, colour) in enumerate(classes):
        _sub(categories, "category", value=value, label=label, symbol=str(k), render="true")
        if kind == "marker":
            _symbol(symbols, str(k), kind, colour)
        else:
            _symbol(symbols, str(k), kind, colour, fill_alpha=90, outline=colour)


def _value_map(parent: ET.Element, values: list[tuple[str, str]]) -> None:
    widget = _sub(parent, "editWidget", type="ValueMap")
    config = _sub(widget, "config")
    top = _sub(config, "Option", type="Map")
    entries = _sub(top, "Option", name="map", type="List")
    for label, value in values:
        item = _sub(entries, "Option", type="Map")
        _option(item, label, value)


def _photo_widget(parent: ET.Element) -> None:
    widget = _sub(parent, "editWidget", type="ExternalResource")
    config = _sub(widget, "config")
    top = _sub(config, "Option", type="Map")
    for name, value, kind in (("DocumentViewer", "1", "int"), ("FileWidget", "true", "bool"),
                              ("FileWidgetButton", "true", "bool"),
                              ("RelativeStorage", "1", "int"), ("StorageMode", "0", "int"),
                              ("DefaultRoot", "DCIM", "QString"),
                              ("UseLink", "false", "bool"), ("FullUrl", "false", "bool")):
        _option(top, name, value, kind)


def _layer(parent: ET.Element, layer_id: str, name: str, source: str, geometry: str) -> ET.Element:
    layer = _sub(parent, "maplayer", type="vector", geometry=geometry, autoRefreshEnabled="0",
                 refreshOnNotifyEnabled="0", readOnly="0", hasScaleBasedVisibilityFlag="0")
    _sub(layer, "id", layer_id)
    _sub(layer, "datasource", source)
    _sub(layer, "layername", name)
    srs = _sub(layer, "srs")
    _srs(srs)
    _sub(layer, "provider", "ogr", encoding="UTF-8")
    return layer


def _leads_layer(parent: ET.Element, source: str) -> None:
    layer = _layer(parent, "leads_lvdun", "线索", source, "Point")
    _categorized(layer, "status", "marker",
                 [(STATUS_LABELS[s], STATUS_LABELS[s], STATUS_COLOURS[s]) for s in Status])
    fields = _sub(layer, "fieldConfiguration")
    for column in ("fid", *LEAD_COLUMNS):
        entry = _sub(fields, "field", name=column, configurationFlags="None")
        if column == "status":
            _value_map(entry, [(STATUS_LABELS[s], STATUS_LABELS[s]) for s in Status])
        elif column == "reason":
            _value_map(entry, [("（无）", "{2839923C-8B7D-419E-B84B-CA2FE9B80EC7}"),
                               *((r, r) for r in NOT_PROBLEM_REASONS)])
        elif column == "photo":
            _photo_widget(entry)
        else:
            widget = _sub(entry, "editWidget", type="TextEdit")
            config = _sub(widget, "config")
            top = _sub(config, "Option", type="Map")
            _option(top, "IsMultiline", "true" if column == "note" else "false", "bool")
            _option(top, "UseHtml", "false", "bool")
    aliases = _sub(layer, "aliases")
    for k, column in enumerate(("fid", *LEAD_COLUMNS)):
        _sub(aliases, "alias", field=column, index=str(k), name=LEAD_ALIASES.get(column, ""))
    editable = _sub(layer, "editable")
    for column in ("fid", *LEAD_COLUMNS):
        _sub(editable, "field", name=column, editable="1" if column in _EDITABLE else "0")
    _sub(layer, "previewExpression", '"lead_id"')
    _sub(layer, "mapTip", "[% \"lead_id\" %] [% \"status\" %]")
    labeling = _sub(layer, "labeling", type="simple")
    settings = _sub(labeling, "settings", calloutType="simple")
    _sub(settings, "text-style", fieldName="lead_id", fontSize="9", textColor="0,0,0,255",
         isExpression="0")


def _zones_layer(parent: ET.Element, source: str) -> None:
    layer = _layer(parent, "zones_lvdun", "功能区", source, "Polygon")
    classes = [(z.value, ZONE_LABELS[z], ZONE_COLOURS.get(z.value, "#9e9e9e")) for z in Zone]
    _categorized(layer, "zone", "fill", classes)


def _outline_layer(parent: ET.Element, source: str) -> None:
    layer = _layer(parent, "outline_lvdun", "保护区边界", source, "Polygon")
    renderer = _sub(layer, "renderer-v2", type="singleSymbol", symbollevels="0",
                    enableorderby="0", forceraster="0")
    symbols = _sub(renderer, "symbols")
    _symbol(symbols, "0", "fill", "#1d5c40", fill_alpha=0, outline="#1d5c40", width="0.8")


def build_project(contents: FieldContents, gpkg_name: str) -> ET.ElementTree:
    """Return the QGIS project (``.qgs`` XML) of a package whose GeoPackage is ``gpkg_name``
    (next to the project)."""
    root = ET.Element("qgis", {"projectname": xml_text(f"{contents.name}（{contents.code}）核查"),
                               "version": _QGIS_VERSION})
    _sub(root, "title", f"{contents.name}（{contents.code}）野外核查")
    crs = _sub(root, "projectCrs")
    _srs(crs)
    sources = {name: f"./{gpkg_name}|layername={name}" for name in ("leads", "zones", "outline")}
    ids = {"leads": "leads_lvdun", "zones": "zones_lvdun", "outline": "outline_lvdun"}
    titles = {"leads": "线索", "zones": "功能区", "outline": "保护区边界"}
    tree = _sub(root, "layer-tree-group")
    _sub(tree, "customproperties")
    for name in ("leads", "outline", "zones"):  # drawn bottom-up: leads on top
        _sub(tree, "layer-tree-layer", id=ids[name], name=titles[name], source=sources[name],
             providerKey="ogr", checked="Qt::Checked", expanded="1")
    order = _sub(root, "layerorder")
    for name in ("leads", "outline", "zones"):
        _sub(order, "layer", id=ids[name])
    layers = _sub(root, "projectlayers")
    _leads_layer(layers, sources["leads"])
    _zones_layer(layers, sources["zones"])
    _outline_layer(layers, sources["outline"])
    properties = _sub(root, "properties")
    paths = _sub(properties, "Paths")
    _sub(paths, "Absolute", "false", type="bool")
    element = ET.ElementTree(root)
    ET.indent(element)
    return element


def write_project(contents: FieldContents, path: Path, gpkg_name: str) -> Path:
    """Write the ``.qgz`` (a zip holding the ``.qgs``) to ``path``; return it.

    Parameters
    ----------
    contents : FieldContents
        The package: one reserve's leads, zones and outline, and its identity.
    path : pathlib.Path
        The ``.qgz`` file to write; the ``.qgs`` inside is named after its stem.
    gpkg_name : str
        File name of the package's GeoPackage, next to the project, that its layers read.
    """
    tree = build_project(contents, gpkg_name)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(f"{path.stem}.qgs", "w") as handle:
            handle.write(b"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n")
            tree.write(handle, encoding="utf-8", xml_declaration=False)
    return path


def write_qfield(contents: FieldContents, out_dir: Path) -> list[Path]:
    """Write the project and its GeoPackage into ``out_dir``; return both."""
    gpkg = write_gpkg(contents, out_dir / f"{contents.label}.gpkg")
    project = write_project(contents, out_dir / f"{contents.label}.qgz", gpkg.name)
    log.info("QField project of %s: %d leads -> %s", contents.code, len(contents.leads),
             project)
    return [project, gpkg]
