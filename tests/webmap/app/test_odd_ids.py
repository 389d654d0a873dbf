"""Lead ids that are awkward in a URL path: ``/``, ``..``, quotes, spaces, ``%``, Chinese.

Clients put an id in a path percent-encoded (``encodeURIComponent``; ``.`` as ``%2E``
where a segment would be ``.`` or ``..``). Starlette decodes ``%2F`` before routing, so
every lead route must still reach the right handler with the whole id. (An id that itself
ends in ``/history``, ``/status`` or ``/chips/<kind>`` cannot be told from those routes.)
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest

from pipelines.users import add_user
from tests.webmap.conftest import TestClient, auth
from webmap.app.factory import create_app
from webmap.app.settings import Settings

#: Awkward ids, each at the place of one point (all inside reserve R01 of zones_file).
ODD_IDS = [
    "A/1", "a/../b", "..", "../../etc/passwd", 'q"uote', "it's", "sp ace", "线索/一号",
    "100%", "end/", "/start", "a?b#c",
]  # fmt: skip
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQ"
                       "DwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def enc(lead_id: str) -> str:
    """The id as one path segment, as the web app's page encodes it."""
    segment = quote(lead_id, safe="")
    return segment.replace(".", "%2E") if segment in {".", ".."} else segment


#: Starlette's TestClient decodes a path twice (``x%252Fy`` arrives as ``x/y``): such ids
#: are tried through uvicorn, which decodes once, as ``lvdun serve`` runs.
TWICE = ["x%2Fy", "%41"]


@pytest.fixture
def odd_workspace(workspace, zones_file: Path, tmp_path: Path) -> tuple[object, str]:
    """The awkward ids of :data:`ODD_IDS` and :data:`TWICE`, classified, with a chip each;
    and an admin's token."""
    from pipelines.classify.job import classify
    from pipelines.ingest.files import ingest

    csv = tmp_path / "odd.csv"
    ids = [*ODD_IDS, *TWICE]
    frame = pd.DataFrame({
        "线索编号": ids, "批次": "2024-H1",
        "经度": [126.45 + 0.001 * k for k in range(len(ids))], "纬度": 43.5,
        "活动类型": "采石场",
    })
    frame.to_csv(csv, index=False, encoding="utf-8-sig")
    ingest(workspace, "reserves", zones_file)
    report = ingest(workspace, "leads", csv, crs="EPSG:4490")
    assert sorted(workspace.read_features("leads")["lead_id"]) == sorted(ids), report
    classify(workspace)
    chips = []
    for k, lead in enumerate(ids):
        path = tmp_path / f"chip{k}.png"
        path.write_bytes(PNG)
        chips.append({"chip_id": f"{lead}:before", "lead_id": lead, "kind": "before",
                      "path": str(path)})
    workspace.upsert_rows("lead_chips", pd.DataFrame(chips))
    return workspace, add_user(workspace, "管理员", "admin")[1]


@pytest.fixture
def odd(odd_workspace) -> Iterator[tuple[TestClient, str]]:
    workspace, token = odd_workspace
    with TestClient(create_app(Settings(workspace=workspace.location))) as client:
        yield client, token


def _use(client, token: str, lead_id: str) -> None:
    """Read, change, read the history and the chips of one lead through its paths."""
    url = f"/api/leads/{enc(lead_id)}"
    lead = client.get(url, headers=auth(token))
    assert lead.status_code == 200, lead.text
    assert lead.json()["id"] == lead.json()["properties"]["lead_id"] == lead_id
    assert lead.json()["chips"] == ["before"]
    changed = client.post(f"{url}/status", json={"status": "in_field", "version": 1},
                          headers=auth(token))
    assert changed.status_code == 200, changed.text
    assert changed.json()["lead_id"] == lead_id and changed.json()["version"] == 2
    history = client.get(f"{url}/history", headers=auth(token))
    assert history.status_code == 200, history.text
    assert history.json()["lead_id"] == lead_id
    assert [row["to_status"] for row in history.json()["history"]][-1] == "in_field"
    chip = client.get(f"{url}/chips/before", headers=auth(token))
    assert chip.status_code == 200 and chip.content == PNG
    missing = client.get(f"{url}/chips/after", headers=auth(token))
    assert missing.status_code == 404 and "'after' chip" in missing.json()["detail"]


@pytest.mark.parametrize("lead_id", ODD_IDS)
def test_an_odd_id_is_read_changed_and_its_history_read(odd, lead_id):
    _use(*odd, lead_id)


def test_percent_escapes_in_ids_through_uvicorn(odd_workspace):
    import httpx

    from tests.webmap.test_browser import _serving

    workspace, token = odd_workspace
    with _serving(workspace.location) as base, httpx.Client(base_url=base) as client:
        for lead_id in [*TWICE, "A/1", "线索/一号"]:
            _use(client, token, lead_id)


def test_only_the_lead_changed_moved(odd):
    client, token = odd
    assert client.post(f"/api/leads/{enc('A/1')}/status",
                       json={"status": "problem", "version": 1},
                       headers=auth(token)).status_code == 200
    body = client.get("/api/leads?status=problem", headers=auth(token)).json()
    assert [f["id"] for f in body["features"]] == ["A/1"]
    other = client.get(f"/api/leads/{enc('a/../b')}", headers=auth(token)).json()
    assert other["properties"]["status"] == "pending"


def test_unknown_ids_with_slashes_are_a_lead_404(odd):
    client, token = odd
    for path in ("/api/leads/NO%2FPE", "/api/leads/NO%2FPE/history",
                 "/api/leads/NO%2FPE/chips/before"):
        response = client.get(path, headers=auth(token))
        assert response.status_code == 404
        assert response.json()["error"] == "NotFoundError" and "NO/PE" in response.text
    response = client.post("/api/leads/NO%2FPE/status", json={"status": "in_field",
                                                               "version": 1},
                           headers=auth(token))
    assert response.status_code == 404 and response.json()["error"] == "NotFoundError"


def test_the_page_encodes_ids_in_paths():
    from webmap.map.offline import STATIC_DIR

    script = (STATIC_DIR / "lvdun-app.js").read_text("utf-8")
    assert '"/leads/" + id' not in script and '"/leads/" + lead' not in script
    assert "encodeURIComponent(id)" in script or "leadPath(" in script
