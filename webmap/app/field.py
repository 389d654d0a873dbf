"""The phone page ``/field``: a reserve editor's leads, nearest first, usable offline.

The page (``webmap/templates/field.html``) and its script (``webmap/static/lvdun-field.js``)
hold no data: the workflow's labels and the reasons of 非问题
(:data:`layers.schema.NOT_PROBLEM_REASONS`) arrive as JSON in a
``<script type="application/json">`` block, the leads from ``/api/leads`` and the reserve
outlines from ``/field/reserves``, with the caller's token. The script keeps them in IndexedDB
and queues the verdicts made offline there, each with the version it was made on; they are
sent with ``POST /api/leads/{id}/status`` when the phone is back online, and a 409 shows both
sides without overwriting anything.

A service worker (``/field/sw.js``, scope ``/field``) caches the page and its assets
(:data:`FIELD_ASSETS`, served by the app's ``/static/`` route), so that the page opens with
no network. A photo taken on the page is queued too and sent with
``POST /api/leads/{id}/evidence`` (:data:`evidence_router`, the same rights as a status
change), with the version its status change returned: the server stores it by sha256 in
the workspace's evidence folder (:func:`pipelines.verify.evidence.add_evidence`); the
upload's file name is kept as data, never used as a path.
"""

from __future__ import annotations

import json
import tempfile
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import shapely
from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import HTMLResponse, Response

from layers.schema import NOT_PROBLEM_REASONS, REASON_REQUIRED, STATUS_LABELS, Status
from pipelines.errors import ConflictError
from pipelines.escape import html_text, script_json
from pipelines.rights import readable_reserves, require_edit
from pipelines.verify.evidence import add_evidence
from webmap.app.api import Context, CurrentUser, LeadId, _conflict, check_text
from webmap.errors import RequestError, UnsupportedMediaError

__all__ = ["EVIDENCE_TYPES", "FIELD_ASSETS", "MAX_EVIDENCE_BYTES", "evidence_router",
           "field_router"]

field_router = APIRouter(prefix="/field", include_in_schema=False)
evidence_router = APIRouter(prefix="/api")
#: Image types an evidence upload may have, and the suffix its stored copy gets.
EVIDENCE_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp",
                  "image/heic": ".heic"}
#: The largest evidence upload, in bytes.
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024

_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
#: Files of ``webmap/static`` the phone page loads (and its service worker caches).
FIELD_ASSETS = ("leaflet.js", "leaflet.css", "lvdun-field.js")
#: Verdicts offered by big buttons, in this order.
_VERDICTS = (Status.IN_FIELD, Status.PROBLEM, Status.NOT_PROBLEM)
#: Bumped when the page or its assets change, so that phones drop their old copy.
_CACHE_NAME = "lvdun-field-v1"

_SERVICE_WORKER = """\
"use strict";
// The service worker of /field: the page and its assets from the cache when offline.
var CACHE = __CACHE__;
var FILES = __FILES__;
self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(FILES);
  }).then(function () { return self.skipWaiting(); }));
});
self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("lvdun-field-") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});
self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  var path = url.pathname;
  if (path === "/field" || path === "/field/") {
    // the page: the server's when it answers (fresh), else the cached copy
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put("/field", copy); });
      }
      return response;
    }).catch(function () {
      return caches.match("/field");
    }));
  } else if (FILES.indexOf(path) >= 0) {
    event.respondWith(caches.match(path).then(function (hit) {
      return hit || fetch(request);
    }));
  }
});
"""


def _config() -> dict[str, Any]:
    """What the page needs to know of the workflow, as JSON."""
    return {
        "api": "/api",
        "login": "/login",
        "reserves": "/field/reserves",
        "worker": "/field/sw.js",
        "scope": "/field",
        "verdicts": [{"status": s.value, "label": STATUS_LABELS[s]} for s in _VERDICTS],
        "labels": {s.value: label for s, label in STATUS_LABELS.items()},
        "reason_required": sorted([a.value, b.value] for a, b in REASON_REQUIRED),
        "not_problem_reasons": list(NOT_PROBLEM_REASONS),
    }


@cache
def _template() -> str:
    return (_TEMPLATES / "field.html").read_text(encoding="utf-8")


@field_router.get("", response_class=HTMLResponse)
def field_page(ctx: Context) -> str:
    """The phone page; it reads the token from localStorage (``/login`` stores it)."""
    return (_template().replace("__TITLE__", html_text(ctx.settings.title))
            .replace("__CONFIG__", script_json(_config())))


@field_router.get("/sw.js")
def service_worker() -> Response:
    """The page's service worker, allowed the scope ``/field`` (above its own folder)."""
    files = ["/field", *(f"/static/{name}" for name in FIELD_ASSETS)]
    body = (_SERVICE_WORKER.replace("__CACHE__", json.dumps(_CACHE_NAME))
            .replace("__FILES__", json.dumps(files)))
    return Response(body, media_type="text/javascript", headers={
        "Service-Worker-Allowed": "/field", "Cache-Control": "no-cache"})


@field_router.get("/reserves")
def field_reserves(user: CurrentUser, ctx: Context) -> Response:
    """The outlines of the reserves whose leads you may read, one feature per reserve
    (``reserve_code``, ``reserve_name``), as GeoJSON in EPSG:4490."""
    frame = ctx.pool.get().read_features("reserves")
    allowed = readable_reserves(user)
    features: list[str] = []
    if frame is not None and len(frame):
        if allowed is not None:
            frame = frame[frame["reserve_code"].isin(list(allowed))]
        for code, rows in frame.groupby("reserve_code", sort=True):
            outline = shapely.union_all(rows.geometry.values)
            props = json.dumps({"reserve_code": str(code),
                                "reserve_name": str(rows["reserve_name"].iloc[0])},
                               ensure_ascii=False)
            features.append(f'{{"type":"Feature","geometry":{shapely.to_geojson(outline)},'
                            f'"properties":{props}}}')
    body = f'{{"type":"FeatureCollection","features":[{",".join(features)}]}}'
    return Response(body, media_type="application/geo+json")


def _looks_like(path: Path, kind: str) -> bool:
    """Whether the file starts as an image of ``kind`` does (its magic bytes)."""
    with path.open("rb") as fh:
        head = fh.read(16)
    if kind == "image/jpeg":
        return head.startswith(b"\xff\xd8\xff")
    if kind == "image/png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if kind == "image/webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    return head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1",
                                                   b"heif", b"hevc")


@evidence_router.post("/leads/{lead_id:path}/evidence", summary="Add an evidence photo")
def upload_evidence(
    lead_id: LeadId,
    file: Annotated[UploadFile, File(description="One photo: JPEG, PNG, WebP or HEIC, "
                                     "at most 20 MB.")],
    version: Annotated[int, Form(description="The lead's version you saw (409 if stale).")],
    user: CurrentUser,
    ctx: Context,
    note: Annotated[str | None, Form(description="Kept in the history.")] = None,
) -> dict[str, Any]:
    """Store a photo with the lead (by its sha256) and record it in the lead's history.

    The status stays; the lead gets a new version. 415 for a file that is not a JPEG, PNG,
    WebP or HEIC image, 400 for one above 20 MB, 409 for a stale ``version``, 403 when the
    lead is not yours to change.

    Parameters
    ----------
    lead_id : str
        The lead.
    file : fastapi.UploadFile
        The photo; its name is kept in the history, never used as a path.
    version : int
        The lead's version the caller saw.
    user : User
        The caller: an editor of the lead's reserve, or an admin.
    ctx : AppContext
        The app's workspace pool and write lock.
    note : str, optional
        Kept in the history.
    """
    ws = ctx.pool.get()
    row = ctx.catalog.lead(ws, user, lead_id)
    require_edit(user, row)
    check_text("note", note)
    kind = (file.content_type or "").split(";")[0].strip().lower()
    if kind not in EVIDENCE_TYPES:
        raise UnsupportedMediaError(
            f"evidence must be a photo ({', '.join(EVIDENCE_TYPES)}), not {kind or 'untyped'}")
    with tempfile.TemporaryDirectory(prefix="lvdun-evidence-") as tmp:
        # the upload's name is data: the copy is named by its type, stored by its hash
        stem = Path(Path(file.filename or "").name).stem
        stem = "".join(c for c in stem if c.isalnum() or c in "-_ ")[:80].strip() or "photo"
        path = Path(tmp) / f"{stem}{EVIDENCE_TYPES[kind]}"
        size = 0
        with path.open("wb") as out:
            while chunk := file.file.read(1024 * 1024):
                size += len(chunk)
                if size > MAX_EVIDENCE_BYTES:
                    raise RequestError(f"evidence photo is larger than "
                                       f"{MAX_EVIDENCE_BYTES // (1024 * 1024)} MB")
                out.write(chunk)
        if not _looks_like(path, kind):
            raise UnsupportedMediaError(f"the uploaded file is not a {kind} image")
        try:
            with ctx.write_lock:
                change = add_evidence(ws, lead_id, [path], by=user.name,
                                      expected_version=version, note=note)
        except ConflictError as exc:
            raise _conflict(ws, lead_id, version, exc) from exc
    return {"lead_id": change.lead_id, "status": change.to_status.value,
            "version": change.version, "at": change.at, "by": change.by,
            "evidence": [{k: v for k, v in e.items() if k != "path"} for e in change.evidence]}
