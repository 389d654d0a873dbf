"""The published map as a user gets it: one HTML file, offline, every layer, safe popups."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from layers.schema import STATUS_LABELS, ZONE_LABELS, Zone
from tests.webmap.frames import CRS, XSS_NOTE, make_frames, make_leads, make_reserves
from webmap.errors import MapInputError
from webmap.map.build import (
    BASEMAP_AMAP,
    BASEMAP_AMAP_IMG,
    BASEMAP_NONE,
    BASEMAP_OSM,
    BASEMAP_TIANDITU_IMG,
    BASEMAP_TIANDITU_VEC,
    build_app_map,
    build_map,
    write_map,
)
from webmap.map.offline import external_resources
from webmap.map.style import (
    LAYER_ADMIN,
    LAYER_GROUPS,
    LAYER_LEADS,
    LAYER_MINES,
    LAYER_OTHER_MINES,
    LAYER_RESERVES,
    LAYER_WETLANDS,
)

CDN_SCRIPT = re.compile(r"""<script[^>]+src=["']https?:""", re.IGNORECASE)
CDN_LINK = re.compile(r"""<link[^>]+href=["']https?:""", re.IGNORECASE)
#: The layer control's groups of overlays, top first: title -> layers.
ALL_GROUPS = {
    "线索": [LAYER_LEADS],
    "保护地": [LAYER_RESERVES],
    "湿地": [LAYER_WETLANDS],
    "矿山": [LAYER_MINES],
    "行政区": [LAYER_ADMIN],
}


@pytest.fixture
def html(frames: dict[str, gpd.GeoDataFrame], tmp_path: Path) -> str:
    path = write_map(tmp_path / "map.html", **frames)
    return path.read_text(encoding="utf-8")


def test_write_map_returns_the_path_and_creates_its_folder(frames, tmp_path):
    target = tmp_path / "out" / "线索分布图.html"
    assert write_map(target, **frames) == target
    assert target.stat().st_size > 100_000


def layer_control(html: str) -> tuple[list[str], dict[str, list[str]]]:
    """The basemaps and the groups of overlays listed by the layer control of a map."""
    calls = re.findall(r"lvdun\.groupedLayers\(\w+,\n\s*\[([\w, ]*)\],\n\s*(.*)\);\n", html)
    assert len(calls) == 1, "not one layer control in the map"
    variables, spec_json = calls[0]
    spec = json.loads(spec_json)
    layers = variables.split(", ")
    for _, k in [*spec["base"], *(entry for _, group in spec["groups"] for entry in group)]:
        assert f"var {layers[k]} = " in html  # each entry is a layer of the page
    assert "folium.LayerControl" not in html and "L.control.layers(" not in html
    bases = [name for name, _ in spec["base"]]
    return bases, {title: [name for name, _ in group] for title, group in spec["groups"]}


def test_layer_control_groups_every_layer_by_kind_under_the_basemaps(html):
    bases, groups = layer_control(html)
    assert bases == [BASEMAP_NONE, BASEMAP_OSM, BASEMAP_AMAP, BASEMAP_AMAP_IMG]
    assert groups == ALL_GROUPS
    assert list(groups) == [*LAYER_GROUPS]
    assert '"baseTitle":"底图"' in html


def test_html_has_legend_with_zone_and_status_labels(html):
    assert "图例" in html
    for label in (*STATUS_LABELS.values(), "核心区 / 核心保护区", "缓冲区", "国家级", "省级"):
        assert label in html


def test_html_loads_nothing_from_a_cdn(html):
    assert not CDN_SCRIPT.search(html)
    assert not CDN_LINK.search(html)
    assert "Leaflet 1.9.4" in html  # inlined, licence header kept
    assert "leaflet-measure 3.1.0" in html
    assert "leaflet.fullscreen" in html


def test_html_charset_comes_before_the_inlined_assets(html):
    assert html.index("charset=UTF-8") < 1024


def test_lead_note_with_script_is_written_escaped(html):
    assert XSS_NOTE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_title_is_escaped(frames, tmp_path):
    html = write_map(tmp_path / "m.html", **frames, title="<b>安图县</b>").read_text("utf-8")
    assert "<title>&lt;b&gt;安图县&lt;/b&gt;</title>" in html
    assert "<b>安图县</b>" not in html


def _basemaps(m: folium.Map) -> dict[str, bool]:
    """Base layer name -> shown when the map opens."""
    return {
        child.layer_name: child.show
        for child in m._children.values()
        if isinstance(child, folium.map.Layer) and child.control and not child.overlay
    }


def test_no_basemap_is_the_default_and_online_ones_are_off(frames):
    assert _basemaps(build_map(**frames)) == {
        BASEMAP_NONE: True,
        BASEMAP_OSM: False,
        BASEMAP_AMAP: False,
        BASEMAP_AMAP_IMG: False,
    }
    assert _basemaps(build_map(**frames, amap=False)) == {BASEMAP_NONE: True, BASEMAP_OSM: False}


def test_tianditu_basemaps_only_with_a_key(frames, tmp_path):
    assert "tianditu" not in write_map(tmp_path / "a.html", **frames).read_text("utf-8")
    m = build_map(**frames, tianditu_key="abc123")
    assert _basemaps(m) == {
        BASEMAP_NONE: True,
        BASEMAP_OSM: False,
        BASEMAP_TIANDITU_VEC: False,
        BASEMAP_TIANDITU_IMG: False,
        BASEMAP_AMAP: False,
        BASEMAP_AMAP_IMG: False,
    }
    html = m.get_root().render()
    for layer in ("vec_w", "cva_w", "img_w", "cia_w"):
        assert re.search(rf"tianditu\.gov\.cn/DataServer\?T={layer}\S*tk=abc123", html)


def _fit_bounds(m: folium.Map) -> tuple[float, float, float, float]:
    fits = [c for c in m._children.values() if isinstance(c, folium.map.FitBounds)]
    assert len(fits) == 1
    (south, west), (north, east) = fits[0].bounds
    return west, south, east, north


def test_map_fits_the_reserves_not_a_national_mines_layer(frames):
    far = gpd.GeoDataFrame({"mine_id": ["M9"], "mine_name": ["远矿"], "mine_status": ["有效"]},
                           geometry=[Point(87.6, 43.8)], crs=CRS)  # Urumqi, 3,000 km away
    m = build_map(**{**frames, "mines": pd.concat([frames["mines"], far])})
    assert _fit_bounds(m) == pytest.approx(tuple(frames["reserves"].total_bounds))


def test_map_without_reserves_fits_the_leads_else_the_mines(frames):
    no_reserves = {**frames, "reserves": frames["reserves"].iloc[:0]}
    assert _fit_bounds(build_map(**no_reserves)) == pytest.approx(
        tuple(frames["leads"].total_bounds))
    only_mines = {**no_reserves, "leads": frames["leads"].iloc[:0], "wetlands": None}
    assert _fit_bounds(build_map(**only_mines)) == pytest.approx(
        tuple(frames["mines"].total_bounds))


def test_optional_layers_none_or_empty(tmp_path):
    empty = gpd.GeoDataFrame({"mine_id": []}, geometry=[], crs=CRS)
    path = write_map(
        tmp_path / "m.html",
        leads=make_leads(10),
        reserves=make_reserves(),
        wetlands=None,
        mines=empty,
        admin=empty.iloc[:0],
    )
    groups = layer_control(path.read_text("utf-8"))[1]
    assert groups == {"线索": [LAYER_LEADS], "保护地": [LAYER_RESERVES]}


def test_map_without_any_data_opens_on_china(tmp_path):
    empty = gpd.GeoDataFrame(geometry=[], crs=CRS)
    m = build_map(leads=empty, reserves=empty)
    assert m.location == [35.0, 105.0]
    assert not CDN_SCRIPT.search(m.get_root().render())


def test_leads_with_only_an_id_and_nan_values(tmp_path):
    leads = gpd.GeoDataFrame(
        {"lead_id": ["A1", "A2"], "area_m2": [float("nan"), 1500.0], "status": [None, "问题"]},
        geometry=[Point(128.0, 42.0), None],
        crs=CRS,
    )
    html = write_map(tmp_path / "m.html", leads=leads, reserves=make_reserves()).read_text("utf-8")
    assert '"A1"' in html
    assert '"A2"' not in html  # no geometry: not drawn


def test_frames_in_another_crs_are_reprojected():
    frames = make_frames(20)
    projected = frames["leads"].to_crs("EPSG:3857")
    m = build_map(leads=projected, reserves=frames["reserves"])
    fit = next(c for c in m._children.values() if isinstance(c, folium.map.FitBounds))
    (south, west), (north, east) = fit.bounds
    assert 127 < west < east < 129 and 41 < south < north < 43


def test_frame_without_crs_is_refused():
    leads = make_leads(3).set_crs(None, allow_override=True)
    with pytest.raises(MapInputError, match=r"leads: the frame has no CRS.*set_crs\(4490\)"):
        build_map(leads=leads, reserves=make_reserves())


def test_frame_of_the_wrong_type_is_refused():
    with pytest.raises(MapInputError, match="reserves: expected a GeoDataFrame, got list"):
        build_map(leads=make_leads(3), reserves=[])  # type: ignore[arg-type]


@pytest.mark.slow
def test_5000_leads_build_in_reasonable_time(tmp_path):
    frames = make_frames(5000)
    start = time.perf_counter()
    html = write_map(tmp_path / "big.html", **frames).read_text("utf-8")
    elapsed = time.perf_counter() - start
    assert elapsed < 20, f"5,000 leads took {elapsed:.1f} s"
    assert len(set(re.findall(r'"C2112822009\d{8}"', html))) == 5000
    assert len(html) < 5_000_000


def test_zone_labels_of_leads_show_in_popups(html):
    assert ZONE_LABELS[Zone.CORE] in html
    assert "长白山（合成）（核心区，75%）" in html


def test_amap_basemaps_shift_our_layers(html):
    assert "webrd0{s}.is.autonavi.com" in html and "webst0{s}.is.autonavi.com" in html
    assert re.search(r"lvdun\.gcjBasemaps\(map_\w+, \[\"高德地图", html)


def test_legend_lists_the_shapes_of_activity_types(html):
    assert "活动类型（点的形状）" in html and "矿产资源开发" in html
    assert 'data-status=\\"problem\\"' in html  # counts kept up to date by the filters


def test_filters_and_search_are_in_the_page(html):
    assert "lvdun.leadControls(" in html
    assert '"filters":{"activity":["矿产资源开发"]' in html


def test_leads_data_is_a_json_block_read_once(html):
    assert re.search(r'<script type="application/json" id="vector_layer_\w+-data">', html)
    assert "lvdun.readJson(" in html


def test_app_map_holds_no_data_and_loads_each_layer_from_the_api():
    m = build_app_map(layers=["reserves", "leads"], bounds=(126.0, 43.0, 127.0, 44.0),
                      activities=["采石场"])
    html = m.get_root().render()
    assert "/api/map/reserves" in html and "/api/map/leads" in html
    assert "/api/map/wetlands" not in html
    assert "lvdun.appInit(" in html and "lvdun.appPopup" in html  # lvdun-app.js inlined
    assert 'type="application/json"' not in html
    assert "矿产资源开发" in html  # the legend
    assert not external_resources(html)
    empty = build_app_map(layers=[], bounds=None)
    assert empty.location == [35.0, 105.0]


def test_mines_split_into_closed_and_other_layers(tmp_path, frames):
    valid = gpd.GeoDataFrame({"mine_id": ["M9", "M10"], "mine_name": ["在产矿", "无状态矿"],
                              "mine_status": ["有效", None]},
                             geometry=[Point(128.0, 42.0), Point(128.01, 42.0)], crs=CRS)
    mines = pd.concat([frames["mines"], valid])
    html = write_map(tmp_path / "m.html", **{**frames, "mines": mines}).read_text("utf-8")
    groups = layer_control(html)[1]
    assert groups["矿山"] == [LAYER_MINES, LAYER_OTHER_MINES]
    assert "在产矿" in html and LAYER_OTHER_MINES in html
    only_closed = write_map(tmp_path / "c.html", **frames).read_text("utf-8")
    assert layer_control(only_closed)[1]["矿山"] == [LAYER_MINES]
