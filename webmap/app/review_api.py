"""The reviewer's routes of the web app: the queue with its photos, the photos, the progress.

- ``GET /api/review/queue``: what awaits you (:func:`pipelines.verify.review.queue`), each
  item with the evidence photos of the lead's history (``photos``: index, name, summary).
- ``GET /api/leads/{lead_id}/photos/{index}``: one of those photos. Only files stored in
  the workspace's folder (a GeoPackage's folder; a PostGIS workspace has none, so none)
  are served, and only while they still have the sha256 the history recorded: a path in
  the history never reaches the browser, and a path pointing elsewhere (``..``, a link out
  of the folder, a file of another machine) is not read.
- ``GET /api/review/progress``: the dispatch tables (调度表,
  :func:`pipelines.publish.report.dispatch.dispatch_tables`) of the leads of your area; a
  reviewer sees their area, an admin everything, anyone else gets 403.

The router is included before :data:`webmap.app.api.api_router`: its photo route ends in a
suffix, and ``/api/leads/{lead_id:path}`` would otherwise take it for a lead id.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import Response

from layers.files import file_sha256
from pipelines.errors import NotFoundError, PermissionDeniedError
from pipelines.publish.report.dispatch import dispatch_tables
from pipelines.publish.views import leads_view
from pipelines.rights import readable_areas
from pipelines.store.base import Workspace
from pipelines.users import Role
from pipelines.verify import review as workflow
from pipelines.verify.evidence import evidence_summary
from webmap.app.api import Context, CurrentUser, LeadId

__all__ = ["lead_photos", "review_router"]

log = logging.getLogger(__name__)

review_router = APIRouter(prefix="/api")
#: Photo types a browser shows, by suffix.
_IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
                ".webp": "image/webp", ".gif": "image/gif"}


def _folder(ws: Workspace) -> Path | None:
    """The workspace's folder (a GeoPackage's), or None (PostGIS)."""
    home = getattr(ws, "path", None)
    return Path(home).resolve().parent if home is not None else None


def _inside(folder: Path, value: object) -> Path | None:
    """The file ``value`` names when it lies inside ``folder`` (links resolved), else None."""
    if not isinstance(value, str) or not value:
        return None
    path = Path(value)
    try:
        path = (path if path.is_absolute() else folder / path).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not path.is_relative_to(folder) or not path.is_file():
        return None
    return path


def lead_photos(ws: Workspace, lead_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Return lead id -> the evidence photos of its history stored in the workspace.

    Oldest first; each ``{"index", "name", "summary", "taken_at", "distance_m", "path",
    "sha256"}``, ``index`` numbering the lead's photos for the photo route. ``path`` is
    the resolved file, for the server only: the routes drop it (and ``sha256``).
    """
    folder = _folder(ws)
    if folder is None or not lead_ids:
        return {}
    rows = ws.read_table_in("lead_history", "lead_id", lead_ids)
    if not len(rows) or "evidence" not in rows.columns:
        return {}
    rows = rows[rows["evidence"].notna()].sort_values("id")
    out: dict[str, list[dict[str, Any]]] = {}
    for lead_id, text in zip(rows["lead_id"], rows["evidence"], strict=True):
        try:
            entries = json.loads(text)
        except (TypeError, ValueError):
            continue
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or entry.get("kind") != "photo":
                continue
            path = _inside(folder, entry.get("path"))
            if path is None or path.suffix.lower() not in _IMAGE_TYPES:
                continue
            photos = out.setdefault(str(lead_id), [])
            photos.append({"index": len(photos), "name": str(entry.get("name") or path.name),
                           "summary": evidence_summary(entry),
                           "taken_at": entry.get("taken_at"),
                           "distance_m": entry.get("distance_m"),
                           "path": path, "sha256": entry.get("sha256")})
    return out


def _public(photo: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in photo.items() if k not in ("path", "sha256")}


@review_router.get("/review/queue", summary="What awaits you in the review")
def review_queue(user: CurrentUser, ctx: Context) -> list[dict[str, Any]]:
    """A reviewer: the submissions of your area awaiting your level, and open spot checks;
    an editor: your leads returned to you or still to submit. Sorted by lead id.

    Each item has ``photos``: the evidence photos of the lead's history that the workspace
    stores (fetch them from ``/api/leads/{lead_id}/photos/{index}``)."""
    ws = ctx.pool.get()
    rows = workflow.queue(ws, user)
    items = rows.astype(object).where(rows.notna(), None).to_dict("records")
    photos = lead_photos(ws, [str(item["lead_id"]) for item in items])
    for item in items:
        item["photos"] = [_public(p) for p in photos.get(str(item["lead_id"]), [])]
    return items


@review_router.get("/leads/{lead_id:path}/photos/{index}", summary="An evidence photo",
                   response_class=Response,
                   responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}})
def lead_photo(
    lead_id: LeadId,
    index: Annotated[int, PathParam(ge=0, description="The photo's index in the queue item.")],
    user: CurrentUser,
    ctx: Context,
) -> Response:
    """An evidence photo of the lead's history, if the workspace stores it unchanged.

    Parameters
    ----------
    lead_id : str
        The lead, as the path gives it.
    index : int
        The photo's ``index`` in the lead's queue item.
    user : User
        The caller; they must read the lead (403 otherwise).
    ctx : AppContext
        The app's workspace pool and catalog.
    """
    ws = ctx.pool.get()
    ctx.catalog.lead(ws, user, lead_id)
    photos = lead_photos(ws, [lead_id]).get(lead_id, [])
    if index >= len(photos):
        raise NotFoundError(f"lead {lead_id} has no photo {index} stored in the workspace")
    photo = photos[index]
    if photo["sha256"] and file_sha256(photo["path"]) != photo["sha256"]:
        log.warning("photo %s of lead %s changed since it was recorded", photo["name"],
                    lead_id)
        raise NotFoundError(f"photo {index} of lead {lead_id} changed since it was recorded")
    return Response(photo["path"].read_bytes(),
                    media_type=_IMAGE_TYPES[photo["path"].suffix.lower()])


def _area_view(ws: Workspace, areas: frozenset[str] | None) -> pd.DataFrame:
    """The leads view, only the leads whose county lies in ``areas`` (None: all)."""
    view = leads_view(ws)
    if areas is None:
        return view
    county = view["county_adcode"].astype(object)
    inside = [isinstance(c, str) and any(c.startswith(a) for a in areas) for c in county]
    return view[inside].reset_index(drop=True)


@review_router.get("/review/progress", summary="The dispatch table of your area")
def review_progress(user: CurrentUser, ctx: Context) -> dict[str, Any]:
    """The dispatch tables (调度表) of the leads of your area: per county, city and
    reserve, each with 合计 (as in ``lvdun report``). Reviewers see their area, admins
    every lead; other users get 403."""
    if user.role not in (Role.REVIEWER, Role.ADMIN):
        raise PermissionDeniedError(f"{user.name} 不是审核用户或管理员，不能查看调度表")
    ws = ctx.pool.get()
    areas = readable_areas(user)
    today = date.today()
    tables = dispatch_tables(ws, _area_view(ws, areas), today)
    return {
        "today": today.isoformat(),
        "areas": None if areas is None else sorted(areas),
        "tables": [{"key": t.key, "title": t.title, "columns": [str(c) for c in t.frame.columns],
                    "rows": [[_plain(v) for v in row] for row in t.frame.itertuples(index=False)]}
                   for t in tables],
    }


def _plain(value: Any) -> Any:
    """A cell as JSON takes it: numpy scalars as Python numbers, missing values as None."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value
