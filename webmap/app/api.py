"""The JSON API of the web app: leads as GeoJSON, status changes, history, exports, tiles.

Route handlers only parse the request and call the library: rights checks are
:mod:`pipelines.users`, status changes :func:`pipelines.verify.status.set_status` (the same
workflow rules, version checks and history as the command line), review steps
:mod:`pipelines.verify.review` (the same as ``lvdun review``; the queue, photos and progress are
:mod:`webmap.app.review_api`), exports
:func:`pipelines.publish.export.export`. Errors travel as exceptions and become HTTP codes in one
place (:data:`webmap.errors.HTTP_STATUS`).

Every route needs a token (``Authorization: Bearer <token>``); every lead a route returns
or changes passes through the caller's rights, so a reserve editor can neither read nor
change the leads of another reserve through any of them.

Lead ids go in paths percent-encoded (``encodeURIComponent``), ``/`` as ``%2F``. Starlette
decodes ``%2F`` before routing, so the lead routes take the rest of the path
(``{lead_id:path}``) and the routes with a suffix (``/history``, ``/chips/{kind}``,
``/status``) are declared before ``/leads/{lead_id:path}``: ``/api/leads/A%2F1/history``
is the history of lead ``A/1``. An id that itself ends in one of those suffixes cannot be
told from them. Text of filters and status changes holding control characters (the rule
of :mod:`layers.text`; PostgreSQL cannot store NUL) is refused with 400, on every store.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Annotated, Any

import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from layers.aliases import normalize_status
from layers.i18n import label
from layers.schema import REASON_REQUIRED, TRANSITIONS, Status
from layers.text import CONTROL_CHARACTERS
from pipelines.errors import ConflictError, NotFoundError
from pipelines.escape import content_disposition, html_text
from pipelines.publish.export import FORMATS, ArchiveCache
from pipelines.rights import (
    can_edit,
    editable_reserves,
    require_admin,
    require_edit,
    require_read_reserve,
)
from pipelines.users import User, authenticate, list_users
from pipelines.verify import review as workflow
from pipelines.verify.status import history, set_status
from webmap.app.catalog import OUTSIDE_CODE, LeadQuery, api_properties, query_codes
from webmap.app.context import AppContext
from webmap.app.tiles import encode_tile
from webmap.errors import RequestError, VersionConflictError
from webmap.map import features, lead_features
from webmap.map.publish import lead_chip_paths

__all__ = ["EMPTY_DIMS", "ReviewAction", "StatusUpdate", "api_router", "check_text",
           "current_user", "key_fields", "more_filters", "tiles_router"]

log = logging.getLogger(__name__)

api_router = APIRouter(prefix="/api")
tiles_router = APIRouter()
_bearer = HTTPBearer(
    auto_error=False,
    description="The token printed by `lvdun users add NAME --role ...`.",
)
_GEOJSON = "application/geo+json"
_MAP_KINDS = ("leads", "reserves", "wetlands", "mines", "admin")


def context(request: Request) -> AppContext:
    """The app's workspace pool, catalog and settings."""
    return request.app.state.lvdun


def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The user holding the request's bearer token (401 without a valid one)."""
    ctx = context(request)
    return authenticate(ctx.pool.get(), credentials.credentials if credentials else None)


CurrentUser = Annotated[User, Depends(current_user)]
Context = Annotated[AppContext, Depends(context)]
LeadId = Annotated[str, PathParam(description="The lead id, percent-encoded (`/` as `%2F`).",
                                  examples=["C2224262023000123"])]


# -- parameters -------------------------------------------------------------------------
def check_text(name: str, value: str | None) -> str | None:
    """Return ``value``; raise :class:`RequestError` when it holds a control character.

    Tab, line feed and carriage return are text; the other C0 controls and DEL are not
    (:data:`layers.text.CONTROL_CHARACTERS`), and PostgreSQL cannot even store NUL, so
    they are refused alike on every store.

    Examples
    --------
    >>> check_text("batch", "2024-H1")
    '2024-H1'
    >>> check_text("batch", "a\\x00b")
    Traceback (most recent call last):
    ...
    webmap.errors.RequestError: batch 'a\\x00b' holds a control character (U+0000): remove it
    """
    if value is None:
        return None
    found = CONTROL_CHARACTERS.search(value)
    if found:
        raise RequestError(f"{name} {value!r} holds a control character "
                         f"(U+{ord(found.group()):04X}): remove it")
    return value


def _split(values: list[str] | None, name: str = "value") -> tuple[str, ...]:
    """Repeated and comma-separated values, stripped, empties dropped.

    Raises :class:`RequestError` for a value with a control character (:func:`check_text`).
    """
    out: list[str] = []
    for value in values or []:
        check_text(name, value)
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return tuple(dict.fromkeys(out))


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None or not value.strip():
        return None
    try:
        parts = [float(v) for v in value.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not all(np.isfinite(parts)) or parts[0] > parts[2] or \
            parts[1] > parts[3]:
        raise RequestError(
            f"bbox {value!r}: give minx,miny,maxx,maxy in degrees (EPSG:4490), "
            "e.g. bbox=126.3,43.3,126.8,43.7"
        )
    return parts[0], parts[1], parts[2], parts[3]


def _statuses(values: tuple[str, ...]) -> tuple[str, ...]:
    out = []
    for value in values:
        status = normalize_status(value)
        if status is None:
            known = ", ".join(s.value for s in Status)
            raise RequestError(f"unknown status {value!r}; use one of {known} (or 问题, 已销号...)")
        out.append(status.value)
    return tuple(out)


def lead_query(
    user: CurrentUser,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy (EPSG:4490)",
                                      examples=["126.3,43.3,126.8,43.7"])] = None,
    status: Annotated[list[str] | None, Query(description="Status codes or labels; "
                                              "repeat or separate by commas.")] = None,
    reserve: Annotated[list[str] | None, Query(description="Reserve codes; `outside` "
                                               "for leads outside every reserve.")] = None,
    batch: Annotated[list[str] | None, Query(description="Batches, e.g. 2024-H1.")] = None,
    lead_id: Annotated[list[str] | None, Query(description="Lead ids.")] = None,
) -> LeadQuery:
    """The filters of a lead query; asking for a reserve one may not read is a 403, a
    value with a control character a 400."""
    reserves = _split(reserve, "reserve")
    for code in reserves:
        require_read_reserve(user, None if code == OUTSIDE_CODE else code)
    return LeadQuery(bbox=_bbox(check_text("bbox", bbox)),
                     status=_statuses(_split(status, "status")), reserve=query_codes(reserves),
                     batch=_split(batch, "batch"), lead_id=_split(lead_id, "lead_id"))


Filters = Annotated[LeadQuery, Depends(lead_query)]
#: Dimensions whose empty value a query may ask for (``empty=activity``).
EMPTY_DIMS = ("activity", "batch", "zone")


def more_filters(
    activity: Annotated[list[str] | None, Query(description="Activity types.")] = None,
    zone: Annotated[list[str] | None, Query(description="Zone codes.")] = None,
    empty: Annotated[list[str] | None, Query(description="Dimensions whose empty value "
                                             "is wanted too: activity, batch, zone.")] = None,
) -> dict[str, tuple[str | None, ...]]:
    """Filters of the map beyond those of ``/api/leads``: activity types, zone codes and
    the dimensions whose empty value matches too (``empty``: a 400 for another)."""
    blanks = _split(empty, "empty")
    unknown = [d for d in blanks if d not in EMPTY_DIMS]
    if unknown:
        raise RequestError(f"empty={unknown[0]!r}: use one of {', '.join(EMPTY_DIMS)}")
    out: dict[str, tuple[str | None, ...]] = {"activity": _split(activity, "activity"),
                                              "zone": _split(zone, "zone")}
    out.update({f"empty_{dim}": () for dim in blanks})
    return out


MoreFilters = Annotated[dict[str, tuple[str | None, ...]], Depends(more_filters)]


def key_fields(query: LeadQuery, more: dict[str, tuple[str | None, ...]]) -> dict[str, Any]:
    """The fields of :class:`~pipelines.store.cells.CellQuery` of ``more`` with the batch
    of ``query`` (a wanted empty value as None)."""
    fields: dict[str, Any] = {"activity": more["activity"], "zone": more["zone"],
                              "batch": query.batch}
    for dim in EMPTY_DIMS:
        if f"empty_{dim}" in more:
            fields[dim] = (*fields[dim], None)
    return fields


# -- GeoJSON ----------------------------------------------------------------------------
def _feature_texts(frame: pd.DataFrame) -> list[str]:
    geoms = frame.geometry.values if len(frame) else []
    geometry = shapely.to_geojson(np.asarray(geoms, dtype=object)) if len(frame) else []
    out = []
    for geom, row in zip(geometry, frame.to_dict("records"), strict=True):
        props = json.dumps(api_properties(row), ensure_ascii=False, default=str)
        out.append(f'{{"type":"Feature","id":{json.dumps(row["lead_id"], ensure_ascii=False)},'
                   f'"geometry":{geom or "null"},"properties":{props}}}')
    return out


@api_router.get("/me", summary="Who is logged in")
def me(user: CurrentUser) -> dict[str, Any]:
    """The user of the token, with the reserves they may edit (null: all)."""
    editable = editable_reserves(user)
    return {**user.as_dict(), "editable_reserves": None if editable is None else sorted(editable)}


@api_router.get("/users", summary="List users (admin)")
def users(user: CurrentUser, ctx: Context) -> list[dict[str, Any]]:
    """Every user with role and reserves; never tokens. Admins only."""
    require_admin(user)
    return [u.as_dict() for u in list_users(ctx.pool.get())]


@api_router.get("/leads", summary="Leads as GeoJSON, filtered and paged",
                response_class=Response,
                responses={200: {"content": {_GEOJSON: {}}}})
def leads(
    request: Request,
    user: CurrentUser,
    ctx: Context,
    query: Filters,
    limit: Annotated[int | None, Query(ge=1, description="Page size.")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """A page of the leads you may read that match the filters, ordered by lead id.

    ``numberMatched`` counts every match, ``next`` is the URL of the next page (or null).
    """
    size = min(limit or ctx.settings.page_size, ctx.settings.max_page_size)
    page, total = ctx.catalog.select(ctx.pool.get(), user, query, limit=size, offset=offset)
    following = offset + len(page)
    next_url = (str(request.url.include_query_params(offset=following, limit=size))
                if following < total else None)
    meta = json.dumps({"numberMatched": total, "numberReturned": len(page), "limit": size,
                       "offset": offset, "next": next_url}, ensure_ascii=False)
    body = (f'{{"type":"FeatureCollection","features":[{",".join(_feature_texts(page))}],'
            f"{meta[1:-1]}}}")
    return Response(body, media_type=_GEOJSON)


def _allowed(status: str) -> list[dict[str, Any]]:
    current = Status(status)
    return [{"status": s.value, "label": label(s.value),
             "reason_required": (current, s) in REASON_REQUIRED} for s in TRANSITIONS[current]]


@api_router.get("/leads/{lead_id:path}/history", summary="Status history of a lead")
def lead_history(lead_id: LeadId, user: CurrentUser, ctx: Context) -> dict[str, Any]:
    """Every status change of the lead, oldest first (who, when, from, to, reason, note)."""
    ws = ctx.pool.get()
    ctx.catalog.lead(ws, user, lead_id)
    rows = history(ws, lead_id)
    rows = rows.astype(object).where(rows.notna(), None)
    return {"lead_id": lead_id, "history": rows.to_dict("records")}


@api_router.get("/leads/{lead_id:path}/chips/{kind}", summary="A before/after image chip",
                response_class=Response, responses={200: {"content": {"image/png": {}}}})
def lead_chip(
    lead_id: LeadId,
    kind: Annotated[str, PathParam(description="before or after")],
    user: CurrentUser,
    ctx: Context,
) -> Response:
    """The PNG chip of the lead (``lvdun chips``), for its popup."""
    ws = ctx.pool.get()
    ctx.catalog.lead(ws, user, lead_id)
    path = lead_chip_paths(ws, [lead_id]).get(lead_id, {}).get(kind)
    if path is None or not path.is_file():
        raise NotFoundError(f"lead {lead_id} has no {kind!r} chip; `lvdun chips` makes them")
    return Response(path.read_bytes(), media_type="image/png")


class StatusUpdate(BaseModel):
    """A status change, as ``lvdun status set`` takes it."""

    status: str = Field(description="Target status: code or label (in_field, 问题...).",
                        examples=["in_field"])
    version: int = Field(description="The lead's version you saw; if it changed meanwhile "
                         "the change is refused with 409 and both versions.", examples=[1])
    reason: str | None = Field(None, description="Required for 非问题 and for going back.")
    note: str | None = Field(None, description="Kept in the history.")
    opinion: str | None = Field(None, description="The lead's new 核查意见 (ledger).")
    responsible_unit: str | None = Field(None, description="整改责任单位; entering 整改中 "
                                         "needs it (given now or stored before).")
    measures: str | None = Field(None, description="整改措施")
    deadline: str | None = Field(None, description="整改期限, YYYY-MM-DD; entering 整改中 "
                                 "needs it.")


@api_router.post("/leads/{lead_id:path}/status", summary="Change a lead's status")
def change_status(
    lead_id: LeadId, body: StatusUpdate, user: CurrentUser, ctx: Context
) -> dict[str, Any]:
    """Move the lead along the workflow; recorded in its history under your name.

    409 when ``version`` is stale (the body gives both versions), 422 when the workflow
    does not allow the move (or 整改中 lacks its record), 400 for a deadline that is not
    a date or text holding a control character, 403 when the lead is not yours to change.
    """
    ws = ctx.pool.get()
    row = ctx.catalog.lead(ws, user, lead_id)
    require_edit(user, row)
    for name, value in body.model_dump().items():
        if isinstance(value, str):
            check_text(name, value)
    try:
        with ctx.write_lock:
            change = set_status(
                ws, lead_id, body.status, reason=body.reason, note=body.note, by=user.name,
                expected_version=body.version, responsible_unit=body.responsible_unit,
                measures=body.measures, deadline=body.deadline, opinion=body.opinion,
            )
    except ConflictError as exc:
        raise _conflict(ws, lead_id, body.version, exc) from exc
    return {"lead_id": change.lead_id, "from_status": change.from_status.value,
            "to_status": change.to_status.value, "version": change.version,
            "at": change.at, "by": change.by}


def _conflict(ws: Any, lead_id: str, version: int, exc: ConflictError) -> VersionConflictError:
    """The 409 of a stale write, with the lead's current version, status and author."""
    current = ws.read_table_equal("lead_status", "lead_id", lead_id)
    now = current.iloc[0] if len(current) else None
    return VersionConflictError(str(exc), {
        "your_version": version,
        "current_version": None if now is None else int(now["version"]),
        "current_status": None if now is None else now["status"],
        "updated_by": None if now is None else now["updated_by"],
        "updated_at": None if now is None else now["updated_at"],
    })


class ReviewAction(BaseModel):
    """A review step, as ``lvdun review submit|approve|return`` takes it."""

    action: str = Field(description="submit (the editor), approve or return (a reviewer "
                        "of the level the lead awaits).", examples=["approve"])
    version: int = Field(description="The lead's version you saw; if it changed meanwhile "
                         "the step is refused with 409.", examples=[3])
    reason: str | None = Field(None, description="Why a lead is returned (required then).")
    note: str | None = Field(None, description="Kept in the history.")


@api_router.post("/leads/{lead_id:path}/review", summary="Submit, approve or return a lead")
def review_lead(
    lead_id: LeadId, body: ReviewAction, user: CurrentUser, ctx: Context
) -> dict[str, Any]:
    """One step of the level-by-level review (逐级审核 / 验收), under your name.

    ``submit`` sends the editor's verdict (or an 已整改 lead for acceptance) to the first
    level; ``approve`` passes it to the next level (the last approval of an acceptance
    closes the lead: 已销号); ``return`` sends it back with ``reason``. 403 when the lead
    is not in your reserves or area or awaits another level, 409 for a stale ``version``,
    422 when the step is not due (nothing submitted, a return without a reason).
    """
    ws = ctx.pool.get()
    for name in ("action", "reason", "note"):
        check_text(name, getattr(body, name))
    steps = {
        "submit": lambda: workflow.submit(ws, user, lead_id, note=body.note,
                                          expected_version=body.version),
        "approve": lambda: workflow.approve(ws, user, lead_id, note=body.note,
                                            expected_version=body.version),
        "return": lambda: workflow.return_lead(ws, user, lead_id, reason=body.reason,
                                               expected_version=body.version),
    }
    if body.action not in steps:
        raise RequestError(f"action {body.action!r}: use one of {', '.join(steps)}")
    try:
        with ctx.write_lock:
            step = steps[body.action]()
    except ConflictError as exc:
        raise _conflict(ws, lead_id, body.version, exc) from exc
    return {"lead_id": step.lead_id, "kind": step.kind, "decision": step.decision,
            "level": step.level, "review": step.label, "version": step.version,
            "at": step.at, "by": step.by}


@api_router.get("/leads/{lead_id:path}", summary="One lead", response_class=Response,
                responses={200: {"content": {_GEOJSON: {}}}})
def lead(lead_id: LeadId, user: CurrentUser, ctx: Context) -> Response:
    """The lead as a GeoJSON Feature, with ``editable`` (may you change it),
    ``allowed_next`` (the statuses it may move to) and ``review`` (its review state:
    未提交, 待市级审核, 已退回（市级：…）, 审核通过...)."""
    row = ctx.catalog.lead(ctx.pool.get(), user, lead_id)
    geometry = row.get("geometry")
    feature: dict[str, Any] = {
        "type": "Feature",
        "id": lead_id,
        "geometry": json.loads(shapely.to_geojson(geometry)) if geometry is not None else None,
        "properties": api_properties(row),
    }
    feature["editable"] = can_edit(user, row)
    feature["allowed_next"] = _allowed(row["status"]) if feature["editable"] else []
    feature["review"] = workflow.review_label(
        workflow.current_review(ctx.pool.get(), lead_id, row["status"]))
    chips = lead_chip_paths(ctx.pool.get(), [lead_id]).get(lead_id, {})
    feature["chips"] = sorted(kind for kind, path in chips.items() if path.is_file())
    return Response(json.dumps(feature, ensure_ascii=False, default=str), media_type=_GEOJSON)


@api_router.get("/reserves", summary="Reserves with lead counts")
def reserves(user: CurrentUser, ctx: Context) -> list[dict[str, Any]]:
    """The reserves whose leads you may read, with the number of leads per status.

    The leads outside every reserve are listed with ``reserve_code`` null (query them with
    ``reserve=outside``), so that they never merge with a reserve coded ``outside``.
    """
    counts = ctx.catalog.reserve_counts(ctx.pool.get(), user)
    out = []
    for (code, name), rows in counts.groupby(["reserve_code", "reserve_name"], sort=True,
                                             dropna=False):
        code = None if pd.isna(code) else code
        name = None if pd.isna(name) else name
        out.append({"reserve_code": code, "reserve_name": name,
                    "leads": int(rows["count"].sum()),
                    "by_status": {s: int(n) for s, n in zip(rows["status"], rows["count"],
                                                             strict=True)}})
    return out


_ARCHIVES_LOCK = threading.Lock()


def _archives(request: Request) -> ArchiveCache:
    """The app's cache of downloads (one per app, made on the first download)."""
    state = request.app.state
    with _ARCHIVES_LOCK:
        cache = getattr(state, "lvdun_archives", None)
        if cache is None:
            cache = state.lvdun_archives = ArchiveCache()
    return cache


@api_router.get("/exports/{reserve_code:path}.zip", summary="Download a reserve's ledger",
                response_class=Response,
                responses={200: {"content": {"application/zip": {}}}})
def export_reserve(
    request: Request,
    reserve_code: Annotated[str, PathParam(description="Reserve code, percent-encoded "
                                           "(`/` as `%2F`), or `outside`.")],
    user: CurrentUser,
    ctx: Context,
    format: Annotated[list[str] | None, Query(description="xlsx, csv, gpkg, shp, kml, "
                                              "geojson; repeatable.")] = None,
) -> Response:
    """The verification list of one reserve (``lvdun export --reserve CODE``) as a zip.

    Only that reserve is exported (``outside``: the leads outside every reserve, never a
    reserve whatever its code or name), and the zip is kept until the workspace changes
    (:class:`pipelines.publish.export.ArchiveCache`): a second download with no change in between
    is the same file, exported once. A download records no run in ``runs`` (the run log
    is of commands, and a run makes the app read every lead again); its ledgers are
    importable with ``lvdun status import`` all the same, a cached one as the first,
    since the export keeps its record (group, versions) under its run id in ``meta``.
    """
    code = None if reserve_code == OUTSIDE_CODE else reserve_code
    require_read_reserve(user, code)
    formats = _split(format) or ("xlsx",)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise RequestError(f"unknown format {unknown[0]!r}; use {', '.join(FORMATS)}")
    archive = _archives(request).get(ctx.pool.get(), code, formats=formats)
    log.info("%s downloaded the ledger of %s (%s, export run %s)", user.name, reserve_code,
             ",".join(formats), archive.run_id)
    return Response(archive.data, media_type="application/zip", headers={
        "Content-Disposition": content_disposition(archive.filename)})


# -- layers of the map page -------------------------------------------------------------
_CONTEXT_BUILDERS = {
    "reserves": features.reserve_features,
    "wetlands": features.wetland_features,
    "mines": features.mine_features,
    "admin": features.admin_features,
}


def _layer_json(data: features.LayerData, **more: Any) -> str:
    spec = {"labels": [html_text(label) for label in data.labels], "tooltip": list(data.tooltip),
            **data.spec, **more}
    head = json.dumps(spec, ensure_ascii=False, separators=(",", ":"))
    return f'{{"data":{data.geojson or "null"},{head[1:]}'


@api_router.get("/map/{kind}", summary="A layer of the map page", response_class=Response,
                responses={200: {"content": {"application/json": {}}}})
def map_layer(
    kind: Annotated[str, PathParam(description=", ".join(_MAP_KINDS))],
    user: CurrentUser,
    ctx: Context,
    query: Filters,
    more: MoreFilters,
    limit: Annotated[int | None, Query(ge=1, description="At most this many leads.")] = None,
) -> Response:
    """A layer as the map page draws it: features with style keys and escaped popup
    cells (``lvdun.vectorLayer``). Leads take the filters of ``/api/leads``, those of
    ``/api/map/cells`` (activity, zone, empty) and a ``limit``; ``numberMatched`` tells
    how many matched."""
    ws = ctx.pool.get()
    if kind == "leads":
        page, total = ctx.catalog.select(ws, user, query, limit=limit,
                                         more=key_fields(query, more))
        frame = features.prepare_frame(page.set_crs("EPSG:4490", allow_override=True), "leads")
        if frame is None:
            return Response(f'{{"data":null,"numberMatched":{total}}}',
                            media_type="application/json")
        # editable: the leads lying in a reserve the user edits (not only the winning one)
        editable = [row["lead_id"] for row in page[["lead_id", "reserve_code",
                                                    "reserve_codes"]].to_dict("records")
                    if can_edit(user, row)]
        data = lead_features.lead_features(frame, ids=True, editable=set(editable))
        return Response(_layer_json(data, numberMatched=total), media_type="application/json")
    if kind not in _CONTEXT_BUILDERS:
        raise NotFoundError(f"no map layer {kind!r}; layers: {', '.join(_MAP_KINDS)}")
    text = ctx.cached(ws, f"map:{kind}", lambda: _context_layer(ws, kind))
    return Response(text, media_type="application/json")


def _context_layer(ws: Any, kind: str) -> str:
    frame = features.prepare_frame(ws.read_features(kind), kind)
    if frame is None:
        return '{"data":null}'
    return _layer_json(_CONTEXT_BUILDERS[kind](frame))


@tiles_router.get("/tiles/{z}/{x}/{y}.mvt", summary="Vector tile of the leads",
                  response_class=Response,
                  responses={200: {"content": {"application/vnd.mapbox-vector-tile": {}}}})
def tile(z: int, x: int, y: int, user: CurrentUser, ctx: Context, query: Filters) -> Response:
    """A Mapbox vector tile (layer ``leads``) of the leads you may read; the filters of
    ``/api/leads`` apply (bbox aside). PostGIS workspaces encode it with ``ST_AsMVT``."""
    body = encode_tile(ctx.pool.get(), ctx.catalog, user, z, x, y, query)
    return Response(body, media_type="application/vnd.mapbox-vector-tile")
