"""``POST /api/leads/{id}/evidence``: a photo stored by its sha256 beside the workspace and
recorded in the lead's history, with the rights and version checks of a status change."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

from PIL import Image

from tests.webmap.conftest import auth


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _post(client, token, lead="L001", *, version=1, body=None, kind="image/jpeg",
          name="../../etc/现场.jpg"):
    return client.post(f"/api/leads/{lead}/evidence", headers=auth(token),
                       data={"version": str(version), "note": "现场照片"},
                       files={"file": (name, body if body is not None else _jpeg(), kind)})


def test_upload_is_stored_by_hash_and_recorded(client, tokens, classified):
    photo = _jpeg()
    response = _post(client, tokens["editor"], body=photo)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 2 and body["status"] == "pending"
    digest = hashlib.sha256(photo).hexdigest()
    folder = Path(classified.location).parent / f"{Path(classified.location).stem}_evidence"
    stored = folder / f"{digest}.jpg"
    assert stored.read_bytes() == photo
    assert [p.name for p in folder.iterdir()] == [stored.name]  # the name is no path
    history = client.get("/api/leads/L001/history", headers=auth(tokens["editor"])).json()
    last = history["history"][-1]
    assert last["from_status"] == last["to_status"] == "pending"
    assert last["version"] == 2 and last["note"] == "现场照片"
    entry = json.loads(last["evidence"])[0]
    assert entry["sha256"] == digest and entry["kind"] == "photo"
    assert entry["name"] == "现场.jpg"
    # the reviewer's photo route serves it
    assert client.get("/api/leads/L001/photos/0",
                      headers=auth(tokens["admin"])).content == photo


def test_another_reserves_editor_and_a_viewer_are_refused(client, tokens):
    assert _post(client, tokens["editor2"]).status_code in (403, 404)
    assert _post(client, tokens["viewer"]).status_code == 403
    assert _post(client, tokens["admin"]).status_code == 200


def test_stale_version_is_a_conflict(client, tokens):
    assert _post(client, tokens["editor"]).status_code == 200
    response = _post(client, tokens["editor"], version=1)
    assert response.status_code == 409
    assert response.json()["current_version"] == 2 or "2" in response.text


def test_non_images_are_refused(client, tokens):
    assert _post(client, tokens["editor"], body=b"%PDF-1.4", kind="application/pdf",
                 name="a.pdf").status_code == 415
    assert _post(client, tokens["editor"], body=b"not a jpeg").status_code == 415
