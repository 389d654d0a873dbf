"""The leads outside every reserve never mix with a reserve coded ``outside`` (rights, tiles)."""

from __future__ import annotations

import mapbox_vector_tile
import pytest

from pipelines.users import add_user
from tests.pipelines.twins import twin_workspace
from tests.webmap.conftest import TestClient, auth
from webmap.app.factory import create_app
from webmap.app.settings import Settings
from webmap.app.tiles import tile_bounds  # noqa: F401 - the tile grid of the app


@pytest.fixture
def twins(workspace, tmp_path):
    ws = twin_workspace(workspace, tmp_path)
    editor = add_user(ws, "外码保护区管理局", "editor", reserves=("outside",))[1]
    admin = add_user(ws, "管理员", "admin")[1]
    with TestClient(create_app(Settings(workspace=ws.location))) as client:
        yield client, editor, admin


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.text
    return {f["properties"]["lead_id"] for f in response.json()["features"]}


def test_the_editor_of_a_reserve_coded_outside_reads_its_leads_only(twins):
    client, editor, _ = twins
    assert _ids(client.get("/api/leads", headers=auth(editor))) == {"T04"}
    assert client.get("/api/leads/T04", headers=auth(editor)).status_code == 200
    assert client.get("/api/leads/T06", headers=auth(editor)).status_code == 403


def test_reserves_list_the_outside_group_as_null_once(twins):
    client, _, admin = twins
    listed = client.get("/api/reserves", headers=auth(admin)).json()
    codes = [r["reserve_code"] for r in listed]
    assert codes.count("outside") == 1 and codes.count(None) == 1
    assert _ids(client.get("/api/leads?reserve=outside", headers=auth(admin))) == {"T06"}


def test_tiles_of_the_editor_hold_its_reserve_only(twins):
    client, editor, _ = twins
    seen: set[str] = set()
    for z, x, y in [(0, 0, 0), (4, 13, 5), (5, 27, 11)]:
        tile = client.get(f"/tiles/{z}/{x}/{y}.mvt", headers=auth(editor))
        assert tile.status_code in (200, 204)
        if tile.status_code == 200 and tile.content:
            layers = mapbox_vector_tile.decode(tile.content)
            for layer in layers.values():
                seen |= {f["properties"].get("lead_id") for f in layer["features"]}
    assert "T06" not in seen
