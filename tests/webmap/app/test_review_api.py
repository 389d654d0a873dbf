"""The review through the web API, on both stores: submit, approve, return, the queue,
and every refusal as its HTTP code.

Counties and users: :mod:`tests.pipelines.verify.levels`.
"""

# ruff: noqa: F811 -- fixtures imported from tests/pipelines/store/conftest.py

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import mapbox_vector_tile
import pandas as pd
import pytest

from layers.files import file_sha256
from pipelines.verify.status import set_status
from tests.pipelines.store.conftest import (  # noqa: F401
    any_classified,
    any_workspace,
    gpkg_workspace,
    pg_database,
    pg_schema_url,
    pg_workspace,
)
from tests.pipelines.verify.levels import add_counties
from tests.webmap.conftest import TestClient, auth
from webmap.app.factory import create_app
from webmap.app.settings import Settings

RECORD = {"responsible_unit": "安图县林业局", "deadline": "2025-06-30"}


@pytest.fixture
def app(any_classified, tmp_path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The web app over the six leads in three counties, and a token per user."""
    ws = add_counties(any_classified, tmp_path)
    where = getattr(ws, "url", None) or str(ws.path)
    with TestClient(create_app(Settings(workspace=where))) as client:
        yield client, ws.tokens


def _step(client: TestClient, token: str, lead: str, action: str, version: int,
          **more: str) -> object:
    return client.post(f"/api/leads/{lead}/review", headers=auth(token),
                       json={"action": action, "version": version, **more})


def _version(client: TestClient, token: str, lead: str) -> int:
    return client.get(f"/api/leads/{lead}/history", headers=auth(token)).json()[
        "history"][-1]["version"]


def test_the_chain_through_the_api(app, any_classified):
    client, tokens = app
    for step in ("问题", "整改中", "已整改"):
        set_status(any_classified, "L001", step, **RECORD)
    editor, city, province = tokens["甲保护区"], tokens["某市局"], tokens["某省厅"]
    queue = client.get("/api/review/queue", headers=auth(editor)).json()
    assert {row["lead_id"]: row["task"] for row in queue}["L001"] == "待提交"
    done = _step(client, editor, "L001", "submit", 4)
    assert done.status_code == 200, done.text
    assert done.json()["review"] == "待市级审核"
    assert [r["lead_id"] for r in client.get("/api/review/queue",
                                             headers=auth(city)).json()] == ["L001"]
    assert _step(client, city, "L001", "approve", 5).json()["review"] == "待省级审核"
    assert _step(client, province, "L001", "approve", 6).json()["review"] == "审核通过"
    assert _step(client, editor, "L001", "submit", 7).json()["review"] == "待市级验收"
    returned = _step(client, city, "L001", "return", 8, reason="照片不清")
    assert returned.json()["review"] == "已退回（市级验收：照片不清）"
    _step(client, editor, "L001", "submit", 9)
    _step(client, city, "L001", "approve", 10)
    last = _step(client, province, "L001", "approve", 11)
    assert last.status_code == 200 and last.json()["review"] == "验收通过"
    lead = client.get("/api/leads/L001", headers=auth(editor)).json()
    assert (lead["properties"]["status"], lead["review"]) == ("closed", "验收通过")
    history = client.get("/api/leads/L001/history", headers=auth(city))
    assert history.status_code == 200  # the city reads the leads of its area
    assert history.json()["history"][-1]["decision"] == "approve"


def test_refusals_are_http_codes(app, any_classified):
    client, tokens = app
    set_status(any_classified, "L002", "非问题", reason="手续合法")
    editor, city = tokens["甲保护区"], tokens["某市局"]
    assert _step(client, tokens["乙保护区"], "L002", "submit", 2).status_code == 403
    assert _step(client, editor, "L002", "approve", 2).status_code == 403  # not a reviewer
    assert _step(client, editor, "L002", "submit", 2).status_code == 200
    assert _step(client, tokens["长春市局"], "L002", "approve", 3).status_code == 403
    wrong_level = _step(client, tokens["某省厅"], "L002", "approve", 3)
    assert wrong_level.status_code == 403 and "待市级审核" in wrong_level.text
    assert _step(client, city, "L002", "return", 3).status_code == 422  # no reason
    stale = _step(client, city, "L002", "approve", 2)
    assert stale.status_code == 409 and stale.json()["current_version"] == 3
    assert _step(client, city, "L002", "dance", 3).status_code == 400
    assert _step(client, city, "L002", "return", 3, reason="a\x00b").status_code == 400
    assert _step(client, city, "X", "approve", 3).status_code == 404
    assert _version(client, city, "L002") == 3  # nothing of the above was written
    # the province reads nothing outside its area; the Changchun city not 2224's leads
    assert client.get("/api/leads/L002/history",
                      headers=auth(tokens["长春市局"])).status_code == 403
    assert client.get("/api/review/queue", headers=auth(tokens["长春市局"])).json() == []


def test_an_editor_cannot_close_through_the_status_route(app, any_classified):
    client, tokens = app
    for step in ("问题", "整改中", "已整改"):
        set_status(any_classified, "L001", step, **RECORD)
    response = client.post("/api/leads/L001/status", headers=auth(tokens["甲保护区"]),
                           json={"status": "closed", "version": 4})
    assert response.status_code == 422 and "lvdun review submit" in response.text


def _tile(lon: float, lat: float, z: int) -> str:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/tiles/{z}/{x}/{y}.mvt"


@pytest.mark.parametrize(("name", "leads"), [
    ("某市局", {"L001", "L002", "L003", "L004", "L006"}),
    ("安图县局", {"L003", "L004", "L006"}),
    ("长春市局", {"L005"}),
    ("某省厅", {"L001", "L002", "L003", "L004", "L005", "L006"}),
])
def test_reviewers_list_and_tile_the_leads_of_their_area(app, name, leads):
    client, tokens = app
    listed = client.get("/api/leads", headers=auth(tokens[name])).json()
    assert {f["id"] for f in listed["features"]} == leads
    tile = client.get(_tile(127.0, 43.5, z=6), headers=auth(tokens[name]))
    assert tile.status_code == 200
    layer = mapbox_vector_tile.decode(tile.content).get("leads", {"features": []}) \
        if tile.content else {"features": []}
    assert {f["properties"]["lead_id"] for f in layer["features"]} == leads
    assert client.get("/api/exports/R01.zip", headers=auth(tokens[name])).status_code == 403


# -- the progress (调度表) of a reviewer's area, and the queue's photos ------------------
def _progress(client: TestClient, token: str) -> object:
    return client.get("/api/review/progress", headers=auth(token))


def _counties(body: dict) -> dict[str, int]:
    table = next(t for t in body["tables"] if t["key"] == "dispatch_county")
    assert table["columns"][:2] == ["县（市、区）", "线索数"]
    return {row[0]: row[1] for row in table["rows"]}


def test_progress_shows_the_reviewers_area_only(app):
    client, tokens = app
    city = _progress(client, tokens["某市局"])
    assert city.status_code == 200, city.text
    assert city.json()["areas"] == ["2224"]
    assert _counties(city.json()) == {"安图县（222426）": 3, "延吉市（222401）": 2, "合计": 5}
    county = _counties(_progress(client, tokens["安图县局"]).json())
    assert county == {"安图县（222426）": 3, "合计": 3}
    assert _counties(_progress(client, tokens["长春市局"]).json()) == {
        "朝阳区（220104）": 1, "合计": 1}
    everything = _progress(client, tokens["管理员"]).json()
    assert everything["areas"] is None and _counties(everything)["合计"] == 6
    names = [t["key"] for t in city.json()["tables"]]
    assert names == ["dispatch_county", "dispatch_city", "dispatch_reserve"]


def test_progress_is_refused_to_editors(app):
    client, tokens = app
    for name in ("甲保护区", "乙保护区"):
        response = _progress(client, tokens[name])
        assert response.status_code == 403
        assert "延吉市" not in response.text


def _photo(path, color: str = "red") -> None:
    from PIL import Image

    Image.new("RGB", (8, 8), color).save(path, format="JPEG")


def test_the_queue_lists_the_photos_stored_in_the_workspace(app, any_classified, tmp_path):
    client, tokens = app
    folder = getattr(any_classified, "path", None)
    if folder is None:
        pytest.skip("a PostGIS workspace has no folder: it serves no photos")
    inside = folder.parent / "现场照片.jpg"
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere.jpg"
    _photo(inside)
    _photo(outside, "blue")
    content = inside.read_bytes()
    set_status(any_classified, "L002", "非问题", reason="手续合法", evidence=[inside])
    inside.unlink()  # the workspace keeps its own copy, named by the content's hash
    # an entry of an older lvdun naming a file outside the workspace is never served
    any_classified.append_rows("lead_history", pd.DataFrame([{
        "lead_id": "L002", "version": 2, "at": "2024-07-01T00:00:00", "by": "旧版",
        "from_status": "non_problem", "to_status": "non_problem",
        "evidence": json.dumps([{"path": str(outside), "name": outside.name, "kind": "photo",
                                 "sha256": file_sha256(outside)}])}]))
    editor, city = tokens["甲保护区"], tokens["某市局"]
    assert _step(client, editor, "L002", "submit", 2).status_code == 200
    item = {r["lead_id"]: r for r in client.get("/api/review/queue",
                                                headers=auth(city)).json()}["L002"]
    assert [p["name"] for p in item["photos"]] == ["现场照片.jpg"]  # not the one outside
    assert "path" not in item["photos"][0] and str(folder.parent) not in str(item)
    got = client.get("/api/leads/L002/photos/0", headers=auth(city))
    assert got.status_code == 200 and got.content == content
    assert got.headers["content-type"] == "image/jpeg"
    assert client.get("/api/leads/L002/photos/1", headers=auth(city)).status_code == 404
    assert client.get("/api/leads/L002/photos/0",
                      headers=auth(tokens["长春市局"])).status_code == 403
    (stored,) = (folder.parent / f"{folder.stem}_evidence").glob("*.jpg")
    _photo(stored, "green")  # replaced since it was recorded: no longer served
    assert client.get("/api/leads/L002/photos/0", headers=auth(city)).status_code == 404
