"""GET /api/map/cells: lead counts per grid cell, filtered, within the caller's rights.

The workspace of tests/webmap/conftest.py: R01 holds L001, L002, L006; R02 holds L003,
L004; L005 is outside; ``editor`` edits R01, ``editor2`` R02.
"""

from __future__ import annotations

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
