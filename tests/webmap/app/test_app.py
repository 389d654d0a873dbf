"""The web app's API as a client uses it: login, leads, status changes, history, exports."""

from __future__ import annotations

import io
import json
import zipfile

import mapbox_vector_tile
import pytest

from geo.errors import LvdunError
from pipelines.errors import (
    AuthError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    PipelineError,
    StoreError,
    TransitionError,
    UserError,
    WorkspaceError,
)
from pipelines.users import revoke_user
from pipelines.verify.status import set_status
from tests.webmap.conftest import USERS, auth
from webmap.app.factory import create_app
from webmap.app.settings import Settings
from webmap.app.tiles import tile_bounds
from webmap.errors import RequestError, VersionConflictError, http_status

ALL = ["L001", "L002", "L003", "L004", "L005", "L006"]


def ids(collection: dict) -> list[str]:
    return sorted(f["properties"]["lead_id"] for f in collection["features"])


# -- login ------------------------------------------------------------------------------
def test_me_needs_a_token(client, tokens):
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"] == "AuthError"
    assert client.get("/api/me", headers=auth("lvd_wrong")).status_code == 401
    assert client.get("/api/me", headers={"Authorization": tokens["viewer"]}).status_code == 401


@pytest.mark.parametrize("role", list(USERS))
def test_me_tells_who_is_logged_in(client, tokens, role):
    body = client.get("/api/me", headers=auth(tokens[role])).json()
    name, kind, reserves = USERS[role]
    assert (body["name"], body["role"], body["reserves"]) == (name, kind, list(reserves))
    expected = {"viewer": [], "admin": None}.get(role, list(reserves))
    assert body["editable_reserves"] == expected


def test_a_revoked_token_stops_working_at_once(client, tokens, classified):
    assert client.get("/api/me", headers=auth(tokens["editor"])).status_code == 200
    revoke_user(classified, USERS["editor"][0])
    assert client.get("/api/me", headers=auth(tokens["editor"])).status_code == 401


def test_settings_come_from_lvdun_variables(monkeypatch):
    monkeypatch.setenv("LVDUN_WORKSPACE", "/data/ws.gpkg")
    monkeypatch.setenv("LVDUN_PORT", "9001")
    monkeypatch.setenv("LVDUN_TIANDITU_KEY", "abc")
    settings = Settings()
    assert (settings.workspace, settings.port, settings.tianditu_key) == ("/data/ws.gpkg", 9001,
                                                                        "abc")
    assert Settings(port=80).port == 80


def test_a_missing_workspace_fails_at_start(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        create_app(Settings(workspace=str(tmp_path / "none.gpkg")))


# -- leads ------------------------------------------------------------------------------
def test_leads_geojson_lists_every_lead_for_a_viewer(client, tokens):
    response = client.get("/api/leads", headers=auth(tokens["viewer"]))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert ids(body) == ALL
    assert body["numberMatched"] == body["numberReturned"] == 6 and body["next"] is None
    first = next(f for f in body["features"] if f["id"] == "L001")
    assert first["geometry"] == {"type": "Point", "coordinates": [126.5, 43.5]}
    props = first["properties"]
    assert (props["reserve_code"], props["zone"], props["status"], props["version"]) == (
        "R01", "core", "pending", 1)
    assert props["status_label"] == "待核查" and props["activity_type"] == "采石场"


def test_leads_are_paged_in_id_order(client, tokens):
    seen = []
    url = "/api/leads?limit=4"
    while url:
        body = client.get(url, headers=auth(tokens["admin"])).json()
        assert body["numberMatched"] == 6
        seen += [f["id"] for f in body["features"]]
        url = body["next"]
    assert seen == ALL
    page = client.get("/api/leads?limit=2&offset=2", headers=auth(tokens["admin"])).json()
    assert [f["id"] for f in page["features"]] == ["L003", "L004"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=pending", ALL),
        ("status=problem", []),
        ("status=待核查", ALL),
        ("reserve=R02", ["L003", "L004"]),
        ("reserve=outside", ["L005"]),
        ("reserve=R02,outside", ["L003", "L004", "L005"]),
        ("reserve=R02&reserve=outside", ["L003", "L004", "L005"]),
        ("batch=2024-H1", ALL),
        ("batch=2023", []),
        ("bbox=126.40,43.40,126.52,43.52", ["L001", "L002"]),
        ("bbox=127,43.9,128,44.1&status=pending", ["L005"]),
        ("lead_id=L004&lead_id=L006", ["L004", "L006"]),
    ],
)
def test_leads_filters(client, tokens, query, expected):
    body = client.get(f"/api/leads?{query}", headers=auth(tokens["viewer"])).json()
    assert ids(body) == expected


@pytest.mark.parametrize(
    ("query", "match"),
    [
        ("bbox=1,2,3", "minx,miny,maxx,maxy"),
        ("bbox=a,b,c,d", "minx,miny,maxx,maxy"),
        ("bbox=10,0,0,10", "minx,miny,maxx,maxy"),
        ("status=done", "unknown status 'done'"),
    ],
)
def test_bad_filters_are_400_with_a_hint(client, tokens, query, match):
    response = client.get(f"/api/leads?{query}", headers=auth(tokens["viewer"]))
    assert response.status_code == 400
    assert match in response.json()["detail"]


def test_page_size_is_capped_by_the_settings(classified, tokens):
    from tests.webmap.conftest import TestClient

    app = create_app(Settings(workspace=classified.location, page_size=2, max_page_size=3))
    with TestClient(app) as client:
        body = client.get("/api/leads", headers=auth(tokens["viewer"])).json()
        assert body["limit"] == 2 and body["numberReturned"] == 2
        body = client.get("/api/leads?limit=100", headers=auth(tokens["viewer"])).json()
        assert body["limit"] == 3


def test_one_lead_with_what_the_user_may_do(client, tokens):
    body = client.get("/api/leads/L001", headers=auth(tokens["editor"])).json()
    assert body["id"] == "L001" and body["properties"]["zone_label"] == "核心区"
    assert body["editable"] is True
    assert [(a["status"], a["reason_required"]) for a in body["allowed_next"]] == [
        ("in_field", False), ("not_problem", True), ("problem", False)]
    viewer = client.get("/api/leads/L001", headers=auth(tokens["viewer"])).json()
    assert viewer["editable"] is False and viewer["allowed_next"] == []


def test_unknown_lead_is_404(client, tokens):
    for path in ("/api/leads/NOPE", "/api/leads/NOPE/history"):
        response = client.get(path, headers=auth(tokens["admin"]))
        assert response.status_code == 404
        assert response.json()["error"] == "NotFoundError"


# -- status changes -----------------------------------------------------------------------
def post_status(client, token, lead, **body):
    return client.post(f"/api/leads/{lead}/status", json=body, headers=auth(token))


def test_status_change_follows_the_workflow_and_is_recorded(client, tokens, classified):
    response = post_status(client, tokens["editor"], "L001", status="in_field", version=1,
                           note="<b>到现场</b>")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "lead_id": "L001", "from_status": "pending", "to_status": "in_field", "version": 2,
        "at": response.json()["at"], "by": "甲保护区管理局"}
    lead = client.get("/api/leads/L001", headers=auth(tokens["viewer"])).json()
    assert (lead["properties"]["status"], lead["properties"]["version"]) == ("in_field", 2)
    history = client.get("/api/leads/L001/history", headers=auth(tokens["viewer"])).json()
    last = history["history"][-1]
    assert (last["from_status"], last["to_status"], last["by"], last["note"]) == (
        "pending", "in_field", "甲保护区管理局", "<b>到现场</b>")  # JSON: raw, the page escapes
    rows = classified.read_table("lead_history", where='"lead_id" = ?', params=["L001"])
    assert len(rows) == len(history["history"])


def test_stale_version_is_409_with_both_versions(client, tokens):
    assert post_status(client, tokens["editor"], "L002", status="in_field",
                       version=1).status_code == 200
    response = post_status(client, tokens["admin"], "L002", status="problem", version=1)
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "VersionConflictError"
    assert (body["your_version"], body["current_version"], body["current_status"],
            body["updated_by"]) == (1, 2, "in_field", "甲保护区管理局")
    assert "第 1 版" in body["detail"] and "第 2 版" in body["detail"]


@pytest.mark.parametrize(
    ("body", "code", "match"),
    [
        ({"status": "closed", "version": 1}, 422, "不能从 待核查（pending） 改为"),
        ({"status": "not_problem", "version": 1}, 422, "须给出原因"),
        ({"status": "not_problem", "version": 1, "reason": "随便"}, 422, "不是非问题的原因代码"),
        ({"status": "finished", "version": 1}, 422, "未知的核查状态"),
    ],
)
def test_workflow_errors_are_422(client, tokens, body, code, match):
    response = post_status(client, tokens["admin"], "L006", **body)
    assert response.status_code == code
    assert match in response.json()["detail"]


def test_a_change_needs_the_version(client, tokens):
    response = post_status(client, tokens["admin"], "L006", status="in_field")
    assert response.status_code == 422  # request validation: the field is required
    assert response.json()["detail"][0]["loc"] == ["body", "version"]


def test_not_problem_with_a_reason_and_labels(client, tokens):
    response = post_status(client, tokens["admin"], "L005", status="非问题", version=1,
                           reason="位于保护区外")
    assert response.status_code == 200
    assert response.json()["to_status"] == "not_problem"


def test_changes_made_elsewhere_show_at_once(client, tokens, classified):
    set_status(classified, "L004", "in_field", by="cli")  # another connection, like the CLI
    lead = client.get("/api/leads/L004", headers=auth(tokens["viewer"])).json()
    assert lead["properties"]["status"] == "in_field"
    assert lead["properties"]["updated_by"] == "cli"
    body = client.get("/api/leads?status=in_field", headers=auth(tokens["viewer"])).json()
    assert ids(body) == ["L004"]


# -- reserves, exports, map layers, tiles, pages ---------------------------------------------
def test_reserves_with_counts(client, tokens):
    post_status(client, tokens["admin"], "L004", status="problem", version=1)
    body = client.get("/api/reserves", headers=auth(tokens["viewer"])).json()
    by_code = {r["reserve_code"]: r for r in body}
    assert set(by_code) == {"R01", "R02", None}  # None: the leads outside every reserve
    assert by_code["R02"]["leads"] == 2
    assert by_code["R02"]["by_status"] == {"pending": 1, "problem": 1}
    assert by_code["R01"]["reserve_name"] == "甲保护区"


def test_export_of_a_reserve_is_a_zip_of_its_ledger(client, tokens):
    response = client.get("/api/exports/R01.zip?format=xlsx&format=csv",
                          headers=auth(tokens["editor"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "filename*=UTF-8''%E7%94%B2" in response.headers["content-disposition"]
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert sorted(names) == ["甲保护区/甲保护区_核查清单.csv", "甲保护区/甲保护区_核查清单.xlsx"]
    csv = zipfile.ZipFile(io.BytesIO(response.content)).read(names[0]).decode("utf-8-sig")
    assert "L001" in csv and "L004" not in csv


def test_export_errors(client, tokens):
    bad = client.get("/api/exports/R01.zip?format=docx", headers=auth(tokens["admin"]))
    assert bad.status_code == 400 and "docx" in bad.json()["detail"]
    assert client.get("/api/exports/R99.zip", headers=auth(tokens["admin"])).status_code == 404
    outside = client.get("/api/exports/outside.zip", headers=auth(tokens["viewer"]))
    assert outside.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(outside.content)).namelist() == [
        "保护区外/保护区外_核查清单.xlsx"]


def test_map_layers_for_the_page(client, tokens):
    body = client.get("/api/map/leads", headers=auth(tokens["editor"])).json()
    features = body["data"]["features"]
    # L003 lies in 乙 as well as in 甲
    assert sorted(f["properties"]["i"] for f in features) == ["L001", "L002", "L003", "L006"]
    assert all(f["properties"]["e"] == 1 for f in features)
    assert body["labels"][0] == "线索编号"
    assert body["filters"]["reserve"] == ["乙保护区", "甲保护区"]
    viewer = client.get("/api/map/leads", headers=auth(tokens["viewer"])).json()
    assert not any("e" in f["properties"] for f in viewer["data"]["features"])
    reserves = client.get("/api/map/reserves", headers=auth(tokens["viewer"])).json()
    assert len(reserves["data"]["features"]) == 5
    assert client.get("/api/map/wetlands", headers=auth(tokens["viewer"])).json() == {
        "data": None}
    assert client.get("/api/map/roads", headers=auth(tokens["viewer"])).status_code == 404


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_vector_tile_holds_the_leads(client, tokens):
    x, y = _tile_of(126.5, 43.5, 9)
    response = client.get(f"/tiles/9/{x}/{y}.mvt", headers=auth(tokens["viewer"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    tile = mapbox_vector_tile.decode(response.content)
    leads = {f["properties"]["lead_id"]: f for f in tile["leads"]["features"]}
    assert {"L001", "L002", "L006"} <= set(leads)
    assert leads["L001"]["properties"]["status"] == "pending"
    x0, y0 = leads["L001"]["geometry"]["coordinates"]
    assert 0 <= x0 <= 4096 and 0 <= y0 <= 4096
    problem = client.get(f"/tiles/9/{x}/{y}.mvt?status=problem", headers=auth(tokens["viewer"]))
    assert problem.content == b""


def test_tiles_outside_the_grid_are_400(client, tokens):
    assert client.get("/tiles/2/4/0.mvt", headers=auth(tokens["viewer"])).status_code == 400
    assert client.get("/tiles/30/0/0.mvt", headers=auth(tokens["viewer"])).status_code == 400
    assert tile_bounds(0, 0, 0) == pytest.approx((-20037508.34, -20037508.34,
                                                 20037508.34, 20037508.34))


def test_the_map_page_holds_no_data_and_loads_it_from_the_api(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "lvdun.appInit" in page.text and "/api/map/leads" in page.text
    assert "L001" not in page.text  # leads come with a token only
    assert "<script src=" not in page.text
    login = client.get("/login")
    assert login.status_code == 200 and "localStorage" in login.text


def test_openapi_docs_list_every_endpoint(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {"/api/leads", "/api/leads/{lead_id}/status", "/tiles/{z}/{x}/{y}.mvt",
            "/api/exports/{reserve_code}.zip"} <= set(spec["paths"])
    assert "HTTPBearer" in json.dumps(spec["components"]["securitySchemes"])


# -- the error table ----------------------------------------------------------------------
class BadRecord(PipelineError, ValueError):
    """Like the bad-input errors of other jobs: a PipelineError that is a ValueError."""


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (AuthError("x"), 401),
        (PermissionDeniedError("x"), 403),
        (NotFoundError("x"), 404),
        (ConflictError("x"), 409),
        (VersionConflictError("x", {}), 409),
        (TransitionError("x"), 422),
        (RequestError("x"), 400),
        (UserError("x"), 400),
        (WorkspaceError("x"), 400),
        (BadRecord("x"), 400),
        (StoreError("x"), 503),
        (LvdunError("x"), 500),
        (RuntimeError("x"), 500),
    ],
)
def test_http_status_table(error, code):
    assert http_status(error) == code


# -- lvdun serve ------------------------------------------------------------------------
def test_serve_command_runs_uvicorn_with_the_settings(classified, monkeypatch):
    import uvicorn
    from click.testing import CliRunner

    from webmap.app.serve import serve_cmd

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.setenv("LVDUN_PORT", "8765")
    result = CliRunner().invoke(serve_cmd, ["-w", classified.location, "--host", "127.0.0.2"])
    assert result.exit_code == 0, result.output
    app, options = calls[0]
    assert options["host"] == "127.0.0.2" and options["port"] == 8765
    assert app.state.lvdun.settings.workspace == classified.location


def test_serve_command_fails_cleanly_without_a_workspace(tmp_path):
    from click.testing import CliRunner

    from webmap.app.serve import serve_cmd

    result = CliRunner().invoke(serve_cmd, ["-w", str(tmp_path / "none.gpkg")])
    assert result.exit_code == 1
    assert "does not exist" in result.output


def test_rectifying_needs_its_record_and_keeps_it(client, tokens):
    headers = auth(tokens["editor"])
    assert post_status(client, tokens["editor"], "L001", status="problem",
                       version=1).status_code == 200
    missing = post_status(client, tokens["editor"], "L001", status="rectifying", version=2)
    assert missing.status_code == 422 and "整改责任单位" in missing.json()["detail"]
    bad_date = post_status(client, tokens["editor"], "L001", status="rectifying", version=2,
                           responsible_unit="县林业局", deadline="next year")
    assert bad_date.status_code == 400 and "YYYY-MM-DD" in bad_date.json()["detail"]
    done = post_status(client, tokens["editor"], "L001", status="rectifying", version=2,
                       responsible_unit="县林业局", deadline="2025-06-30", measures="拆除复绿",
                       opinion="已责令整改")
    assert done.status_code == 200, done.text
    props = client.get("/api/leads/L001", headers=headers).json()["properties"]
    assert (props["responsible_unit"], props["deadline"], props["measures"]) == (
        "县林业局", "2025-06-30", "拆除复绿")


def _add_chips(ws, tmp_path, lead: str) -> bytes:
    import base64

    import pandas as pd

    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQ"
                           "DwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
    rows = []
    for kind in ("before", "after"):
        path = tmp_path / f"{lead}_{kind}.png"
        path.write_bytes(png)
        rows.append({"chip_id": f"{lead}:{kind}", "lead_id": lead, "kind": kind,
                     "path": str(path)})
    ws.upsert_rows("lead_chips", pd.DataFrame(rows))
    return png


def test_chips_of_a_lead_through_the_api(client, tokens, classified, tmp_path):
    png = _add_chips(classified, tmp_path, "L001")
    lead = client.get("/api/leads/L001", headers=auth(tokens["editor"])).json()
    assert lead["chips"] == ["after", "before"]
    response = client.get("/api/leads/L001/chips/before", headers=auth(tokens["editor"]))
    assert response.status_code == 200 and response.content == png
    assert response.headers["content-type"] == "image/png"
    assert client.get("/api/leads/L001/chips/sideways",
                      headers=auth(tokens["editor"])).status_code == 404
    assert client.get("/api/leads/L002", headers=auth(tokens["editor"])).json()["chips"] == []


def test_published_map_inlines_the_workspace_chips(classified, tmp_path):
    from webmap.map.publish import publish_map

    _add_chips(classified, tmp_path, "L004")
    chip = 'src=\\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB'  # in JSON
    html = publish_map(classified, tmp_path / "m.html").read_text("utf-8")
    assert html.count(chip) == 2 and "前时相" in html
    plain = publish_map(classified, tmp_path / "n.html", chips=False, history=False)
    assert chip not in plain.read_text("utf-8")
