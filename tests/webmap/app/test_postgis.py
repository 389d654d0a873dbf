"""The web app on a PostGIS workspace: the same API, tiles made by ``ST_AsMVT``."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import pytest

from pipelines.users import add_user
from tests.pipelines.store.conftest import pg_database, pg_schema_url, pg_workspace  # noqa: F401
from tests.webmap.conftest import TestClient, auth
from webmap.app.factory import create_app
from webmap.app.settings import Settings

pytestmark = pytest.mark.postgis


@pytest.fixture
def pg_client(pg_workspace, pg_schema_url, zones_file: Path,  # noqa: F811
              leads_csv: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    from pipelines.classify.job import classify
    from pipelines.ingest.files import ingest

    ingest(pg_workspace, "reserves", zones_file)
    ingest(pg_workspace, "leads", leads_csv, crs="EPSG:4490")
    classify(pg_workspace)
    tokens = {
        "viewer": add_user(pg_workspace, "查看", "viewer")[1],
        "editor": add_user(pg_workspace, "甲编辑", "editor", reserves=["R01"])[1],
    }
    with TestClient(create_app(Settings(workspace=pg_schema_url))) as client:
        yield client, tokens


def _tile(lon: float, lat: float, z: int) -> str:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/tiles/{z}/{x}/{y}.mvt"


def test_postgis_tiles_come_from_st_asmvt_with_rights(pg_client):
    client, tokens = pg_client
    path = _tile(127.0, 43.5, 6)
    viewer = mapbox_vector_tile.decode(client.get(path, headers=auth(tokens["viewer"])).content)
    ids = {f["properties"]["lead_id"] for f in viewer["leads"]["features"]}
    assert ids == {"L001", "L002", "L003", "L004", "L005", "L006"}
    one = next(f for f in viewer["leads"]["features"] if f["properties"]["lead_id"] == "L001")
    assert one["properties"]["status"] == "pending" and one["properties"]["reserve_code"] == "R01"
    editor = client.get(path, headers=auth(tokens["editor"])).content
    ids = {f["properties"]["lead_id"]
           for f in mapbox_vector_tile.decode(editor)["leads"]["features"]}
    # L003 lies in R01 as well, though R02 won it: R01's editor reads it, in tiles as by the API
    assert ids == {"L001", "L002", "L003", "L006"}
    listed = client.get("/api/leads", headers=auth(tokens["editor"])).json()["features"]
    assert ids == {f["id"] for f in listed}
    third = next(f for f in viewer["leads"]["features"] if f["properties"]["lead_id"] == "L003")
    assert third["properties"]["reserve_code"] == "R02"  # the winner is the other reserve
    r01 = client.get(f"{path}?reserve=R01", headers=auth(tokens["viewer"])).content
    assert {f["properties"]["lead_id"] for f in
            mapbox_vector_tile.decode(r01)["leads"]["features"]} == ids
    outside = client.get(f"{path}?reserve=outside", headers=auth(tokens["viewer"])).content
    assert {f["properties"]["lead_id"]
            for f in mapbox_vector_tile.decode(outside)["leads"]["features"]} == {"L005"}
    assert client.get(f"{path}?reserve=R02", headers=auth(tokens["editor"])).status_code == 403


def test_postgis_status_change_and_history(pg_client):
    client, tokens = pg_client
    assert client.post("/api/leads/L004/status", json={"status": "in_field", "version": 1},
                       headers=auth(tokens["editor"])).status_code == 403
    response = client.post("/api/leads/L001/status", json={"status": "in_field", "version": 1},
                           headers=auth(tokens["editor"]))
    assert response.status_code == 200
    stale = client.post("/api/leads/L001/status", json={"status": "problem", "version": 1},
                        headers=auth(tokens["editor"]))
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    body = client.get("/api/leads?status=in_field", headers=auth(tokens["viewer"])).json()
    assert [f["id"] for f in body["features"]] == ["L001"]
    history = client.get("/api/leads/L001/history", headers=auth(tokens["viewer"])).json()
    assert history["history"][-1]["by"] == "甲编辑"


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/6/54/23.mvt?batch=a%00b", "/tiles/6/54/23.mvt?reserve=R01%00",
        "/tiles/6/54/23.mvt?status=%00", "/tiles/6/54/23.mvt?lead_id=L001%00",
        "/tiles/6/54/23.mvt?batch=%1F", "/api/leads?batch=a%00b", "/api/leads?reserve=%00",
        "/api/map/leads?lead_id=%07",
    ],
)  # fmt: skip
def test_postgis_control_characters_in_filters_are_400(pg_client, path):
    client, tokens = pg_client
    response = client.get(path, headers=auth(tokens["viewer"]))
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "RequestError"
    assert "control character" in response.json()["detail"]


def test_postgis_nul_in_a_status_change_is_400_and_changes_nothing(pg_client):
    client, tokens = pg_client
    ws = client.app.state.lvdun.pool.get()
    response = client.post("/api/leads/L001/status",
                           json={"status": "in_field", "version": 1, "note": "到\x00现场"},
                           headers=auth(tokens["editor"]))
    assert response.status_code == 400, response.text
    assert "note" in response.json()["detail"]
    assert ws.count("lead_history", '"lead_id" = ?', ["L001"]) == 1
