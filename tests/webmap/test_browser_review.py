"""The reviewer's panel of the web app in Chromium: the queue, 退回 with a reason, 通过,
the photos of the evidence and the progress table (调度表).

Counties and users: :mod:`tests.pipelines.verify.levels`; the browser and the served app
as in :mod:`tests.webmap.test_browser` (skipped without Chromium or Playwright).
"""

# ruff: noqa: F811 -- fixtures imported from tests/webmap/test_browser.py

from __future__ import annotations

from typing import Any

import pytest
from PIL import Image

from pipelines.verify import review
from pipelines.verify.status import set_status
from tests.pipelines.verify.levels import add_counties, user
from tests.webmap.test_browser import Page, _login, _serving, browser, page  # noqa: F401

pytestmark = pytest.mark.browser

XSS_REASON = "<img src=x onerror=alert(1)>照片不清"


@pytest.fixture
def reviewed(classified, tmp_path) -> Any:
    """L001 (问题) and L002 (非问题, with a photo in the workspace's folder) submitted by the
    editor of R01 and awaiting the city (某市局)."""
    ws = add_counties(classified, tmp_path)
    photo = ws.path.parent / "L002现场.jpg"
    Image.new("RGB", (16, 12), "red").save(photo, format="JPEG")
    set_status(ws, "L001", "问题")
    set_status(ws, "L002", "非问题", reason="手续合法", evidence=[photo])
    editor = user(ws, "甲保护区")
    review.submit(ws, editor, "L001")
    review.submit(ws, editor, "L002")
    return ws


def _state(ws: Any, lead: str) -> str:
    row = ws.read_table_equal("lead_status", "lead_id", lead).iloc[0]
    return review.review_label(review.current_review(ws, lead, row["status"]))


def test_city_reviewer_returns_one_lead_and_approves_another(page, reviewed):
    with _serving(reviewed.location) as base:
        _login(page, base, reviewed.tokens["某市局"])
        page.page.wait_for_function("() => window.lvdunApp.reviewReady !== undefined")
        page.js("window.lvdunApp.reviewReady")
        panel = page.page.locator(".lvdun-review")
        panel.locator("summary").first.click()
        items = panel.locator(".lvdun-review-item")
        assert items.count() == 2
        assert panel.locator("summary").first.inner_text() == "审核（2）"
        first, second = (panel.locator(f'.lvdun-review-item[data-lead="{k}"]')
                         for k in ("L001", "L002"))
        assert "甲保护区" in first.inner_text() and "待市级审核" in first.inner_text()
        assert "问题" in first.inner_text()
        page.page.wait_for_function("""() => {
            const img = document.querySelector('[data-lead="L002"] .lvdun-chips img');
            return img && img.src.startsWith('blob:') && img.complete && img.naturalWidth;
        }""")
        assert second.locator(".lvdun-chips img").count() == 1
        assert first.locator(".lvdun-chips img").count() == 0
        # 退回 needs a reason: an empty one is refused in the page, nothing is sent
        first.locator("button.return").click()
        first.locator("button.confirm").click()
        assert "请填写退回原因" in first.locator(".message").inner_text()
        assert _state(reviewed, "L001") == "待市级审核"
        first.locator("input[name=reason]").fill(XSS_REASON)
        first.locator("button.confirm").click()
        page.page.wait_for_function(
            "() => !document.querySelector('.lvdun-review-item[data-lead=\"L001\"]')")
        assert "已退回" in page.page.locator(".lvdun-review > .message").inner_text()
        second = panel.locator('.lvdun-review-item[data-lead="L002"]')
        second.locator("button.approve").click()
        page.page.wait_for_selector(".lvdun-review-queue .empty")
        assert panel.locator("summary").first.inner_text() == "审核（0）"
        # the API and the workspace agree with what the page showed
        assert _state(reviewed, "L001") == "已退回（市级：" + XSS_REASON + "）"
        assert _state(reviewed, "L002") == "待省级审核"
        queue = page.js("""fetch('/api/review/queue', {headers: {Authorization: 'Bearer ' +
            localStorage.getItem('lvdun.token')}}).then(r => r.json())""")
        assert queue == []
        province = page.js(f"""fetch('/api/review/queue', {{headers: {{Authorization:
            'Bearer {reviewed.tokens["某省厅"]}'}}}}).then(r => r.json())""")
        assert [row["lead_id"] for row in province] == ["L002"]
        history = reviewed.read_table_equal("lead_history", "lead_id", "L001", order_by="id")
        assert history["reason"].iloc[-1] == XSS_REASON
        assert history["by"].iloc[-1] == "某市局"
        # the progress table of the city's area: its two counties and 合计
        panel.locator(".lvdun-progress summary").click()
        table = page.page.wait_for_selector('table[data-table="dispatch_county"]')
        text = table.inner_text()
        assert "延吉市（222401）" in text and "安图县（222426）" in text
        assert "朝阳区" not in text
        assert page.page.locator(".lvdun-review img[src='x']").count() == 0  # reason as text
        assert page.errors == [] and page.dialogs == []
