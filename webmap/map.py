"""The published map: one self-contained HTML file that opens from disk and works offline.

Leaflet and its plugins are inlined (:mod:`webmap.offline`); the default basemap is none
(a plain light background), so nothing is fetched from the internet unless the user
picks the optional OpenStreetMap or 天地图 basemap. Layers, bottom to top: 县界,
保护区功能区, 湿地, 关闭矿山, 线索; all are drawn on one canvas, so tens of thousands of
leads stay fast.

Examples
--------
>>> from pathlib import Path
>>> write_map(Path("map.html"), leads=leads, reserves=reserves)  # doctest: +SKIP
PosixPath('map.html')
"""

from __future__ import annotations

import collections
import logging
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import folium
import geopandas as gpd
from branca.element import Element
from folium.plugins import Fullscreen, MeasureControl

from layers.schema import Zone
from webmap import features
from webmap.elements import Legend, MapTitle, ScaleBar, VectorLayer
from webmap.errors import AssetError
from webmap.offline import OfflineMap, external_resources
from webmap.style import (
    ADMIN_STYLE,
    LAYER_ADMIN,
    LAYER_LEADS,
    LAYER_MINES,
    LAYER_RESERVES,
    LAYER_WETLANDS,
    MINE_STYLE,
    WETLAND_STYLE,
    lead_styles,
    legend_html,
    reserve_style_key,
    reserve_styles,
)

__all__ = [
    "BASEMAP_NONE",
    "BASEMAP_OSM",
    "BASEMAP_TIANDITU_IMG",
    "BASEMAP_TIANDITU_VEC",
    "build_map",
    "write_map",
]

log = logging.getLogger(__name__)

BASEMAP_NONE = "无底图"
BASEMAP_OSM = "OpenStreetMap（需联网）"
BASEMAP_TIANDITU_VEC = "天地图 矢量（需联网）"
BASEMAP_TIANDITU_IMG = "天地图 影像（需联网）"

_OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_OSM_ATTR = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> 贡献者'
#: 天地图 web-Mercator tiles (``_w``), served in CGCS2000 without the GCJ-02 shift.
_TIANDITU_URL = (
    "https://t{{s}}.tianditu.gov.cn/DataServer?T={layer}&x={{x}}&y={{y}}&l={{z}}&tk={key}"
)
_TIANDITU_ATTR = '&copy; <a href="https://www.tianditu.gov.cn/">天地图</a>'
_TIANDITU_SUBDOMAINS = "01234567"

#: Where the map opens when no layer has data: mainland China.
_CHINA_CENTRE = (35.0, 105.0)
_MAX_FIT_ZOOM = 15
_LEAD_RADIUS = 5.0
_MINE_RADIUS = 6.0
#: Below zoom 13 a lead patch of a few hundred m² is under 2 px: draw its outline thick.
_SMALL_POLYGON_BOOST = (13, 6.0)


def _basemaps(m: folium.Map, tianditu_key: str | None) -> None:
    """Add the base layers: none (shown), OSM and 天地图 (off until picked: no requests)."""
    folium.FeatureGroup(name=BASEMAP_NONE, overlay=False, show=True).add_to(m)
    folium.TileLayer(
        tiles=_OSM_URL,
        attr=_OSM_ATTR,
        name=BASEMAP_OSM,
        overlay=False,
        show=False,
        max_zoom=19,
    ).add_to(m)
    key = (tianditu_key or "").strip()
    if not key:
        log.debug("no 天地图 key: the 天地图 basemaps are left out")
        return
    tk = quote(key, safe="")
    for name, layers in (
        (BASEMAP_TIANDITU_VEC, ("vec_w", "cva_w")),
        (BASEMAP_TIANDITU_IMG, ("img_w", "cia_w")),
    ):
        group = folium.FeatureGroup(name=name, overlay=False, show=False).add_to(m)
        for layer in layers:
            folium.TileLayer(
                tiles=_TIANDITU_URL.format(layer=layer, key=tk),
                attr=_TIANDITU_ATTR,
                name=f"{name} {layer}",
                subdomains=_TIANDITU_SUBDOMAINS,
                max_zoom=18,
                control=False,
            ).add_to(group)


def _status_counts(leads: gpd.GeoDataFrame) -> collections.Counter[str]:
    statuses = leads["status"] if "status" in leads else [None] * len(leads)
    return collections.Counter(features.status_code(value) for value in statuses)


def _fit(
    m: folium.Map, frames: list[gpd.GeoDataFrame | None], context: gpd.GeoDataFrame | None
) -> None:
    """Fit the view to the subject layers, else to the counties, else show China."""
    bounds = features.frame_bounds(frames) or features.frame_bounds([context])
    if bounds is None:
        m.location = list(_CHINA_CENTRE)
        m.options["zoom"] = 4
        return
    minx, miny, maxx, maxy = bounds
    m.location = [(miny + maxy) / 2, (minx + maxx) / 2]
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(20, 20), max_zoom=_MAX_FIT_ZOOM)


def build_map(
    *,
    leads: gpd.GeoDataFrame,
    reserves: gpd.GeoDataFrame,
    wetlands: gpd.GeoDataFrame | None = None,
    mines: gpd.GeoDataFrame | None = None,
    admin: gpd.GeoDataFrame | None = None,
    title: str = "绿盾线索",
    tianditu_key: str | None = None,
) -> folium.Map:
    """Build the published map of leads over reserve zones, wetlands, mines and counties.

    Parameters
    ----------
    leads
        Classified leads (EPSG:4490): ``lead_id, batch, activity_type, change_type, status,
        reserve_name, zone, zone_label, overlaps, wetland_names, mine_ids, county_name,
        area_m2, dist_boundary_m, note`` and Point or (Multi)Polygon geometries. Missing
        columns and values show as "—"; a missing status counts as 待核查.
    reserves
        Reserve zones: ``reserve_code, reserve_name, level, zone``, polygons.
    wetlands, mines, admin
        Optional layers (``wetland_name, wetland_level``; ``mine_id, mine_name,
        mine_status``; ``adcode, admin_name``); None or empty frames are left out.
    title
        Page title and the heading shown on the map.
    tianditu_key
        A 天地图 ``tk`` key; with it the 天地图 vector and imagery basemaps are offered.
        The caller reads it (e.g. from ``LVDUN_TIANDITU_KEY``); this function never does.

    Returns
    -------
    folium.Map
        An :class:`~webmap.offline.OfflineMap`: rendering it inlines every script and
        stylesheet, so the saved HTML needs no internet (except optional basemap tiles).

    Raises
    ------
    MapInputError
        If a frame is not a GeoDataFrame or has no CRS.
    """
    lead_frame = features.prepare_frame(leads, "leads")
    reserve_frame = features.prepare_frame(reserves, "reserves")
    wetland_frame = features.prepare_frame(wetlands, "wetlands")
    mine_frame = features.prepare_frame(mines, "mines")
    admin_frame = features.prepare_frame(admin, "admin")

    m = OfflineMap(tiles=None, prefer_canvas=True, control_scale=False, font_size="13px")
    m.options.update(max_zoom=20, min_zoom=3)
    root = m.get_root()
    root.header.add_child(Element(f"<title>{escape(title)}</title>"), name="lvdun_title")
    _basemaps(m, tianditu_key)

    if admin_frame is not None:
        counties = features.admin_features(admin_frame)
        VectorLayer(LAYER_ADMIN, counties, fallback=ADMIN_STYLE).add_to(m)
    if reserve_frame is not None:
        VectorLayer(
            LAYER_RESERVES,
            features.reserve_features(reserve_frame),
            styles=reserve_styles(),
            fallback=reserve_styles()[reserve_style_key(Zone.UNZONED, None)],
        ).add_to(m)
    if wetland_frame is not None:
        VectorLayer(
            LAYER_WETLANDS, features.wetland_features(wetland_frame), fallback=WETLAND_STYLE
        ).add_to(m)
    if mine_frame is not None:
        VectorLayer(
            LAYER_MINES,
            features.mine_features(mine_frame),
            fallback=MINE_STYLE,
            radius=_MINE_RADIUS,
            boost=_SMALL_POLYGON_BOOST,
        ).add_to(m)
    if lead_frame is not None:
        VectorLayer(
            LAYER_LEADS,
            features.lead_features(lead_frame),
            styles=lead_styles(),
            radius=_LEAD_RADIUS,
            boost=_SMALL_POLYGON_BOOST,
        ).add_to(m)

    Fullscreen(position="topleft", title="全屏", title_cancel="退出全屏").add_to(m)
    MeasureControl(
        position="topleft",
        primary_length_unit="meters",
        secondary_length_unit="kilometers",
        primary_area_unit="sqmeters",
        secondary_area_unit="mu",
        units={"mu": {"factor": 0.0015, "display": "亩", "decimals": 2}},
    ).add_to(m)
    ScaleBar().add_to(m)
    MapTitle(title).add_to(m)
    Legend(
        legend_html(
            status_counts=_status_counts(lead_frame) if lead_frame is not None else None,
            zones=reserve_frame is not None,
            wetlands=wetland_frame is not None,
            mines=mine_frame is not None,
            admin=admin_frame is not None,
        )
    ).add_to(m)
    _fit(m, [lead_frame, reserve_frame, wetland_frame, mine_frame], admin_frame)
    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    counts = [0 if f is None else len(f) for f in (lead_frame, reserve_frame, wetland_frame)]
    counts += [0 if f is None else len(f) for f in (mine_frame, admin_frame)]
    log.info("map %r: %d leads, %d zones, %d wetlands, %d mines, %d counties", title, *counts)
    return m


def write_map(path: str | Path, **kwargs: Any) -> Path:
    """Build the map with :func:`build_map` and write it as one self-contained HTML file.

    Parameters
    ----------
    path
        Output file; its folder is created if needed.
    **kwargs
        Arguments of :func:`build_map`.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    AssetError
        If the HTML would still load a script or stylesheet from the internet.
    """
    path = Path(path)
    html = build_map(**kwargs).get_root().render()
    external = external_resources(html)
    if external:
        raise AssetError(f"the map would load {len(external)} resources online: {external[:3]}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    log.info("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)
    return path
