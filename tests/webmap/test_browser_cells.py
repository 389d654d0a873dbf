"""The web app's map over many leads in Chromium: the server's cells zoomed out, the leads
of the view zoomed in, the filters sent to the server.

The workspace of tests/webmap/conftest.py (six leads) served with ``map_cells_above=2``,
so that any view holding three leads or more counts as crowded.
"""

# ruff: noqa: F811 -- fixtures imported from tests/webmap/test_browser.py

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.webmap.conftest import auth
from tests.webmap.test_browser import Page, _login, _serving, browser, page  # noqa: F401

pytestmark = pytest.mark.browser

CELLS = "() => lvdunApp.cells.mode() === 'cells' && lvdunApp.cells.cells() > 0"


@pytest.fixture
def served_cells(classified, tokens) -> Iterator[str]:
    with _serving(classified.location, map_cells_above=2) as base:
        yield base


def _legend(page: Page) -> dict[str, int]:
    counts = page.js("""Array.from(document.querySelectorAll(
        '.lvdun-legend .count[data-status]')).map(e => [e.dataset.status, e.textContent])""")
    return {code: int(text.replace(",", "")) for code, text in counts if text}


def _zoom_out(page: Page) -> None:
    page.js("lvdunMap.map.setView([43.7, 127.0], 6, {animate: false}); 0")
    page.page.wait_for_function(CELLS)


def test_zoomed_out_the_page_draws_cells_and_filters_on_the_server(page, served_cells,
                                                                     tokens, client):
    token = tokens["admin"]
    lead = client.get("/api/leads/L001", headers=auth(token)).json()
    response = client.post("/api/leads/L001/status", headers=auth(token),
                           json={"status": "in_field", "version": lead["properties"]["version"]})
    assert response.status_code == 200, response.text
    requests: list[str] = []
    page.page.on("request", lambda r: requests.append(r.url))
    _login(page, served_cells, tokens["viewer"])
    _zoom_out(page)
    assert page.js("lvdunMap.totalCount()") == 0  # no lead loaded
    assert page.js("lvdunApp.cells.total()") == 6
    legend = _legend(page)
    assert legend["pending"] == 5 and legend["in_field"] == 1 and sum(legend.values()) == 6
    assert not page.page.locator(".lvdun-notice").is_visible()
    leads = [u for u in requests if "/api/map/leads" in u]
    assert all("bbox=" in u for u in leads)  # never every lead
    fill = "lvdunApp.cells.layer.getLayers().filter(l => l.lvdunCell)[0].options.fillColor"
    assert page.js(fill) == "#fff7bc"  # no open problem

    page.js("lvdunMap.setFilter('status', ['pending']); 0")
    page.page.wait_for_function("() => lvdunApp.cells.total() === 5")
    assert any("/api/map/cells" in u and "status=pending" in u for u in requests)
    assert _legend(page)["pending"] == 5 and _legend(page)["in_field"] == 0
    assert page.js(fill) == page.js("lvdunMap.statusColours().pending")  # the status picked
    page.js("lvdunMap.setFilter('status', ['in_field']); 0")  # one lead: drawn itself
    page.page.wait_for_function("() => lvdunMap.leadStatus('L001') === 'in_field'")
    assert page.js("[lvdunApp.cells.mode(), lvdunMap.totalCount()]") == ["leads", 1]
    assert _legend(page)["in_field"] == 1
    page.js("lvdunMap.setFilter('status', null); 0")
    page.page.wait_for_function("() => lvdunApp.cells.total() === 6")

    before = page.js("lvdunMap.map.getZoom()")
    xy = page.js("""(() => { const c = lvdunApp.cells.layer.getLayers()
        .filter(l => l.lvdunCell).sort((a, b) => b.lvdunCell.n - a.lvdunCell.n)[0];
        const p = lvdunMap.map.latLngToContainerPoint(c.getBounds().getCenter());
        const box = lvdunMap.map.getContainer().getBoundingClientRect();
        return {x: box.left + p.x, y: box.top + p.y}; })()""")
    page.page.mouse.click(xy["x"], xy["y"])
    page.page.wait_for_function(f"() => lvdunMap.map.getZoom() > {before} && "
                                "!lvdunMap.map._animatingZoom")  # the cell's zoom, reached

    page.js("lvdunMap.map.setView([44.0, 127.5], 14, {animate: false}); 0")  # L005 alone
    page.page.wait_for_function("() => lvdunMap.leadStatus('L005') === 'pending'")
    assert page.js("lvdunApp.cells.mode()") == "leads"
    assert page.js("lvdunApp.cells.layer.getLayers().length") == 0
    assert page.errors == [] and page.dialogs == []


def test_an_editors_cells_count_their_reserve_only(page, served_cells, tokens):
    _login(page, served_cells, tokens["editor"])
    _zoom_out(page)
    assert page.js("lvdunApp.cells.total()") == 4  # R01, L003 with it
    reserves = page.js("lvdunMap.leads.lvdunSpec.filters.reserve")
    assert reserves == ["甲保护区"]
    assert page.errors == []
