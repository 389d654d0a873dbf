"""What protects the web app's users: security headers on every response, local API docs,
a login page that echoes nothing, and filters that refuse control characters."""

from __future__ import annotations

import re

import pytest

from tests.webmap.conftest import auth
from webmap.map.offline import STATIC_DIR

#: The headers every response carries, and what they must say.
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
TILE = "/tiles/6/54/23.mvt"  # holds every lead of the test workspace


def _csp(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


# -- headers ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "token", "code"),
    [
        ("/", None, 200), ("/login", None, 200), ("/docs", None, 200),
        ("/openapi.json", None, 200), ("/api/me", None, 401), ("/api/me", "viewer", 200),
        ("/api/leads?bbox=x", "viewer", 400), ("/api/leads/NOPE", "viewer", 404),
        ("/api/leads/L004", "editor", 403), (TILE, "viewer", 200), ("/nowhere", None, 404),
        ("/static/swagger-ui.css", None, 200),
    ],
)  # fmt: skip
def test_every_response_carries_the_security_headers(client, tokens, path, token, code):
    response = client.get(path, headers=auth(tokens[token]) if token else {})
    assert response.status_code == code
    for name, value in HEADERS.items():
        assert response.headers[name] == value
    csp = _csp(response)
    assert csp["default-src"] == ["'self'"]
    # the map page alone may eval: its vendored leaflet-measure compiles lodash templates
    evals = ["'unsafe-eval'"] if path == "/" else []
    assert csp["script-src"] == ["'self'", "'unsafe-inline'", *evals]
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert {"'self'", "data:", "blob:", "https://tile.openstreetmap.org",
            "https://*.tianditu.gov.cn", "https://*.is.autonavi.com"} == set(csp["img-src"])


def test_a_failed_status_change_carries_the_headers_too(client, tokens):
    response = client.post("/api/leads/L001/status", json={"status": "closed", "version": 1},
                           headers=auth(tokens["admin"]))
    assert response.status_code == 422
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


# -- API docs -----------------------------------------------------------------------------
def test_docs_use_local_assets_only(client):
    response = client.get("/docs")
    assert response.status_code == 200
    html = response.text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), html
    assert "cdn." not in html and "fastapi.tiangolo.com" not in html
    assert "/static/swagger-ui-bundle.js" in html and "/static/swagger-ui.css" in html
    assert "/openapi.json" in html
    js = client.get("/static/swagger-ui-bundle.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert js.content == (STATIC_DIR / "swagger-ui-bundle.js").read_bytes()
    css = client.get("/static/swagger-ui.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert client.get("/static/nothing.js").status_code == 404
    assert client.get("/static/../app.py").status_code == 404


def test_redoc_is_not_served_from_a_cdn_either(client):
    assert client.get("/redoc").status_code == 404


def test_swagger_ui_is_vendored_with_its_licence():
    licences = (STATIC_DIR / "LICENSES.txt").read_text("utf-8")
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert (STATIC_DIR / name).is_file() and name in licences
    assert "swagger-ui-dist 5." in licences and "Apache-2.0" in licences
    assert (STATIC_DIR / "swagger-ui-bundle.js.LICENSE.txt").is_file()


# -- the login page -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "target",
    ["/%5Cevil.example/", "//evil.example/", "https://evil.example/", "/%09/evil.example/",
     "%3C/script%3E%3Cscript%3Ealert(1)%3C/script%3E"],
)
def test_login_page_echoes_no_next(client, target):
    response = client.get(f"/login?next={target}")
    assert response.status_code == 200
    assert "evil.example" not in response.text and "alert(1)" not in response.text


def test_login_page_checks_next_against_its_own_origin(client):
    page = client.get("/login").text
    assert "new URL(" in page and "location.origin" in page


# -- control characters in filters --------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/api/leads?status=%00", "/api/leads?batch=a%00b", "/api/leads?reserve=R01%00",
        "/api/leads?lead_id=L001%01", "/api/leads?batch=2024-H1%7F",
        "/api/map/leads?batch=%00", "/api/map/leads?reserve=%1B", f"{TILE}?batch=a%00b",
        f"{TILE}?reserve=R01%00", f"{TILE}?status=in_field%00", f"{TILE}?lead_id=%00",
    ],
)
def test_control_characters_in_filters_are_400(client, tokens, path):
    response = client.get(path, headers=auth(tokens["viewer"]))
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "RequestError"
    assert "control character" in body["detail"]


@pytest.mark.parametrize("field", ["note", "reason", "opinion", "measures", "status"])
def test_control_characters_in_a_status_change_are_400(client, tokens, classified, field):
    body = {"status": "in_field", "version": 1, field: "a\x00b"}
    response = client.post("/api/leads/L001/status", json=body, headers=auth(tokens["admin"]))
    assert response.status_code == 400, response.text
    assert "control character" in response.json()["detail"] and field in (
        response.json()["detail"])
    assert classified.read_table("lead_status", where='"lead_id" = ?',
                                 params=["L001"])["version"].tolist() == [1]


def test_tabs_and_new_lines_in_a_note_are_kept(client, tokens):
    body = {"status": "in_field", "version": 1, "note": "第一行\n第二行\t完"}
    response = client.post("/api/leads/L001/status", json=body, headers=auth(tokens["admin"]))
    assert response.status_code == 200, response.text
    history = client.get("/api/leads/L001/history", headers=auth(tokens["admin"])).json()
    assert history["history"][-1]["note"] == "第一行\n第二行\t完"


# -- expired tokens -----------------------------------------------------------------------
def test_an_expired_token_is_401_saying_whom_to_ask(client, tokens, classified):
    from tests.webmap.conftest import USERS

    name = USERS["editor"][0]
    classified.execute('UPDATE "users" SET "expires_at" = ? WHERE "name" = ?',
                       ["2000-01-01T00:00:00+00:00", name])
    response = client.get("/api/leads", headers=auth(tokens["editor"]))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert f"lvdun users rotate {name}" in response.json()["detail"]
    assert "L001" not in response.text
    assert client.get("/api/me", headers=auth(tokens["viewer"])).status_code == 200
