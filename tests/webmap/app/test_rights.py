"""Rights through every endpoint: a reserve editor never reads nor changes another
reserve's leads; a viewer changes nothing; an admin does everything.

The workspace: reserve R01 holds L001, L002, L006 and L003, which lies in both reserves and
goes to R02 (the stricter zone); R02 holds L003, L004; L005 is outside.
``editor`` edits R01. :func:`test_every_route_is_covered` fails when a route is added
to the app without a line in :data:`ROUTES`.
"""

from __future__ import annotations

import math

import mapbox_vector_tile
import pytest

from tests.webmap.conftest import auth
from webmap.app.aggregates import cells_router
from webmap.app.api import api_router, tiles_router
from webmap.app.field import evidence_router, field_router
from webmap.app.ogc import ogc_router
from webmap.app.review_api import review_router

R01 = {"L001", "L002", "L003", "L006"}
R02 = {"L003", "L004"}
OUTSIDE = {"L005"}
#: The leads the editor of R01 may neither read nor change.
FOREIGN = (R02 - R01) | OUTSIDE


def _tile(lon: float, lat: float, z: int) -> str:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/tiles/{z}/{x}/{y}.mvt"


TILE = _tile(127.0, 43.5, z=6)  # holds every lead

#: Each route of the app, and how the tests below reach it.
ROUTES = {
    "/api/me", "/api/users", "/api/leads", "/api/leads/{lead_id:path}",
    "/api/leads/{lead_id:path}/history", "/api/leads/{lead_id:path}/status",
    "/api/leads/{lead_id:path}/chips/{kind}", "/api/reserves",
    "/api/exports/{reserve_code:path}.zip", "/api/map/{kind}", "/tiles/{z}/{x}/{y}.mvt",
    "/api/leads/{lead_id:path}/review", "/api/review/queue", "/api/review/progress",
    "/api/leads/{lead_id:path}/photos/{index}", "/api/leads/{lead_id:path}/evidence",
    "/", "/login", "/field", "/field/sw.js", "/field/reserves", "/api/map/cells",
    "/api/map/summary",
    "/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/{name}",
    "/ogc/collections/{name}/items", "/ogc/collections/{name}/items/{fid:path}",
}  # fmt: skip
#: Routes open to everyone: the API's description and the files of its docs page.
PUBLIC = {"/docs", "/openapi.json", "/static/{name}"}


def test_every_route_is_covered(client):
    routes = [*client.app.routes, *api_router.routes, *review_router.routes,
              *tiles_router.routes, *field_router.routes, *evidence_router.routes,
              *cells_router.routes, *ogc_router.routes]
    paths = {route.path for route in routes if hasattr(route, "path")}
    assert paths - PUBLIC == ROUTES


def lead_ids(response) -> set[str]:
    body = response.json()
    collection = body.get("data", body) or {"features": []}
    return {f["properties"].get("lead_id") or f["properties"].get("i")
            for f in collection["features"]}


def tile_ids(response) -> set[str]:
    if not response.content:
        return set()
    layer = mapbox_vector_tile.decode(response.content).get("leads", {"features": []})
    return {f["properties"]["lead_id"] for f in layer["features"]}


# -- what a reserve editor reads --------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/api/leads", "/api/leads?status=pending", "/api/leads?batch=2024-H1",
        "/api/leads?bbox=120,40,130,45", "/api/leads?lead_id=L001,L004,L005",
        "/api/map/leads", "/api/map/leads?bbox=120,40,130,45",
        "/api/map/leads?lead_id=L003,L004,L005",
    ],
)  # fmt: skip
def test_lists_hold_only_the_editors_reserve(client, tokens, path):
    response = client.get(path, headers=auth(tokens["editor"]))
    assert response.status_code == 200
    assert lead_ids(response) <= R01
    assert lead_ids(client.get(path, headers=auth(tokens["viewer"]))) - R01  # others exist


def test_tiles_hold_only_the_editors_reserve(client, tokens):
    assert tile_ids(client.get(TILE, headers=auth(tokens["viewer"]))) >= R01 | R02
    assert tile_ids(client.get(TILE, headers=auth(tokens["editor"]))) == R01
    assert tile_ids(client.get(TILE, headers=auth(tokens["editor2"]))) == R02


@pytest.mark.parametrize(
    "path",
    [
        "/api/leads?reserve=R02", "/api/leads?reserve=R01,R02", "/api/leads?reserve=outside",
        "/api/map/leads?reserve=R02", f"{TILE}?reserve=R02", "/api/map/cells?z=4&reserve=R02",
        "/api/leads/L004", "/api/leads/L005",
        "/api/leads/L004/history", "/api/leads/L005/history", "/api/leads/L004/chips/before",
        "/api/exports/R02.zip", "/api/exports/outside.zip", "/api/users",
    ],
)  # fmt: skip
def test_asking_for_another_reserve_is_403(client, tokens, path):
    response = client.get(path, headers=auth(tokens["editor"]))
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "PermissionDeniedError"
    assert "乙保护区" not in response.text and "126." not in response.text  # no lead data


@pytest.mark.parametrize("lead", sorted(FOREIGN))
def test_editor_cannot_change_another_reserves_lead(client, tokens, classified, lead):
    before = classified.count("lead_history")
    response = client.post(f"/api/leads/{lead}/status", json={"status": "in_field",
                                                               "version": 1},
                           headers=auth(tokens["editor"]))
    assert response.status_code == 403
    assert classified.count("lead_history") == before
    status = classified.read_table("lead_status", where='"lead_id" = ?', params=[lead])
    assert status["status"].tolist() == ["pending"]


def test_editor_changes_and_reads_their_own_leads(client, tokens):
    headers = auth(tokens["editor"])
    for lead in sorted(R01):
        assert client.get(f"/api/leads/{lead}", headers=headers).json()["editable"] is True
        assert client.get(f"/api/leads/{lead}/history", headers=headers).status_code == 200
    response = client.post("/api/leads/L006/status", json={"status": "problem", "version": 1},
                           headers=headers)
    assert response.status_code == 200
    assert client.get("/api/exports/R01.zip", headers=headers).status_code == 200
    reserves = client.get("/api/reserves", headers=headers).json()
    assert [r["reserve_code"] for r in reserves] == ["R01"]


def test_reserve_list_of_the_other_editor(client, tokens):
    reserves = client.get("/api/reserves", headers=auth(tokens["editor2"])).json()
    assert [(r["reserve_code"], r["leads"]) for r in reserves] == [("R02", 2)]


def test_field_outlines_of_each_editor(client, tokens):
    for key, codes in (("editor", ["R01"]), ("editor2", ["R02"]), ("viewer", ["R01", "R02"])):
        outlines = client.get("/field/reserves", headers=auth(tokens[key])).json()
        assert [f["properties"]["reserve_code"] for f in outlines["features"]] == codes


# -- viewers and admins -----------------------------------------------------------------
@pytest.mark.parametrize("lead", sorted(R01 | R02 | OUTSIDE))
def test_viewer_reads_everything_and_changes_nothing(client, tokens, classified, lead):
    headers = auth(tokens["viewer"])
    assert client.get(f"/api/leads/{lead}", headers=headers).status_code == 200
    assert client.get(f"/api/leads/{lead}/history", headers=headers).status_code == 200
    response = client.post(f"/api/leads/{lead}/status", json={"status": "in_field",
                                                               "version": 1}, headers=headers)
    assert response.status_code == 403
    assert "viewer" in response.json()["detail"]
    assert classified.read_table("lead_status", where='"lead_id" = ?',
                                 params=[lead])["version"].tolist() == [1]


def test_viewer_and_editors_cannot_list_users(client, tokens):
    for role in ("viewer", "editor", "editor2"):
        assert client.get("/api/users", headers=auth(tokens[role])).status_code == 403
    users = client.get("/api/users", headers=auth(tokens["admin"])).json()
    assert len(users) == 4 and all("token" not in json for json in map(str, users))


@pytest.mark.parametrize("lead", sorted(R01 | R02 | OUTSIDE))
def test_admin_changes_any_lead(client, tokens, lead):
    response = client.post(f"/api/leads/{lead}/status", json={"status": "in_field",
                                                               "version": 1},
                           headers=auth(tokens["admin"]))
    assert response.status_code == 200
    assert response.json()["by"] == "管理员"


# -- without a token -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/me"), ("GET", "/api/users"), ("GET", "/api/leads"),
        ("GET", "/api/leads/L001"), ("GET", "/api/leads/L001/history"),
        ("GET", "/api/leads/L001/chips/before"),
        ("POST", "/api/leads/L001/status"), ("GET", "/api/reserves"),
        ("POST", "/api/leads/L001/review"), ("GET", "/api/review/queue"),
        ("GET", "/api/review/progress"), ("GET", "/api/leads/L001/photos/0"),
        ("GET", "/api/exports/R01.zip"), ("GET", "/api/map/leads"),
        ("GET", "/api/map/reserves"), ("GET", TILE), ("GET", "/field/reserves"),
        ("GET", "/api/map/cells?z=4"),
    ],
)  # fmt: skip
def test_every_api_route_needs_a_token(client, method, path):
    body = ({"json": {"status": "in_field", "action": "submit", "version": 1}}
            if method == "POST" else {})
    response = client.request(method, path, **body)
    assert response.status_code == 401
    assert "L001" not in response.text


def test_a_lead_in_two_reserves_is_each_editors(client, tokens):
    """L003 lies in R01's experimental zone and R02's core protection zone (R02 wins)."""
    for key in ("editor", "editor2"):
        headers = auth(tokens[key])
        lead = client.get("/api/leads/L003", headers=headers)
        assert lead.status_code == 200 and lead.json()["editable"] is True
        assert lead.json()["properties"]["reserve_code"] == "R02"  # the winner, as before
    listed = client.get("/api/leads?reserve=R01", headers=auth(tokens["viewer"])).json()
    assert {f["id"] for f in listed["features"]} == R01  # the filter matches membership
    counts = {r["reserve_code"]: r["leads"]
              for r in client.get("/api/reserves", headers=auth(tokens["viewer"])).json()}
    assert counts["R01"] == 4 and counts["R02"] == 2
    assert client.get("/api/reserves", headers=auth(tokens["editor"])).json()[0]["leads"] == 4
