"""The web app's defences in a real browser: where logging in leads (only to this origin)
and the content security policy (the pages still draw under it; the API docs work offline).

Runs like :mod:`tests.webmap.test_browser`: Debian's Chromium driven by Playwright, the app
served by uvicorn in a thread.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.webmap import test_browser as browsing
from tests.webmap.test_browser import APP_LOADED, BACKGROUND

pytestmark = pytest.mark.browser

# the fixtures of the browser tests: Chromium, a page recording errors, the app served
browser = browsing.browser
page = browsing.page
served = browsing.served

#: Collects the page's content-security-policy violations in ``window.lvdunCsp``.
CSP_PROBE = """
window.lvdunCsp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.lvdunCsp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def _evil(route: Any) -> None:
    route.fulfill(status=200, content_type="text/html", body="<title>evil</title>EVIL")


@pytest.mark.parametrize(
    "target",
    ["/%5Cevil.example/", "/%09/evil.example/", "/%5C%5Cevil.example/", "//evil.example/",
     "https://evil.example/", "/%5C/evil.example/", "javascript:alert(1)"],
)
def test_login_with_a_foreign_next_stays_on_the_app(page, served, tokens, target):
    from urllib.parse import urlsplit

    page.page.route(lambda url: urlsplit(url).hostname == "evil.example", _evil)
    page.page.goto(f"{served}/login?next={target}")
    page.page.fill("#token", tokens["viewer"])
    page.page.click("button[type=submit]")
    page.page.wait_for_url(lambda url: "/login" not in url)
    assert urlsplit(page.page.url)[:3] == (*urlsplit(served)[:2], "/"), page.page.url
    page.page.wait_for_function(APP_LOADED)
    assert page.dialogs == []


def test_login_follows_a_next_of_its_own_origin(page, served, tokens):
    page.page.goto(f"{served}/login?next=%2F%3Fview%3D1%23here")
    page.page.fill("#token", tokens["viewer"])
    page.page.click("button[type=submit]")
    page.page.wait_for_url(f"{served}/?view=1#here")
    page.page.wait_for_function(APP_LOADED)


def test_the_next_rule_of_the_login_page(page, served):
    page.page.goto(f"{served}/login")
    cases = {
        "/": f"{served}/", "": f"{served}/", "/?a=1#b": f"{served}/?a=1#b",
        f"{served}/x": f"{served}/x", "x/y": f"{served}/x/y",
        "/.//evil.example/": f"{served}//evil.example/",  # a path here, not another host
        "/\\evil.example/": "/", "/\t/evil.example/": "/", "/\\\\evil.example": "/",
        "//evil.example": "/", "\\/evil.example": "/", " //evil.example": "/",
        "https://evil.example/": "/", "HTTP://evil.example": "/", "javascript:alert(1)": "/",
        "data:text/html,x": "/", "http://127.0.0.1:1/": "/",
        served.replace("http:", "https:") + "/": "/",
    }  # fmt: skip
    got = page.js(f"Object.fromEntries({json.dumps(list(cases))}.map("
                  "n => [n, lvdunLogin.safeNext(n)]))")
    assert got == cases
    assert page.js("lvdunLogin.safeNext(null)") == f"{served}/"


def test_app_page_draws_under_its_content_security_policy(page, served, tokens):
    page.context.add_init_script(CSP_PROBE)
    page.page.goto(f"{served}/")
    page.page.wait_for_url("**/login?next=*")
    page.page.fill("#token", tokens["viewer"])
    with page.page.expect_response(f"{served}/") as landing:
        page.page.click("button[type=submit]")
    policy = landing.value.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "connect-src 'self'" in policy
    page.page.wait_for_function(APP_LOADED)
    assert page.js("lvdunMap.visibleCount()") == 6
    lat, lon = page.js("lvdunMap.latLngOf('L005')")  # alone, outside the reserves
    page.js(f"lvdunMap.map.setView([{lat}, {lon}], 12, {{animate: false}}); 0")
    assert [p for p in page.drawn(lat, lon) if p != BACKGROUND], "no lead drawn"
    page.click_lead("L005")
    page.page.wait_for_selector(".lvdun-history li")  # fetched from the API
    osm = page.page.locator(".leaflet-control-layers-base label", has_text="OpenStreetMap")
    osm.click()
    page.page.wait_for_selector("img.leaflet-tile-loaded")  # an image of a tile server
    assert page.js("window.lvdunCsp") == []
    assert page.errors == [] and page.dialogs == []


def test_api_docs_draw_offline_under_the_policy(page, served):
    from urllib.parse import urlsplit

    requests: list[str] = []
    page.page.on("request", lambda r: requests.append(r.url))
    page.context.add_init_script(CSP_PROBE)
    page.page.goto(f"{served}/docs")
    page.page.wait_for_selector(".opblock-summary-path", timeout=20000)
    paths = page.page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/leads/{lead_id}/history" in p for p in paths), paths
    assert page.js("window.lvdunCsp") == []
    foreign = [u for u in requests
               if urlsplit(u).netloc != urlsplit(served).netloc and not u.startswith("data:")]
    assert foreign == []
    assert page.errors == []
