"""The published map: one self-contained HTML file that opens from disk and works offline.

Leaflet and its plugins are inlined (:mod:`webmap.map.offline`); the default basemap is an
offline background (country outlines and names, Natural Earth), so nothing is fetched
from the internet unless the user picks an optional online basemap: OpenStreetMap, 天地图
(with a key) or 高德 Amap, whose GCJ-02 tiles make the page shift every lvdun layer by
the GCJ-02 formula while it is shown (``static/lvdun-shift.js``). Layers, bottom to
top: 县界, 保护区功能区, 湿地, 关闭矿山 (关闭, 历史遗留), 有效矿山及其他, 线索; all are
drawn on one canvas, so 10^5 leads stay usable. The layer control
(``static/lvdun-layers.js``) lists the basemaps under 底图 and the layers grouped by kind:
线索, 保护地, 湿地, 矿山, 行政区. Leads are coloured
by status and point leads shaped by activity type; a panel filters them by status,
activity type, batch, reserve and zone and finds lead ids and reserve names, all in the
page (``static/lvdun-filter.js``), which also exposes ``window.lvdunMap`` to scripts.

:func:`build_app_map` makes the same page for the web app (``lvdun serve``): no data is
embedded, every layer is loaded from the API with the user's token.

Examples
--------
>>> from pathlib import Path
>>> write_map(Path("map.html"), leads=leads, reserves=reserves)  # doctest: +SKIP
PosixPath('map.html')
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import folium
import geopandas as gpd
import pandas as pd
from folium.plugins import Fullscreen, MeasureControl

from layers.i18n import _
from layers.schema import NOT_PROBLEM_REASONS, SQM_PER_MU, STATUS_LABELS, Status, Zone
from pipelines.escape import html_text
from pipelines.progress import Progress, no_progress
from webmap.errors import AssetError
from webmap.map import features, lead_features
from webmap.map.aggregate import AGGREGATE_ABOVE, LeadAggregates, OfflineBackground
from webmap.map.elements import (
    AppInit,
    GcjBasemaps,
    GroupedLayerControl,
    LeadControls,
    Legend,
    MapTitle,
    RawHtml,
    ScaleBar,
    VectorLayer,
)
from webmap.map.features import LayerData
from webmap.map.offline import OfflineMap, external_resources
from webmap.map.popup import chip_cells, history_cells
from webmap.map.style import (
    ACTIVITY_SHAPES,
    ADMIN_STYLE,
    BASEMAP_TITLE,
    LAYER_ADMIN,
    LAYER_GROUPS,
    LAYER_LEADS,
    LAYER_MINES,
    LAYER_OTHER_MINES,
    LAYER_RESERVES,
    LAYER_WETLANDS,
    MINE_STYLE,
    OTHER_MINE_STYLE,
    SHAPE_VERTICES,
    STATUS_COLOURS,
    UNKNOWN_STATUS,
    WETLAND_STYLE,
    lead_styles,
    legend_html,
    reserve_style_key,
    reserve_styles,
)

__all__ = [
    "BASEMAP_AMAP",
    "BASEMAP_AMAP_IMG",
    "BASEMAP_NONE",
    "BASEMAP_OSM",
    "BASEMAP_TIANDITU_IMG",
    "BASEMAP_TIANDITU_VEC",
    "build_app_map",
    "build_map",
    "write_map",
]

log = logging.getLogger(__name__)

#: The default: an offline background (no tiles): China's provinces and counties with names,
#: large rivers and lakes, the neighbouring countries.
BASEMAP_NONE = "离线底图（省界、县界、河湖）"
BASEMAP_OSM = "OpenStreetMap（需联网）"
BASEMAP_TIANDITU_VEC = "天地图 矢量（需联网）"
BASEMAP_TIANDITU_IMG = "天地图 影像（需联网）"
BASEMAP_AMAP = "高德地图（GCJ-02，需联网）"
BASEMAP_AMAP_IMG = "高德影像（GCJ-02，需联网）"

_OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_OSM_ATTR = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> 贡献者'
#: 天地图 web-Mercator tiles (``_w``), served in CGCS2000 without the GCJ-02 shift.
_TIANDITU_URL = (
    "https://t{{s}}.tianditu.gov.cn/DataServer?T={layer}&x={{x}}&y={{y}}&l={{z}}&tk={key}"
)
_TIANDITU_ATTR = '&copy; <a href="https://www.tianditu.gov.cn/">天地图</a>'
_TIANDITU_SUBDOMAINS = "01234567"
#: Amap (高德) tiles, in GCJ-02: our layers are shifted while they are shown.
_AMAP_URL = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
_AMAP_IMG_URL = "https://webst0{s}.is.autonavi.com/appmaptile?style=6&x={x}&y={y}&z={z}"
_AMAP_ATTR = "&copy; 高德地图 (GCJ-02)"
_AMAP_SUBDOMAINS = "1234"

#: Where the map opens when no layer has data: mainland China.
_CHINA_CENTRE = (35.0, 105.0)
_MAX_FIT_ZOOM = 15
_LEAD_RADIUS = 5.0
_MINE_RADIUS = 6.0
#: Below zoom 13 a lead patch of a few hundred m² is under 2 px: draw its outline thick.
_SMALL_POLYGON_BOOST = (13, 6.0)
#: Markers and thickened patches shrink at overview zooms (below 8: to half...), so that
#: crowds of leads leave the reserves under them visible.
_OVERVIEW_SCALE = ((8, 0.5), (10, 0.6), (12, 0.8))


def _basemaps(m: folium.Map, tianditu_key: str | None, *, amap: bool) -> None:
    """Add the base layers: none (shown), then online ones, off until picked (no requests).

    With ``amap``, the Amap basemaps are offered and :class:`GcjBasemaps` shifts every
    lvdun layer to GCJ-02 while one of them is shown.
    """
    offline = folium.FeatureGroup(name=BASEMAP_NONE, overlay=False, show=True).add_to(m)
    OfflineBackground(offline).add_to(m)
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
    else:
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
    if amap:
        for name, url in ((BASEMAP_AMAP, _AMAP_URL), (BASEMAP_AMAP_IMG, _AMAP_IMG_URL)):
            folium.TileLayer(
                tiles=url,
                attr=_AMAP_ATTR,
                name=name,
                overlay=False,
                show=False,
                subdomains=_AMAP_SUBDOMAINS,
                max_zoom=18,
            ).add_to(m)
        GcjBasemaps([BASEMAP_AMAP, BASEMAP_AMAP_IMG]).add_to(m)


def _status_counts(leads: gpd.GeoDataFrame) -> collections.Counter[str]:
    statuses = leads["status"] if "status" in leads else [None] * len(leads)
    return collections.Counter(lead_features.status_code(value) for value in statuses)


def _fit(m: folium.Map, frames: list[gpd.GeoDataFrame | None]) -> None:
    """Fit the view to the first of ``frames`` that has data, else show China.

    The order is the caller's: reserves, then leads, then wetlands, mines and counties. A
    national mines file (or one far-away lead) must not zoom the view out to all of China.
    """
    bounds = None
    for frame in frames:
        bounds = features.frame_bounds([frame])
        if bounds is not None:
            break
    if bounds is None:
        m.location = list(_CHINA_CENTRE)
        m.options["zoom"] = 4
        return
    minx, miny, maxx, maxy = bounds
    m.location = [(miny + maxy) / 2, (minx + maxx) / 2]
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(20, 20), max_zoom=_MAX_FIT_ZOOM)


def _new_map(title: str, tianditu_key: str | None, *, amap: bool) -> OfflineMap:
    m = OfflineMap(tiles=None, prefer_canvas=True, control_scale=False, font_size="13px")
    m.options.update(max_zoom=20, min_zoom=3)
    root = m.get_root()
    root.header.add_child(RawHtml(f"<title>{html_text(title)}</title>"), name="lvdun_title")
    # no favicon request (a 404 in the web app, a console error in every browser test)
    root.header.add_child(RawHtml('<link rel="icon" href="data:,">'), name="lvdun_icon")
    _basemaps(m, tianditu_key, amap=amap)
    return m


def _status_entries(counts: Mapping[str, int] | None) -> list[tuple[str, str, str]]:
    """(code, label, colour) of each status for the filter panel; 状态不明 only if present."""
    entries = [(s.value, STATUS_LABELS[s], STATUS_COLOURS[s]) for s in Status]
    if counts and counts.get(UNKNOWN_STATUS):
        entries.append((UNKNOWN_STATUS, "状态不明", "#ffffff"))
    return entries


def _controls(
    m: folium.Map,
    *,
    title: str,
    legend: str,
    leads: VectorLayer | None,
    reserves: VectorLayer | None,
    status_counts: Mapping[str, int] | None,
) -> None:
    """Add full screen, measure, scale, title, legend, filters and the layer control.

    The layer control lists the basemaps (radio buttons) under 底图 and the overlays
    grouped by kind (:data:`~webmap.map.style.LAYER_GROUPS`).
    """
    Fullscreen(position="topleft", title="全屏", title_cancel="退出全屏").add_to(m)
    MeasureControl(
        position="topleft",
        primary_length_unit="meters",
        secondary_length_unit="kilometers",
        primary_area_unit="sqmeters",
        secondary_area_unit="mu",
        units={"mu": {"factor": 1 / SQM_PER_MU, "display": "亩", "decimals": 2}},
    ).add_to(m)
    ScaleBar().add_to(m)
    MapTitle(title).add_to(m)
    Legend(legend).add_to(m)
    LeadControls(leads, reserves, _status_entries(status_counts)).add_to(m)
    GroupedLayerControl(LAYER_GROUPS, base_title=BASEMAP_TITLE).add_to(m)


def _lead_layer(
    data: LayerData, *, source: str | None = None, view_limit: int | None = None
) -> VectorLayer:
    extra: dict[str, Any] = {"vertices": SHAPE_VERTICES}
    if view_limit is not None:
        extra.update(viewLoading=True, limit=view_limit)
    return VectorLayer(
        LAYER_LEADS,
        data,
        styles=lead_styles(),
        radius=_LEAD_RADIUS,
        boost=_SMALL_POLYGON_BOOST,
        scale=_OVERVIEW_SCALE,
        kind="leads",
        source=source,
        extra=extra,
    )


def _point_activities(frame: gpd.GeoDataFrame | None) -> list[str]:
    """Activity types of the point leads (their shapes go in the legend), in MEE order."""
    if frame is None or "activity_type" not in frame:
        return []
    points = frame[frame.geom_type.isin(["Point", "MultiPoint"])]
    return _activity_groups(points["activity_type"])


def _activity_groups(values: Iterable[Any]) -> list[str]:
    """The activity types of ``values`` (sub-types folded in), in MEE order."""
    groups = {lead_features.activity_group(v) for v in values} - {None}
    order = list(ACTIVITY_SHAPES)
    return sorted(groups, key=lambda g: (order.index(g) if g in order else len(order), g))


def build_map(
    *,
    leads: gpd.GeoDataFrame,
    reserves: gpd.GeoDataFrame,
    wetlands: gpd.GeoDataFrame | None = None,
    mines: gpd.GeoDataFrame | None = None,
    admin: gpd.GeoDataFrame | None = None,
    history: pd.DataFrame | None = None,
    chips: Mapping[str, Any] | None = None,
    title: str = "绿盾线索",
    tianditu_key: str | None = None,
    amap: bool = True,
    progress: Progress = no_progress,
) -> folium.Map:
    """Build the published map of leads over reserve zones, wetlands, mines and counties.

    Parameters
    ----------
    leads : geopandas.GeoDataFrame
        Classified leads (EPSG:4490): ``lead_id, batch, activity_type, change_type, status,
        reserve_name, zone, zone_label, overlaps, wetland_names, mine_ids, county_name,
        area_m2, dist_boundary_m, note`` and Point or (Multi)Polygon geometries. Missing
        columns and values show as "—"; a missing status counts as 待核查.
    reserves : geopandas.GeoDataFrame
        Reserve zones: ``reserve_code, reserve_name, level, zone``, polygons.
    wetlands, mines, admin : geopandas.GeoDataFrame or None
        Optional layers (``wetland_name, wetland_level``; ``mine_id, mine_name,
        mine_status``; ``adcode, admin_name``); None or empty frames are left out.
    history : pandas.DataFrame or None
        Optional ``lead_history`` rows (``lead_id, at, by, from_status, to_status, reason,
        note``): each popup lists the lead's last entries, newest first.
    chips : mapping, optional
        Optional lead id -> before/after images (see :func:`webmap.map.popup.chip_cells`);
        files are inlined, so the map stays one file.
    title : str
        Page title and the heading shown on the map.
    tianditu_key : str or None
        A 天地图 ``tk`` key; with it the 天地图 vector and imagery basemaps are offered.
        The caller reads it (e.g. from ``LVDUN_TIANDITU_KEY``); this function never does.
    amap : bool
        Offer the Amap (高德) basemaps, with the GCJ-02 shift of our layers.
    progress : Progress
        Told of step ``生成地图``: the frames checked, then each layer (counties, reserves,
        wetlands, mines, leads with their popups), then legend and controls.

    Returns
    -------
    folium.Map
        An :class:`~webmap.map.offline.OfflineMap`: rendering it inlines every script and
        stylesheet, so the saved HTML needs no internet (except optional basemap tiles).

    Raises
    ------
    MapInputError
        If a frame is not a GeoDataFrame or has no CRS, or history / chips are malformed.
    """
    step, parts = _("生成地图"), 7
    progress(step, 0, parts)
    lead_frame = features.prepare_frame(leads, "leads")
    reserve_frame = features.prepare_frame(reserves, "reserves")
    wetland_frame = features.prepare_frame(wetlands, "wetlands")
    mine_frame = features.prepare_frame(mines, "mines")
    admin_frame = features.prepare_frame(admin, "admin")

    m = _new_map(title, tianditu_key, amap=amap)
    # Fit first: layers added after the view is set are drawn once, not twice.
    _fit(m, [reserve_frame, lead_frame, wetland_frame, mine_frame, admin_frame])
    progress(step, 1, parts)
    if admin_frame is not None:
        counties = features.admin_features(admin_frame)
        VectorLayer(LAYER_ADMIN, counties, fallback=ADMIN_STYLE, kind="admin").add_to(m)
    progress(step, 2, parts)
    reserve_layer = None
    if reserve_frame is not None:
        reserve_layer = VectorLayer(
            LAYER_RESERVES,
            features.reserve_features(reserve_frame),
            styles=reserve_styles(),
            fallback=reserve_styles()[reserve_style_key(Zone.UNZONED, None)],
            outline_above=True,
            kind="reserves",
        ).add_to(m)
    progress(step, 3, parts)
    if wetland_frame is not None:
        VectorLayer(
            LAYER_WETLANDS,
            features.wetland_features(wetland_frame),
            fallback=WETLAND_STYLE,
            kind="wetlands",
        ).add_to(m)
    progress(step, 4, parts)
    closed_mines, other_mines = (None, None) if mine_frame is None else (
        features.split_mines(mine_frame))
    for name, part, style, kind in ((LAYER_MINES, closed_mines, MINE_STYLE, "mines"),
                                    (LAYER_OTHER_MINES, other_mines, OTHER_MINE_STYLE,
                                     "other_mines")):
        if part is not None:
            VectorLayer(
                name,
                features.mine_features(part),
                fallback=style,
                radius=_MINE_RADIUS,
                boost=_SMALL_POLYGON_BOOST,
                scale=_OVERVIEW_SCALE,
                kind=kind,
            ).add_to(m)
    progress(step, 5, parts)
    lead_layer = None
    if lead_frame is not None:
        data = lead_features.lead_features(
            lead_frame, history=history_cells(history), chips=chip_cells(chips)
        )
        lead_layer = _lead_layer(data).add_to(m)
        if len(lead_frame) > AGGREGATE_ABOVE:
            LeadAggregates(lead_layer).add_to(m)
    progress(step, 6, parts)

    counts = _status_counts(lead_frame) if lead_frame is not None else None
    legend = legend_html(
        status_counts=counts,
        zones=reserve_frame is not None,
        wetlands=wetland_frame is not None,
        mines=closed_mines is not None,
        admin=admin_frame is not None,
        activities=_point_activities(lead_frame),
        other_mines=other_mines is not None,
    )
    _controls(m, title=title, legend=legend, leads=lead_layer, reserves=reserve_layer,
              status_counts=counts)
    progress(step, parts, parts)
    sizes = [0 if f is None else len(f) for f in (lead_frame, reserve_frame, wetland_frame)]
    sizes += [0 if f is None else len(f) for f in (mine_frame, admin_frame)]
    log.info("map %r: %d leads, %d zones, %d wetlands, %d mines, %d counties", title, *sizes)
    return m


#: Layers of the web app page: kind -> (name in the layer control, builder arguments).
_APP_LAYERS: dict[str, tuple[str, dict[str, Any]]] = {
    "admin": (LAYER_ADMIN, {"fallback": ADMIN_STYLE}),
    "reserves": (LAYER_RESERVES, {"styles": reserve_styles(),
                                  "fallback": reserve_styles()[reserve_style_key(Zone.UNZONED,
                                                                                 None)],
                                  "outline_above": True}),
    "wetlands": (LAYER_WETLANDS, {"fallback": WETLAND_STYLE}),
    # the API sends mines of every status: the layer is named for all of them
    "mines": ("矿山", {"fallback": MINE_STYLE, "radius": _MINE_RADIUS,
                            "boost": _SMALL_POLYGON_BOOST, "scale": _OVERVIEW_SCALE}),
}


def build_app_map(
    *,
    layers: Collection[str],
    bounds: Sequence[float] | None,
    api: str = "/api",
    login: str = "/login",
    title: str = "绿盾线索",
    tianditu_key: str | None = None,
    amap: bool = True,
    activities: Sequence[str] = (),
    view_limit: int | None = None,
) -> folium.Map:
    """Build the map page of the web app: the same map, every layer loaded from the API.

    The page holds no data. In the browser it reads the token that the login page stored,
    asks ``{api}/me`` who is logged in (else goes to ``login``), then loads each layer
    from ``{api}/map/{kind}``; popups of leads show their history and, for users who may
    change the lead, a status form posting to ``{api}/leads/{id}/status``.

    Parameters
    ----------
    layers : collection of str
        Kinds the workspace holds: any of ``admin, reserves, wetlands, mines, leads``.
    bounds : sequence of float or None
        ``(minx, miny, maxx, maxy)`` to open on, or None for all of China.
    api, login : str
        URL paths of the API root and of the login page.
    title : str
        As for :func:`build_map`.
    tianditu_key : str or None
        As for :func:`build_map`.
    amap : bool
        As for :func:`build_map`.
    activities : sequence of str
        Activity types among point leads, for the legend.
    view_limit : int or None
        Load only the leads in view (at most this many), again whenever the map moves;
        None loads every lead once.
    """
    m = _new_map(title, tianditu_key, amap=amap)
    m.extra_bundles = frozenset({"lvdun-app"})
    empty = LayerData("", (), ())
    made: dict[str, VectorLayer | None] = {}
    for kind, (name, options) in _APP_LAYERS.items():
        if kind in layers:
            made[kind] = VectorLayer(name, empty, kind=kind, source=f"{api}/map/{kind}",
                                     **options).add_to(m)
    made["leads"] = (_lead_layer(empty, source=f"{api}/map/leads",
                                 view_limit=view_limit).add_to(m)
                     if "leads" in layers else None)
    legend = legend_html(
        status_counts={} if "leads" in layers else None,
        zones="reserves" in layers,
        wetlands="wetlands" in layers,
        mines="mines" in layers,
        admin="admin" in layers,
        activities=_activity_groups(activities),
    )
    _controls(m, title=title, legend=legend, leads=made["leads"], reserves=made.get("reserves"),
              status_counts=None)
    AppInit(made, {
        "api": api,
        "login": login,
        "reasons": list(NOT_PROBLEM_REASONS),
        "statusLabels": {s.value: label for s, label in STATUS_LABELS.items()},
    }).add_to(m)
    if bounds is None:
        m.location = list(_CHINA_CENTRE)
        m.options["zoom"] = 4
    else:
        minx, miny, maxx, maxy = bounds
        m.location = [(miny + maxy) / 2, (minx + maxx) / 2]
        m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(20, 20), max_zoom=_MAX_FIT_ZOOM)
    return m


def write_map(path: str | Path, **kwargs: Any) -> Path:
    """Build the map with :func:`build_map` and write it as one self-contained HTML file.

    Parameters
    ----------
    path
        Output file; its folder is created if needed.
    **kwargs
        Arguments of :func:`build_map`; its ``progress`` is also told of step ``写出地图``:
        the page rendered (scripts inlined), then the file written.

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
    progress: Progress = kwargs.get("progress", no_progress)
    built = build_map(**kwargs)
    step = _("写出地图")
    progress(step, 0, 2)
    html = built.get_root().render()
    external = external_resources(html)
    if external:
        raise AssetError(f"the map would load {len(external)} resources online: {external[:3]}")
    progress(step, 1, 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    progress(step, 2, 2)
    log.info("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)
    return path
