"""The phone page ``/field`` (:mod:`webmap.app.field`) in Chromium: a phone viewport with
its position set, the app served by uvicorn on a free port (service workers need http).

An editor sees their nearest lead first; a verdict made offline survives a reload with no
network (the page comes from the service worker, the queue from IndexedDB) and reaches the
server when the network is back; a lead changed on the server meanwhile shows a conflict
with both sides, and nothing is overwritten.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.webmap import test_browser as browsing
from tests.webmap.conftest import auth

pytestmark = pytest.mark.browser

browser = browsing.browser
served = browsing.served

READY = "() => window.lvdunField && window.lvdunField.ready"
#: Near lead L002 (126.42, 43.42) of reserve R01, far from L001 and L006.
HERE = {"latitude": 43.421, "longitude": 126.421}


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A phone-sized page that knows where it is; console errors in ``page.errors``."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, geolocation=HERE,
                                  permissions=["geolocation"])
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def _lead(base: str, token: str, lead_id: str) -> dict[str, Any]:
    request = urllib.request.Request(f"{base}/api/leads/{lead_id}", headers=auth(token))
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _set(base: str, token: str, lead_id: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base}/api/leads/{lead_id}/status", data=json.dumps(body).encode(), method="POST",
        headers={**auth(token), "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _open(page: Any, base: str, token: str) -> None:
    """Log in (the token goes to localStorage), land on /field, wait for the worker."""
    page.goto(f"{base}/login?next=/field")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/field")
    page.wait_for_function(READY)
    page.evaluate("() => navigator.serviceWorker.ready")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def _waiting(page: Any) -> int:
    return int(page.get_attribute("#sync", "data-waiting"))


def _verdict(page: Any, status: str, reason: str | None = None, note: str = "") -> None:
    page.click(f'#verdicts button[data-status="{status}"]')
    if reason:
        page.select_option("#reason", reason)
    page.fill("#note", note)
    page.click("#save")


def test_offline_verdict_is_kept_across_a_reload_and_sent_when_online(phone, served, tokens):
    editor = tokens["editor"]
    before = _lead(served, editor, "L002")["properties"]
    _open(phone, served, editor)
    assert phone.inner_text("#lead-id") == "L002"  # the nearest first
    assert phone.inner_text("#position") == "1 / 3"  # the editor's three leads
    reasons = phone.eval_on_selector_all("#reason option", "os => os.map(o => o.value)")
    assert "保护区设立前已存在" in reasons
    assert phone.locator("#minimap .leaflet-interactive").count() >= 2  # lead + outline

    phone.context.set_offline(True)
    _verdict(phone, "problem", note="<b>现场有采石</b>")
    phone.wait_for_function("() => document.getElementById('sync').dataset.waiting === '1'")
    assert "待同步" in phone.inner_text("#lead-pending")

    response = phone.reload()
    assert response is not None and response.from_service_worker
    phone.wait_for_function(READY)
    assert phone.inner_text("#lead-id") == "L002"  # from IndexedDB
    assert _waiting(phone) == 1
    assert _lead(served, editor, "L002")["properties"]["status"] == before["status"]

    phone.context.set_offline(False)
    phone.wait_for_function("() => document.getElementById('sync').dataset.waiting === '0'")
    after = _lead(served, editor, "L002")["properties"]
    assert after["status"] == "problem" and after["version"] == before["version"] + 1
    phone.wait_for_function(
        "() => document.getElementById('lead-status').dataset.status === 'problem'")
    assert phone.inner_text("#conflicts") == ""
    assert phone.errors == []


def test_a_lead_changed_meanwhile_shows_both_sides_and_is_not_overwritten(phone, served,
                                                                          tokens):
    editor = tokens["editor"]
    _open(phone, served, editor)
    assert phone.inner_text("#lead-id") == "L002"
    phone.context.set_offline(True)
    _verdict(phone, "not_problem", reason="手续合法")
    phone.wait_for_function("() => document.getElementById('sync').dataset.waiting === '1'")
    version = _lead(served, editor, "L002")["properties"]["version"]
    _set(served, tokens["admin"], "L002", {"status": "in_field", "version": version})

    phone.context.set_offline(False)
    conflict = phone.wait_for_selector('#conflicts .conflict[data-lead="L002"]')
    assert "非问题" in conflict.query_selector(".mine").inner_text()
    assert "核查中" in conflict.query_selector(".theirs").inner_text()
    now = _lead(served, editor, "L002")["properties"]
    assert now["status"] == "in_field" and now["version"] == version + 1  # not overwritten
    phone.wait_for_function(  # the page shows the server's status
        "() => document.getElementById('lead-status').dataset.status === 'in_field'")

    conflict.query_selector("button").click()  # drop mine
    phone.wait_for_function("() => !document.querySelector('#conflicts .conflict')")
    assert _lead(served, editor, "L002")["properties"]["status"] == "in_field"


def _history(base: str, token: str, lead_id: str) -> list[dict[str, Any]]:
    request = urllib.request.Request(f"{base}/api/leads/{lead_id}/history", headers=auth(token))
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["history"]


def test_an_offline_photo_is_queued_and_sent_after_its_verdict(phone, served, tokens, tmp_path):
    from PIL import Image

    editor = tokens["editor"]
    before = _lead(served, editor, "L002")["properties"]
    photo = tmp_path / "现场.jpg"
    Image.new("RGB", (16, 16), (10, 120, 40)).save(photo, format="JPEG")
    _open(phone, served, editor)
    phone.context.set_offline(True)
    phone.set_input_files("#photo", str(photo))
    _verdict(phone, "in_field", note="拍照")
    phone.wait_for_function("() => document.getElementById('sync').dataset.waiting === '2'")
    assert "照片" in phone.inner_text("#lead-pending")
    phone.reload()
    phone.wait_for_function(READY)
    assert _waiting(phone) == 2  # the photo's Blob kept in IndexedDB

    phone.context.set_offline(False)
    phone.wait_for_function("() => document.getElementById('sync').dataset.waiting === '0'")
    after = _lead(served, editor, "L002")["properties"]
    assert after["status"] == "in_field" and after["version"] == before["version"] + 2
    last = _history(served, editor, "L002")[-1]
    assert last["from_status"] == last["to_status"] == "in_field"
    entry = json.loads(last["evidence"])[0]
    assert entry["name"] == "现场.jpg" and entry["kind"] == "photo"
    assert phone.inner_text("#conflicts") == ""
    assert phone.errors == []
