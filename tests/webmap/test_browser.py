"""The map and the web app in a real browser: Debian's Chromium driven by Playwright.

The published map is opened from disk (``file://``); the web app runs as ``lvdun serve``
runs it (uvicorn, :func:`webmap.app.factory.create_app`) in a thread on a free loopback port.
Online basemap tiles are answered locally with a blank image (no internet here, and
tests must not depend on it).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from shapely.geometry import Point

from geo.shift import wgs84_to_gcj02
from tests.conftest import require_service
from tests.webmap.conftest import USERS
from tests.webmap.frames import XSS_NOTE, make_frames, make_leads, make_reserves
from webmap.app.factory import create_app
from webmap.app.settings import Settings
from webmap.map.build import BASEMAP_AMAP, BASEMAP_NONE, write_map
from webmap.map.style import (
    BASEMAP_TITLE,
    LAYER_ADMIN,
    LAYER_GROUPS,
    LAYER_LEADS,
    LAYER_MINES,
    LAYER_RESERVES,
    LAYER_WETLANDS,
)

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
N_LEADS = 280
ACTIVITIES = ["采石场", "光伏", "道路", "养殖场"]
BATCHES = ["2023-H1", "2024-H1"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium, headless; skipped (or failed in CI) without Chromium or Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_service(False, "playwright (pip install playwright)")
    require_service(CHROMIUM.exists(), f"Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


class Page:
    """A page that records console errors, page errors and dialogs (an alert = XSS)."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.route("**/*.autonavi.com/**", self._tile)
        self.page.route("**/tile.openstreetmap.org/**", self._tile)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    @staticmethod
    def _tile(route: Any) -> None:
        route.fulfill(status=200, content_type="image/png", body=BLANK_PNG)

    def js(self, expression: str) -> Any:
        return self.page.evaluate(expression)

    def click_lead(self, lead_id: str) -> None:
        """Click the lead on the map (as a user does) and check that its popup opens.

        The click waits until the lead stays at the same pixel for a frame (the map may
        still be settling). A popup of anything else (a reserve drawn over the lead)
        fails the test.
        """
        where = f"lvdunMap.pixelOf({json.dumps(lead_id)})"
        xy = None
        for _ in range(10):
            xy = self.js(where)
            assert xy, f"{lead_id} is not on the map"
            self.page.wait_for_timeout(50)
            if self.js(where) == xy:
                break
        self.page.mouse.click(xy["x"], xy["y"])
        shown = self.page.wait_for_selector(".leaflet-popup .lvdun-popup").inner_text()
        assert lead_id in shown.split(), f"clicking {lead_id} opened another popup: {shown!r}"

    def popup_text(self) -> str:
        return self.page.inner_text(".leaflet-popup-content")

    def drawn(self, lat: float, lon: float, size: int = 5) -> list[tuple[int, int, int]]:
        """The pixels drawn around a place on the map (after the canvas has redrawn)."""
        self.js("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        x, y = self.js(f"(p => [p.x, p.y])(lvdunMap.map.latLngToContainerPoint([{lat}, {lon}]))")
        box = self.page.locator(".leaflet-container").bounding_box()
        clip = {"x": box["x"] + round(x) - size // 2, "y": box["y"] + round(y) - size // 2,
                "width": size, "height": size}
        image = Image.open(io.BytesIO(self.page.screenshot(clip=clip))).convert("RGB")
        return list(image.getdata())

    def layer_box(self, group: str, layer: str) -> Any:
        """The checkbox of a layer in its group of the layer control."""
        return (self.page.locator(f'.leaflet-control-layers-group[data-group="{group}"]')
                .locator("label:has(input.leaflet-control-layers-selector)", has_text=layer)
                .locator("input"))


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    wrapper = Page(browser)
    yield wrapper
    wrapper.context.close()


# -- the published map, from disk ---------------------------------------------------------
@pytest.fixture(scope="module")
def map_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    frames = make_frames(N_LEADS)
    leads = frames["leads"]
    leads["activity_type"] = [ACTIVITIES[i % 4] for i in range(N_LEADS)]
    leads["batch"] = [BATCHES[i % 2] for i in range(N_LEADS)]
    path = tmp_path_factory.mktemp("map") / "map.html"
    write_map(path, **frames)
    return path, leads


@pytest.fixture
def opened(page: Page, map_file: tuple[Path, Any]) -> Page:
    page.page.goto(map_file[0].as_uri())
    page.page.wait_for_function("window.lvdunMap !== undefined")
    return page


def test_published_map_loads_without_errors(opened, map_file):
    assert opened.js("lvdunMap.visibleCount()") == N_LEADS
    assert opened.js("lvdunMap.totalCount()") == N_LEADS
    assert opened.errors == [] and opened.dialogs == []


#: The layer control's groups, top first, and the layers in each.
GROUPS = {
    "线索": [LAYER_LEADS],
    "保护地": [LAYER_RESERVES],
    "湿地": [LAYER_WETLANDS],
    "矿山": [LAYER_MINES],
    "行政区": [LAYER_ADMIN],
}


def test_layer_control_shows_basemaps_and_layers_grouped_by_kind(opened):
    control = opened.page.locator(".leaflet-control-layers")
    titles = control.locator(".leaflet-control-layers-group-name").all_inner_texts()
    assert [t.strip() for t in titles] == [BASEMAP_TITLE, *GROUPS] == [BASEMAP_TITLE,
                                                                        *LAYER_GROUPS]
    bases = control.locator(".leaflet-control-layers-base label:has(input)")
    assert [t.strip() for t in bases.all_inner_texts()] == [
        BASEMAP_NONE, "OpenStreetMap（需联网）", BASEMAP_AMAP, "高德影像（GCJ-02，需联网）"]
    radios = control.locator(".leaflet-control-layers-base input")
    assert {radios.nth(i).get_attribute("type") for i in range(4)} == {"radio"}
    assert [radios.nth(i).is_checked() for i in range(4)] == [True, False, False, False]
    for title, layers in GROUPS.items():
        group = control.locator(f'.leaflet-control-layers-group[data-group="{title}"]')
        assert group.locator(".leaflet-control-layers-group-name").inner_text() == title
        names = group.locator("label:has(input)").all_inner_texts()
        assert [n.strip() for n in names] == layers
        assert opened.layer_box(title, layers[0]).is_checked()
    legend = opened.page.locator(".lvdun-legend")
    assert control.bounding_box()["y"] + control.bounding_box()["height"] <= (
        legend.bounding_box()["y"])  # the legend starts below the control
    opened.page.set_viewport_size({"width": 1280, "height": 520})
    opened.page.wait_for_function("""(() => {
        const c = document.querySelector('.leaflet-control-layers').getBoundingClientRect();
        return c.bottom <= document.querySelector('.lvdun-legend').getBoundingClientRect().top;
    })()""")
    assert opened.errors == []


@pytest.mark.parametrize(
    ("group", "layer", "where"),
    [
        ("线索", LAYER_LEADS, None),  # a point lead
        ("保护地", LAYER_RESERVES, (41.94, 128.24)),  # the provincial reserve's core
        ("湿地", LAYER_WETLANDS, (42.1, 128.12)),
        ("矿山", LAYER_MINES, (41.86, 127.915)),
        ("行政区", LAYER_ADMIN, (41.95, 127.75)),  # the line between the two counties
    ],
)
def test_unticking_a_layer_in_its_group_hides_its_features(opened, map_file, group, layer,
                                                           where):
    if where is None:
        lead = map_file[1]["lead_id"].iloc[5]
        assert map_file[1].geometry.iloc[5].geom_type == "Point"
        where = opened.js(f"lvdunMap.latLngOf({json.dumps(lead)})")
    else:
        opened.js("lvdunMap.setFilter('status', [])")  # no lead over the place looked at
        assert opened.js("lvdunMap.visibleCount()") == 0
    box = opened.layer_box(group, layer)
    shown = opened.drawn(*where)
    box.uncheck()
    hidden = opened.drawn(*where)
    assert hidden != shown, f"{layer} still drawn at {where} after unticking it"
    if group == "线索":
        assert opened.js("lvdunMap.visibleCount()") == 0
    box.check()
    assert opened.drawn(*where) == shown
    if group == "线索":
        assert opened.js("lvdunMap.visibleCount()") == N_LEADS
    assert opened.errors == []


def test_filters_in_the_page_change_what_is_shown(opened, map_file):
    leads = map_file[1]
    page = opened.page
    page.click(".lvdun-filter summary")
    status = page.locator('fieldset[data-dim="status"]')
    for label in ("待核查", "核查中", "非问题", "整改中", "已整改", "已销号"):
        status.locator("label", has_text=label).locator("input").uncheck()
    problems = int((leads["status"] == "problem").sum())
    assert opened.js("lvdunMap.visibleCount()") == problems
    assert page.inner_text(".lvdun-filter summary .count") == f"{problems} / {N_LEADS}"
    legend = page.inner_text('.lvdun-legend .count[data-status="problem"]')
    assert int(legend) == problems
    page.click(".lvdun-reset")
    assert opened.js("lvdunMap.visibleCount()") == N_LEADS

    page.select_option('[data-dim="batch"] select', label="2024-H1")
    assert opened.js("lvdunMap.visibleCount()") == int((leads["batch"] == "2024-H1").sum())
    activity = page.locator('fieldset[data-dim="activity"]')
    activity.locator("label", has_text="能源开发").locator("input").uncheck()  # 光伏
    both = (leads["batch"] == "2024-H1") & (leads["activity_type"] != "光伏")
    assert opened.js("lvdunMap.visibleCount()") == int(both.sum())
    zone = page.locator('fieldset[data-dim="zone"]')
    zone.locator("label", has_text="核心区").locator("input").uncheck()
    assert opened.js("lvdunMap.visibleCount()") == 0  # every synthetic lead is in the core
    assert opened.errors == []


def test_popup_opens_with_the_right_lead_and_escapes_the_note(opened, map_file):
    leads = map_file[1]
    hostile = leads["lead_id"].iloc[0]  # its note holds a <script>
    other = leads["lead_id"].iloc[37]
    opened.click_lead(other)
    assert other in opened.popup_text()
    assert hostile not in opened.popup_text()
    opened.click_lead(hostile)
    text = opened.popup_text()
    assert hostile in text and XSS_NOTE in text  # shown as text...
    assert opened.page.locator(".leaflet-popup-content script").count() == 0  # ...not run
    assert opened.dialogs == [] and opened.errors == []


def test_search_finds_a_lead_and_a_reserve(opened, map_file):
    lead = map_file[1]["lead_id"].iloc[123]
    box = opened.page.locator(".lvdun-search")
    box.fill(lead)
    hit = opened.page.locator(".lvdun-hit.lead", has_text=lead)
    hit.click()
    opened.page.wait_for_selector(".leaflet-popup .lvdun-popup")
    assert lead in opened.popup_text()
    box.fill("长白山")
    reserve = opened.page.locator(".lvdun-hit.reserve", has_text="长白山（合成）")
    assert opened.js("lvdunMap.map.getZoom()") == 14  # zoomed in on the lead
    reserve.click()  # fits the reserve (0.32° wide around 128.0, 42.0)
    opened.page.wait_for_function("lvdunMap.map.getZoom() < 12 && "
                                  "lvdunMap.map.getBounds().contains([42.0, 128.0])")


def test_amap_basemap_shifts_our_layers_to_gcj02(opened, map_file):
    lead = map_file[1]["lead_id"].iloc[5]  # a point
    lat, lon = opened.js(f"lvdunMap.latLngOf({json.dumps(lead)})")
    amap = opened.page.locator(".leaflet-control-layers-base label", has_text=BASEMAP_AMAP)
    assert opened.js("lvdunMap.gcj()") is False
    outline = ("(l => [l.lvdunPaths[0].getBounds().toBBoxString(), "
               "l.lvdunOutline.lvdunPaths[0].getBounds().toBBoxString()])(lvdunMap.reserves)")
    zone, drawn_above = opened.js(outline)
    assert zone == drawn_above  # a reserve zone and its outline drawn above the leads
    amap.click()
    assert amap.locator("input").is_checked()
    assert opened.js("lvdunMap.gcj()") is True
    shifted_zone, shifted_outline = opened.js(outline)
    assert shifted_zone == shifted_outline != zone
    shifted = opened.js(f"lvdunMap.latLngOf({json.dumps(lead)})")
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert shifted == pytest.approx([float(glat), float(glon)], abs=1e-9)
    assert 100 < abs(float(glon) - lon) * 111_000 * 0.74 + abs(float(glat) - lat) * 111_000
    opened.page.locator(".leaflet-control-layers-base label", has_text=BASEMAP_NONE).click()
    assert opened.js("lvdunMap.gcj()") is False
    assert opened.js(f"lvdunMap.latLngOf({json.dumps(lead)})") == pytest.approx([lat, lon])
    assert opened.errors == []


# -- the overview: crowded leads, reserves still readable ------------------------------------
#: The national reserve's outer boundary (its experimental zone) runs along this latitude.
EDGE_LAT = 42.16
BACKGROUND = (0xF4, 0xF3, 0xEE)  # lvdun-map.css: the map without a basemap


@pytest.fixture(scope="module")
def crowded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 problem leads in a row on a reserve boundary, one lead alone away from it all."""
    lons = [127.86 + k * 0.007 for k in range(40)]
    leads = make_leads(41)
    leads["status"] = "problem"
    leads["geometry"] = [*(Point(lon, EDGE_LAT) for lon in lons), Point(127.6, 41.7)]
    path = tmp_path_factory.mktemp("crowded") / "map.html"
    write_map(path, leads=leads, reserves=make_reserves())
    return path


def _dark(pixel: tuple[int, int, int]) -> bool:
    return max(pixel) < 110  # the national outline, #1a1a1a


def _red(pixel: tuple[int, int, int]) -> bool:
    return pixel[0] > 170 and pixel[0] - pixel[1] > 50  # a problem lead, #e31a1c


@pytest.mark.parametrize("zoom", [7, 10])
def test_reserve_outline_stays_visible_over_crowded_leads(page, crowded_file, zoom):
    page.page.goto(crowded_file.as_uri())
    page.page.wait_for_function("window.lvdunMap !== undefined")
    page.js(f"lvdunMap.map.setView([{EDGE_LAT}, 128.0], {zoom}, {{animate: false}}); 0")
    lons = [127.88 + k * 0.014 for k in range(18)]  # along the row, inside the reserve's span

    def on_line() -> list[tuple[int, int, int]]:
        return [page.drawn(EDGE_LAT, lon, size=1)[0] for lon in lons]

    drawn = on_line()
    assert all(_dark(p) for p in drawn), drawn  # the boundary, drawn over the leads
    page.js("lvdunMap.map.getPane('lvdunOutlines').style.display = 'none'; 0")
    covered = on_line()
    assert sum(_red(p) for p in covered) >= len(lons) - 2, covered  # else leads hide it
    assert page.errors == []


def test_markers_shrink_at_overview_zooms(page, crowded_file):
    page.page.goto(crowded_file.as_uri())
    page.page.wait_for_function("window.lvdunMap !== undefined")

    def inked(zoom: int) -> tuple[int, int, int]:
        """Pixels of the lone lead at a zoom, and the width and height they span."""
        page.js(f"lvdunMap.map.setView([41.7, 127.6], {zoom}, {{animate: false}}); 0")
        pixels = page.drawn(41.7, 127.6, size=25)
        ink = [k for k, p in enumerate(pixels)
               if max(abs(a - b) for a, b in zip(p, BACKGROUND, strict=True)) > 40]
        cols, rows = [k % 25 for k in ink], [k // 25 for k in ink]
        return len(ink), max(cols) - min(cols) + 1, max(rows) - min(rows) + 1

    near, far = inked(12), inked(7)
    assert near[0] > 25 and near[1] >= 7  # a marker of radius 5 (a triangle: a mining lead)
    assert far[0] < 0.7 * near[0]
    assert far[1] < near[1] and far[2] < near[2]
    assert page.errors == []


# -- the web app ---------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _serving(workspace: str, **settings: Any) -> Iterator[str]:
    """The web app (as ``lvdun serve`` starts it) in a thread; yields its base URL."""
    import uvicorn

    options = Settings(workspace=workspace, port=_free_port(), **settings)
    config = uvicorn.Config(create_app(options), host=options.host, port=options.port,
                            log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    try:
        yield f"http://{options.host}:{options.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def served(classified, tokens) -> Iterator[str]:
    """The app over the classified workspace (six leads, all loaded at once)."""
    with _serving(classified.location, title="测试<b>线索</b>") as base:
        yield base


@pytest.fixture
def served_by_view(classified, tokens) -> Iterator[str]:
    """The app loading at most two leads of the view, again as the map moves."""
    with _serving(classified.location, map_view_loading=0, map_view_limit=2) as base:
        yield base


#: Waits for the app page: as a function, since a bare expression is evaluated with eval(),
#: which the app's content security policy forbids.
APP_LOADED = "() => window.lvdunApp && window.lvdunApp.loaded"


def _login(page: Page, base: str, token: str) -> None:
    page.page.goto(f"{base}/")
    page.page.wait_for_url("**/login?next=*")
    page.page.fill("#token", token)
    page.page.click("button[type=submit]")
    page.page.wait_for_url(f"{base}/")
    page.page.wait_for_function(APP_LOADED)


def test_editor_logs_in_changes_a_status_and_sees_it_on_the_map(page, served, tokens,
                                                                classified):
    _login(page, served, tokens["editor"])
    assert page.page.title() == "测试<b>线索</b>"  # the title is text
    assert page.js("lvdunMap.visibleCount()") == 4  # the leads lying in R01 (L003 too)
    assert page.js("lvdunMap.leadStatus('L004')") is None
    assert page.js("lvdunMap.leadStatus('L001')") == "pending"
    page.click_lead("L001")
    form = page.page.wait_for_selector(".lvdun-status-form")
    page.page.select_option(".lvdun-status-form select", "in_field")
    page.page.fill(".lvdun-status-form input[name=note]", "<i>到达现场</i>")
    form.query_selector("button").click()
    page.page.wait_for_function("() => lvdunMap.leadStatus('L001') === 'in_field'")
    page.page.wait_for_selector(".lvdun-history li")
    assert "<i>到达现场</i>" in page.popup_text()  # the note, as text
    assert page.page.inner_text('.lvdun-legend .count[data-status="in_field"]') == "1"
    rows = classified.read_table("lead_history", where='"lead_id" = ?', params=["L001"])
    assert rows["by"].iloc[-1] == USERS["editor"][0]
    assert page.errors == [] and page.dialogs == []


def test_viewer_sees_every_lead_but_cannot_change_one(page, served, tokens, classified):
    _login(page, served, tokens["viewer"])
    assert page.js("lvdunMap.visibleCount()") == 6
    page.click_lead("L004")
    page.page.wait_for_selector(".lvdun-edit .readonly")
    assert page.page.locator(".lvdun-status-form").count() == 0
    status = page.js("""fetch('/api/leads/L004/status', {method: 'POST',
        headers: {'Content-Type': 'application/json',
                  Authorization: 'Bearer ' + localStorage.getItem('lvdun.token')},
        body: JSON.stringify({status: 'in_field', version: 1})}).then(r => r.status)""")
    assert status == 403
    assert classified.read_table("lead_status", where='"lead_id" = ?',
                                 params=["L004"])["version"].tolist() == [1]


def test_app_page_groups_its_layers_and_switches_basemaps(page, served, tokens):
    _login(page, served, tokens["viewer"])
    control = page.page.locator(".leaflet-control-layers")
    titles = [t.strip() for t in
              control.locator(".leaflet-control-layers-group-name").all_inner_texts()]
    assert titles == [BASEMAP_TITLE, "线索", "保护地"]
    zones = page.js("[lvdunMap.reserves.lvdunPaths.length, "
                    "lvdunMap.reserves.lvdunOutline.lvdunPaths.length]")
    assert zones[0] == zones[1] > 0  # outlines made from the zones the API sent
    assert page.js("lvdunMap.visibleCount()") == 6
    lead = page.layer_box("线索", LAYER_LEADS)
    lead.uncheck()
    assert page.js("lvdunMap.visibleCount()") == 0
    lead.check()
    assert page.js("lvdunMap.visibleCount()") == 6
    lat, lon = page.js("lvdunMap.latLngOf('L001')")
    control.locator(".leaflet-control-layers-base label", has_text=BASEMAP_AMAP).click()
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert page.js("lvdunMap.latLngOf('L001')") == pytest.approx([float(glat), float(glon)])
    assert page.errors == []


def test_many_leads_are_loaded_by_view_and_filters_survive_a_reload(page, served_by_view,
                                                                     tokens):
    _login(page, served_by_view, tokens["viewer"])
    assert page.js("lvdunMap.totalCount()") == 2  # six in view, two loaded
    notice = page.page.locator(".lvdun-notice")
    assert notice.is_visible() and "共 6 条" in notice.inner_text()
    page.page.click(".lvdun-filter summary")
    page.page.locator('fieldset[data-dim="status"] label', has_text="已销号").locator(
        "input").uncheck()
    page.js("lvdunMap.map.setView([44.0, 127.5], 14, {animate: false}); 0")  # L005 alone
    page.page.wait_for_function("() => lvdunMap.leadStatus('L005') === 'pending'")
    assert page.js("lvdunMap.totalCount()") == 1
    assert not notice.is_visible()
    closed = page.page.locator('fieldset[data-dim="status"] label', has_text="已销号")
    assert not closed.locator("input").is_checked()  # the choice survived the reload
    assert page.errors == []
