"""The field package for 奥维 / Ovital and 两步路: a KMZ of the reserve's leads and zones.

``doc.kml`` holds three folders: 线索 (one placemark per lead, named by its lead id, its
icon and colour by status, a Chinese table of its attributes as description, the lead id,
version, status and the package identity as ``ExtendedData``), 功能区 (one styled polygon
per zone) and 保护区边界 (the outline). Icons are PNGs inside the KMZ (``files/``), so the
package shows without internet.

Coordinates are CGCS2000 longitude/latitude written as WGS 84 (they differ by centimetres),
or with ``coords="gcj02"`` shifted to GCJ-02 for apps that draw on GCJ-02 maps (高德 based
basemaps): the document then says ``lvdun:coords`` = ``gcj02`` and ``lvdun field import``
shifts positions back.

Text from data reaches the KML through :func:`pipelines.escape.xml_text` (and
:func:`pipelines.escape.html_text` inside the description table); ElementTree escapes it.
"""

from __future__ import annotations

import io
import logging
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from PIL import Image, ImageDraw

from geo.shift import wgs84_to_gcj02
from layers.schema import (
    LEVEL_LABELS,
    SQM_PER_MU,
    STATUS_COLOURS,
    ZONE_LABELS,
    Level,
    Status,
    Zone,
)
from pipelines.escape import html_text, xml_text
from pipelines.publish.field import FieldContents

__all__ = ["DESCRIPTION_FIELDS", "KML_NS", "ZONE_COLOURS", "build_kml", "write_kmz"]

log = logging.getLogger(__name__)

KML_NS = "http://www.opengis.net/kml/2.2"

#: Zone fill colours (strictest darkest), as the web map draws them.
ZONE_COLOURS: dict[str, str] = {
    Zone.CORE.value: "#8b0000", Zone.CORE_PROTECTION.value: "#8b0000",
    Zone.BUFFER.value: "#f28c28", Zone.EXPERIMENTAL.value: "#f2d13a",
    Zone.GENERAL_CONTROL.value: "#f2d13a",
}
_UNZONED = "#9e9e9e"

#: The description table of a lead: column of the leads view -> Chinese label.
DESCRIPTION_FIELDS: dict[str, str] = {
    "lead_id": "线索编号",
    "status_label": "核查状态",
    "batch": "批次",
    "activity_type": "活动类型",
    "change_type": "变化类型",
    "reserve_level": "保护区级别",
    "zone_label": "功能区",
    "overlaps_text": "涉及保护区及功能区",
    "county_name": "所在县",
    "lon": "中心点经度",
    "lat": "中心点纬度",
    "area_m2": "面积(平方米)",
    "area_mu": "面积(亩)",
    "date_before": "前时相",
    "date_after": "后时相",
    "reason": "原因",
    "version": "版本",
}


def _kml_colour(hex_colour: str, alpha: int = 255) -> str:
    """KML colours are ``aabbggrr``.

    Examples
    --------
    >>> _kml_colour("#e31a1c", 128)
    '801c1ae3'
    """
    r, g, b = hex_colour[1:3], hex_colour[3:5], hex_colour[5:7]
    return f"{alpha:02x}{b}{g}{r}"


def _icon_png(hex_colour: str) -> bytes:
    """A 32 px round marker in ``hex_colour`` with a white ring."""
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((2, 2, 29, 29), fill=hex_colour, outline="white", width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _sub(parent: ET.Element, tag: str, text: Any = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, tag, attrs)
    if text is not None:
        node.text = xml_text(text)
    return node


def _shift(geometry: Any, coords: str) -> Any:
    if coords != "gcj02":
        return geometry

    def to_gcj(xy: np.ndarray) -> np.ndarray:
        lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geometry, to_gcj)


def _ring(parent: ET.Element, tag: str, ring: Any) -> None:
    boundary = _sub(parent, tag)
    linear = _sub(boundary, "LinearRing")
    _sub(linear, "coordinates", " ".join(f"{x:.7f},{y:.7f}" for x, y, *_ in ring.coords))


def _geometry(parent: ET.Element, geometry: Any) -> None:
    """Write a Point, Polygon or their multi-part forms as KML."""
    kind = geometry.geom_type
    if kind == "Point":
        point = _sub(parent, "Point")
        _sub(point, "coordinates", f"{geometry.x:.7f},{geometry.y:.7f}")
    elif kind == "Polygon":
        polygon = _sub(parent, "Polygon")
        _ring(polygon, "outerBoundaryIs", geometry.exterior)
        for hole in geometry.interiors:
            _ring(polygon, "innerBoundaryIs", hole)
    elif kind in ("MultiPolygon", "MultiPoint", "GeometryCollection"):
        multi = _sub(parent, "MultiGeometry")
        for part in geometry.geoms:
            _geometry(multi, part)
    else:  # lines are not expected in these layers; draw their points' hull
        _geometry(parent, geometry.convex_hull)


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


def _shown(row: dict[str, Any], key: str) -> str:
    """A lead's value as a person reads it: Chinese labels, areas rounded, 亩 too."""
    value = row.get(key)
    if key == "reserve_level" and value in {v.value for v in Level}:
        return LEVEL_LABELS[Level(value)]
    if key == "area_mu":
        value = row.get("area_m2")
        return _text(round(float(value) / SQM_PER_MU, 2)) if _text(value) else ""
    if key == "area_m2" and _text(value):
        return _text(round(float(value), 2))
    return _text(value)


def _description(row: dict[str, Any]) -> str:
    """The lead's attributes as an HTML table (values through :func:`html_text`)."""
    cells = "".join(f"<tr><th>{label}</th><td>{html_text(_shown(row, key))}</td></tr>"
                    for key, label in DESCRIPTION_FIELDS.items() if _shown(row, key))
    return f'<table border="1" cellpadding="2">{cells}</table>'


def _styles(document: ET.Element) -> None:
    for status in Status:
        style = _sub(document, "Style", id=f"status_{status.value}")
        icon_style = _sub(style, "IconStyle")
        _sub(icon_style, "color", _kml_colour(STATUS_COLOURS[status]))
        _sub(icon_style, "scale", "1.0")
        icon = _sub(icon_style, "Icon")
        _sub(icon, "href", f"files/{status.value}.png")
        label = _sub(style, "LabelStyle")
        _sub(label, "scale", "0.8")
        line = _sub(style, "LineStyle")
        _sub(line, "color", _kml_colour(STATUS_COLOURS[status]))
        _sub(line, "width", "2")
        poly = _sub(style, "PolyStyle")
        _sub(poly, "color", _kml_colour(STATUS_COLOURS[status], 96))
    for key, colour in {**ZONE_COLOURS, "unzoned": _UNZONED, "outline": "#1d5c40"}.items():
        style = _sub(document, "Style", id=f"zone_{key}")
        line = _sub(style, "LineStyle")
        _sub(line, "color", _kml_colour(colour))
        _sub(line, "width", "3" if key == "outline" else "1.5")
        poly = _sub(style, "PolyStyle")
        _sub(poly, "color", _kml_colour(colour, 0 if key == "outline" else 70))
        _sub(poly, "fill", "0" if key == "outline" else "1")


#: What 奥维 and Google Earth show for a placemark's data (its names are read back).
_DATA_LABELS = {"lead_id": "线索编号", "version": "版本", "status": "核查状态"}


def _extended(parent: ET.Element, values: dict[str, Any]) -> None:
    data = _sub(parent, "ExtendedData")
    for name, value in values.items():
        item = _sub(data, "Data", name=name)
        if name in _DATA_LABELS:
            _sub(item, "displayName", _DATA_LABELS[name])
        _sub(item, "value", _text(value))


def build_kml(contents: FieldContents, *, coords: str = "wgs84") -> ET.ElementTree:
    """Return the KML document of a package (see the module's description)."""
    root = ET.Element("kml", {"xmlns": KML_NS})
    document = _sub(root, "Document")
    _sub(document, "name", f"{contents.name}（{contents.code}）核查线索")
    _sub(document, "description",
         f"lvdun 野外核查包：{len(contents.leads)} 条线索，坐标 "
         f"{'GCJ-02（已偏移）' if coords == 'gcj02' else 'CGCS2000 ≈ WGS 84'}。"
         "在地标说明中写核查意见，可写“核查状态：问题”“原因：手续合法”；保存为 KML/KMZ 后用 "
         "`lvdun field import` 读回。")
    _extended(document, {"lvdun:package": contents.package_id, "lvdun:coords": coords,
                         "lvdun:reserve": contents.code})
    _styles(document)
    leads = _sub(document, "Folder")
    _sub(leads, "name", "线索")
    patches = None
    for row in contents.leads.to_dict(orient="records"):
        geometry = row["geometry"]
        placemark = _sub(leads, "Placemark")
        _sub(placemark, "name", row["lead_id"])
        _sub(placemark, "description", _description(row))
        _sub(placemark, "styleUrl", f"#status_{row['status']}")
        _extended(placemark, {"lead_id": row["lead_id"], "version": row.get("version"),
                              "status": row["status_label"],
                              "台账标识": contents.package_id})
        centre = shapely.Point(row["lon"], row["lat"])
        _geometry(placemark, _shift(centre, coords))
        if geometry is not None and geometry.geom_type in ("Polygon", "MultiPolygon"):
            if patches is None:
                patches = _sub(document, "Folder")
                _sub(patches, "name", "线索图斑")
            patch = _sub(patches, "Placemark")
            _sub(patch, "name", f"{row['lead_id']} 图斑")
            _sub(patch, "styleUrl", f"#status_{row['status']}")
            _geometry(patch, _shift(geometry, coords))
    zones = _sub(document, "Folder")
    _sub(zones, "name", "功能区")
    for row in contents.zones.to_dict(orient="records"):
        zone = row.get("zone")
        label = ZONE_LABELS[Zone(zone)] if zone in {z.value for z in Zone} else "未分区"
        placemark = _sub(zones, "Placemark")
        _sub(placemark, "name", f"{contents.name} {label}")
        _sub(placemark, "styleUrl",
             f"#zone_{zone}" if zone in ZONE_COLOURS else "#zone_unzoned")
        _geometry(placemark, _shift(row["geometry"], coords))
    outline = _sub(document, "Folder")
    _sub(outline, "name", "保护区边界")
    for row in contents.outline.to_dict(orient="records"):
        placemark = _sub(outline, "Placemark")
        _sub(placemark, "name", f"{contents.name} 边界")
        _sub(placemark, "styleUrl", "#zone_outline")
        _geometry(placemark, _shift(row["geometry"], coords))
    tree = ET.ElementTree(root)
    ET.indent(tree)
    return tree


def write_kmz(contents: FieldContents, path: Path, *, coords: str = "wgs84") -> Path:
    """Write the KMZ (``doc.kml`` and its icons) of a package to ``path``; return it.

    Parameters
    ----------
    contents : FieldContents
        The package: one reserve's leads, zones and outline, and its identity.
    path : pathlib.Path
        The ``.kmz`` file to write.
    coords : {"wgs84", "gcj02"}
        ``wgs84`` keeps the CGCS2000 coordinates; ``gcj02`` shifts them for apps drawing
        on GCJ-02 maps (see :func:`build_kml`).
    """
    tree = build_kml(contents, coords=coords)
    buffer = io.BytesIO()
    tree.write(buffer, encoding="utf-8", xml_declaration=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", buffer.getvalue())  # first entry: what readers open
        for status in Status:
            archive.writestr(f"files/{status.value}.png", _icon_png(STATUS_COLOURS[status]))
    log.info("KMZ of %s: %d leads (%s) -> %s", contents.code, len(contents.leads), coords,
             path)
    return path

