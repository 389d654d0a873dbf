"""GET /api/map/cells: lead counts per grid cell, filtered, within the caller's rights.

The workspace of tests/webmap/conftest.py: R01 holds L001, L002, L006; R02 holds L003,
L004; L005 is outside; ``editor`` edits R01, ``editor2`` R02.
"""

from __future__ import annotations

from urllib.parse import quote

from tests.webmap.conftest import auth


def _cells(client, token: str, query: str = "") -> dict:
    response = client.get(f"/api/map/cells?z=3{query}", headers=auth(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_viewer_counts_every_lead(client, tokens):
    body = _cells(client, tokens["viewer"])
    assert body["total"] == 6
    assert sum(c["n"] for c in body["cells"]) == 6
    assert body["by_status"] == {"pending": 6}
    for cell in body["cells"]:
        west, south, east, north = cell["bbox"]
        assert west <= cell["x"] <= east and south <= cell["y"] <= north


def test_editor_counts_only_their_reserve(client, tokens, classified):
    members = {"R01": {"L001", "L002", "L006"}, "R02": {"L003", "L004"}}
    if classified._has_table("lead_reserves"):  # leads in both reserves belong to each
        rows = classified.read_table("lead_reserves")
        for code, group in rows.groupby("reserve_code"):
            members.setdefault(code, set()).update(group["lead_id"])
    assert _cells(client, tokens["editor"])["total"] == len(members["R01"])
    assert _cells(client, tokens["editor2"])["total"] == len(members["R02"])


def test_filters_reach_the_counts(client, tokens):
    token = tokens["viewer"]
    assert _cells(client, token, "&status=problem")["total"] == 0
    assert _cells(client, token, "&reserve=outside")["total"] == 1
    assert _cells(client, token, "&overdue=true")["total"] == 0
    assert _cells(client, token, "&batch=no-such-batch")["total"] == 0
    assert _cells(client, token, "&bbox=0,0,1,1")["total"] == 0


def test_status_change_moves_a_count(client, tokens):
    lead = client.get("/api/leads/L001", headers=auth(tokens["admin"])).json()
    version = lead.get("properties", lead).get("version", 1)
    response = client.post("/api/leads/L001/status", headers=auth(tokens["admin"]),
                           json={"status": "in_field", "version": version})
    assert response.status_code == 200, response.text
    body = _cells(client, tokens["viewer"])
    assert body["by_status"] == {"pending": 5, "in_field": 1}


def test_bad_zoom_is_400_or_422(client, tokens):
    response = client.get("/api/map/cells?z=99", headers=auth(tokens["viewer"]))
    assert response.status_code in (400, 422)
    assert "Traceback" not in response.text


def _query(dim: str, params: list) -> str:
    named = [p for p in params if p is not None]
    parts = [f"{dim}={quote(p)}" for p in named]
    if len(named) < len(params):
        parts.append(f"empty={dim}")
    return "&" + "&".join(parts)


def test_summary_choices_are_the_layers_and_filter_on_the_server(client, tokens):
    token = tokens["viewer"]
    summary = client.get("/api/map/summary", headers=auth(token)).json()
    assert summary["total"] == 6
    west, south, east, north = summary["bounds"]
    assert west < east and south < north
    layer = client.get("/api/map/leads", headers=auth(token)).json()
    features = layer["data"]["features"]
    for d, dim in enumerate(("activity", "batch", "reserve", "zone")):
        assert summary["filters"][dim] == layer["filters"][dim], dim
        if dim == "reserve":  # shown by the winning reserve, filtered by membership
            continue
        for k, name in enumerate(summary["filters"][dim]):
            shown = sum(1 for f in features if layer["filters"][dim][f["properties"]["f"][d]]
                        == name)
            extra = _query(dim, summary["params"][dim][k])
            assert _cells(client, token, extra)["total"] == shown, (dim, name)
            page = client.get(f"/api/map/leads?limit=100{extra}", headers=auth(token)).json()
            assert page["numberMatched"] == shown, (dim, name)


def test_summary_of_an_editor_holds_their_reserves_only(client, tokens):
    summary = client.get("/api/map/summary", headers=auth(tokens["editor"])).json()
    assert summary["total"] == 4  # L003 lies in R01 too
    assert summary["filters"]["reserve"] == ["甲保护区"]
    assert summary["params"]["reserve"] == [["R01"]]
    assert _cells(client, tokens["editor"], "&reserve=R01")["total"] == 4


def test_bad_empty_dimension_is_400(client, tokens):
    response = client.get("/api/map/cells?z=3&empty=reserve", headers=auth(tokens["viewer"]))
    assert response.status_code == 400 and "empty" in response.json()["detail"]


def _move(client, token: str, lead: str) -> str:
    body = client.get(f"/api/leads/{lead}", headers=auth(token)).json()
    step = next(s for s in body["allowed_next"] if not s["reason_required"])
    payload = {"status": step["status"], "version": body["properties"]["version"]}
    if step["status"] == "rectifying":
        payload.update(responsible_unit="某县林业和草原局", deadline="2030-12-31")
    response = client.post(f"/api/leads/{lead}/status", headers=auth(token), json=payload)
    assert response.status_code == 200, response.text
    return step["status"]


def test_kept_counts_follow_status_changes(client, tokens):
    """Zoomed out the counts are kept per query and patched by each status change: they
    stay those counted afresh (zoom 10 is counted each time), for every filter and right."""
    admin = tokens["admin"]
    queries = ["", "&status=in_field", "&status=pending,problem", "&reserve=R01"]
    for token in (tokens["viewer"], tokens["editor"]):
        for query in queries:
            _cells(client, token, query)  # counted and kept
    moved = [_move(client, admin, "L001"), _move(client, admin, "L003"),
             _move(client, admin, "L003")]
    assert len(set(moved)) >= 2
    for token in (tokens["viewer"], tokens["editor"]):
        for query in queries:
            kept = client.get(f"/api/map/cells?z=8{query}", headers=auth(token)).json()
            fresh = client.get(f"/api/map/cells?z=10{query}", headers=auth(token)).json()
            assert kept["by_status"] == fresh["by_status"], (token, query)
            assert kept["total"] == fresh["total"]
    viewer = _cells(client, tokens["viewer"])
    assert viewer["total"] == 6 and viewer["by_status"].get("pending") == 4
