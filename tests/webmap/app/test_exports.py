"""Ledger downloads of the web app: one reserve by its code, cached, odd codes, the link.

The workspace is :mod:`tests.pipelines.twins`: two reserves named 甲保护区 (R01, R02), one
coded ``outside``, one named 保护区外, codes with a slash, a quote and Chinese characters.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import pytest

from pipelines.users import add_user
from pipelines.verify.ledger_import import import_ledger
from tests.pipelines.twins import BY_RESERVE, LABELS, twin_workspace
from tests.pipelines.verify.test_ledger import Sheet
from tests.webmap.conftest import TestClient, auth
from tests.webmap.test_browser import browser  # noqa: F401 - Chromium, for the link test
from webmap.app.factory import create_app
from webmap.app.settings import Settings

#: name, role, reserves
USERS = {
    "viewer": ("查看", "viewer", ()),
    "r01": ("甲一管理局", "editor", ("R01",)),
    "coded_outside": ("外码管理局", "editor", ("outside",)),
    "admin": ("管理员", "admin", ()),
}


@pytest.fixture
def twins(workspace, tmp_path: Path) -> Any:
    return twin_workspace(workspace, tmp_path)


@pytest.fixture
def twin_tokens(twins) -> dict[str, str]:
    return {key: add_user(twins, name, role, reserves=reserves)[1]
            for key, (name, role, reserves) in USERS.items()}


@pytest.fixture
def twin_client(twins, twin_tokens) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(workspace=twins.location))) as client:
        yield client


def url(code: str) -> str:
    """The download's URL as the page builds it (encodeURIComponent)."""
    return f"/api/exports/{quote(code, safe='')}.zip"


def members(response: Any) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    return {name: archive.read(name) for name in archive.namelist()}


def ledger_leads(response: Any) -> list[str]:
    [(_, data)] = [(n, d) for n, d in members(response).items() if n.endswith(".csv")]
    return sorted(pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)["线索编号"])


@pytest.mark.parametrize("code", ["甲/1", 'a"b', "自然保护区", "R01", None])
def test_the_download_header_names_the_reserve_for_any_code(twin_client, twin_tokens, code):
    path = url("outside" if code is None else code)  # `outside`: outside every reserve
    response = twin_client.get(path + "?format=csv", headers=auth(twin_tokens["admin"]))
    assert response.status_code == 200, response.text
    header = response.headers["content-disposition"]
    header.encode("ascii")  # any HTTP server can send it
    filename = f"{LABELS[code]}.zip"
    assert header.startswith('attachment; filename="')
    assert header.endswith(f"; filename*=UTF-8''{quote(filename, safe='')}")
    assert header.count('"') == 2  # the quote of a"b does not end the fallback name
    assert list(members(response)) == [f"{LABELS[code]}/{LABELS[code]}_核查清单.csv"]
    assert ledger_leads(response) == BY_RESERVE[code]


def test_a_reserve_named_like_another_downloads_only_its_own_leads(twin_client, twin_tokens):
    response = twin_client.get(url("R01") + "?format=csv", headers=auth(twin_tokens["r01"]))
    assert response.status_code == 200
    assert ledger_leads(response) == ["T01", "T02"]  # not T03 of R02, named alike
    assert twin_client.get(url("R02"), headers=auth(twin_tokens["r01"])).status_code == 403


def test_outside_is_the_leads_outside_every_reserve_only(twin_client, twin_tokens):
    response = twin_client.get(url("outside") + "?format=csv",
                               headers=auth(twin_tokens["viewer"]))
    assert response.status_code == 200
    assert ledger_leads(response) == ["T06"]  # not T05 of the reserve named 保护区外
    assert list(members(response)) == ["保护区外/保护区外_核查清单.csv"]
    # the editor of the reserve coded `outside` gets neither its leads nor those outside
    editor = twin_client.get(url("outside"), headers=auth(twin_tokens["coded_outside"]))
    assert editor.status_code == 403
    named = twin_client.get(url("R04") + "?format=csv", headers=auth(twin_tokens["admin"]))
    assert ledger_leads(named) == ["T05"]
    assert list(members(named)) == ["保护区外_R04/保护区外_R04_核查清单.csv"]
    assert twin_client.get(url("R99"), headers=auth(twin_tokens["admin"])).status_code == 404


def test_a_download_exports_one_reserve_once_and_leaves_the_run_log_alone(
        twin_client, twin_tokens, twins, tmp_path):
    from pipelines.publish.export import Scope, export_record

    ctx = twin_client.app.state.lvdun
    headers = auth(twin_tokens["r01"])
    generation = ctx.catalog.generation(twins)
    runs = len(twins.runs())
    first = twin_client.get(url("R01"), headers=headers)
    second = twin_client.get(url("R01"), headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content  # the same file: served from the cache
    assert twin_client.app.state.lvdun_archives.exports == 1
    assert len(twins.runs()) == runs  # no run per download...
    assert ctx.catalog.generation(twins) == generation  # ...so the app reads no lead again
    [(name, data)] = members(first).items()
    book = tmp_path / Path(name).name
    book.write_bytes(data)
    run = dict(Sheet(book).book["_lvdun"].iter_rows(values_only=True))["run_id"]
    record = export_record(twins, run)
    assert set(record.names) == {Scope("reserve", "R01")}  # only the reserve asked for
    assert sorted(record.leads) == ["T01", "T02"]

    # a change: the next download is exported anew, the one downloaded before still imports
    body = {"status": "in_field", "version": 1}
    assert twin_client.post("/api/leads/T01/status", json=body,
                            headers=headers).status_code == 200
    third = twin_client.get(url("R01"), headers=headers)
    assert third.content != first.content
    assert twin_client.app.state.lvdun_archives.exports == 2
    assert ctx.catalog.generation(twins) == generation
    page = Sheet(book)
    page.set("T02", "核查状态", "核查中")
    page.set("T01", "核查状态", "问题")  # stale: T01 changed since this download
    page.save()
    results = {r.lead_id: r for r in import_ledger(twins, book).rows}
    assert results["T02"].outcome == "applied"
    assert (results["T01"].outcome, results["T01"].problem) == ("refused", "conflict")


def test_concurrent_downloads_of_one_reserve_export_it_once(twin_client, twin_tokens):
    from concurrent.futures import ThreadPoolExecutor

    headers = auth(twin_tokens["admin"])
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: twin_client.get(url("R02"), headers=headers),
                                range(4)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert twin_client.app.state.lvdun_archives.exports == 1


# -- the link in the page (Chromium) -------------------------------------------------------
@pytest.mark.browser
def test_the_page_offers_a_download_per_readable_reserve(request, twins, twin_tokens):
    from tests.webmap.test_browser import Page, _login, _serving

    chromium = request.getfixturevalue("browser")
    editor, admin = Page(chromium), Page(chromium)
    try:
        with _serving(twins.location) as base:
            _login(editor, base, twin_tokens["r01"])
            editor.page.click(".lvdun-downloads summary")
            links = editor.page.locator(".lvdun-downloads a")
            links.first.wait_for()
            assert links.all_inner_texts() == ["甲保护区（2 条）"]  # R01 only, not R02
            with editor.page.expect_download() as caught:
                links.first.click()
            download = caught.value
            assert download.suggested_filename == "甲保护区_R01.zip"
            archive = zipfile.ZipFile(download.path())
            assert archive.namelist() == ["甲保护区_R01/甲保护区_R01_核查清单.xlsx"]
            assert editor.errors == [] and editor.dialogs == []

            _login(admin, base, twin_tokens["admin"])
            admin.page.click(".lvdun-downloads summary")
            admin.page.locator(".lvdun-downloads a").first.wait_for()
            texts = admin.page.locator(".lvdun-downloads a").all_inner_texts()
            assert "<b>引号</b>保护区（1 条）" in texts  # the name as text, not markup
            assert admin.page.locator(".lvdun-downloads b").count() == 0
            slash = admin.page.locator('.lvdun-downloads a[data-reserve="甲/1"]')
            with admin.page.expect_download() as caught:
                slash.click()
            assert caught.value.suggested_filename == "斜杠保护区.zip"
            assert admin.errors == [] and admin.dialogs == []
    finally:
        editor.context.close()
        admin.context.close()
