"""Offline assets: vendored files, inlining, and refusing maps that would need the internet."""

from __future__ import annotations

import hashlib
import re

import folium
import pytest
from folium.plugins import HeatMap

from webmap.errors import AssetError
from webmap.map.offline import (
    BUNDLES,
    STATIC_DIR,
    OfflineMap,
    adopt_resources,
    external_resources,
    inline_css,
    inline_js,
)

VENDORED = [name for b in BUNDLES.values() for name in (*b.scripts, *b.styles)]


def test_every_vendored_file_exists_and_is_listed_with_its_licence():
    licences = (STATIC_DIR / "LICENSES.txt").read_text("utf-8")
    for name in VENDORED:
        assert (STATIC_DIR / name).is_file()
        if not name.startswith("lvdun-"):  # lvdun's own files
            assert name in licences
    for text in ("Leaflet 1.9.4", "BSD-2-Clause", "leaflet.fullscreen 3.0.2", "MIT"):
        assert text in licences


def test_vendored_files_stay_small():
    # what maps inline; Swagger UI is only served by the web app, for its /docs page
    # the offline background's data has a budget of its own (tests/webmap/map/test_background.py)
    data = {"lvdun-background.json", "lvdun-background-counties.json"}
    total = sum(p.stat().st_size for p in STATIC_DIR.iterdir()
                if p.is_file() and not p.name.startswith("swagger-ui") and p.name not in data)
    assert total < 400_000


def test_stylesheets_have_their_images_inlined():
    for css in ("leaflet.css", "leaflet-measure.css", "Control.FullScreen.css"):
        urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", inline_css(css))
        assert urls, css
        assert all(u.startswith(("data:", "#")) for u in urls), css


def test_scripts_cannot_close_their_script_element():
    for bundle in BUNDLES.values():
        for js in bundle.scripts:
            assert "</script" not in inline_js(js).lower()


def test_folium_plugin_links_are_taken_over():
    m = OfflineMap(tiles=None)
    folium.plugins.Fullscreen().add_to(m)
    assert adopt_resources(m) == {"leaflet", "fullscreen"}
    assert m.default_js == [] and m.default_css == []
    assert external_resources(m.get_root().render()) == []


@pytest.mark.parametrize(
    "name", ["leaflet.groupedlayercontrol.min.js", "leaflet.groupedlayercontrol.min.css"]
)
def test_grouped_layer_control_is_the_npm_file_listed(name):
    licences = (STATIC_DIR / "LICENSES.txt").read_text("utf-8")
    listed = re.search(re.escape(name) + r"\s+dist/\S+\s+([0-9a-f]{64})", licences)
    assert listed, f"{name} has no sha256 in LICENSES.txt"
    assert hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest() == listed.group(1)


def test_foliums_grouped_layer_control_is_inlined_too():
    m = OfflineMap(tiles=None)
    group = folium.FeatureGroup(name="甲").add_to(m)
    folium.plugins.GroupedLayerControl({"组": [group]}).add_to(m)
    html = m.get_root().render()
    assert external_resources(html) == []
    assert "L.Control.GroupedLayers=L.Control.extend" in html


def test_plugin_that_is_not_vendored_is_refused():
    m = OfflineMap(tiles=None)
    HeatMap([[42.0, 128.0]]).add_to(m)
    with pytest.raises(AssetError, match=r"HeatMap needs 'leaflet-heat.js' \(https://"):
        m.get_root().render()


def test_external_resources_finds_cdn_tags_only():
    page = (
        '<link rel="stylesheet" href="https://cdn.example/a.css"/>'
        "<script src='http://cdn.example/b.js'></script>"
        "<script>L.tileLayer('https://tile.example/{z}/{x}/{y}.png')</script>"
    )
    assert external_resources(page) == [
        '<link rel="stylesheet" href="https://cdn.example/a.css',
        "<script src='http://cdn.example/b.js",
    ]
