"""What the web app knows of the leads: the leads view in memory, kept fresh, filtered.

Reading :func:`pipelines.publish.views.leads_view` takes a second or more at 10^5 leads, far too
slow for every request. :class:`LeadCatalog` keeps the view in memory and checks, at each
request, two cheap marks of the workspace:

- the run log and the largest lead ``fid``: any ingest or classification records a run
  (and re-inserts leads), so a change means the whole view is read again;
- the largest ``lead_history`` id: every status change (web app, command line, Excel
  import, another process) appends to history in the same transaction as it updates
  ``lead_status``, so the leads named by the new history rows are re-read, nothing else.

Every query goes through the caller's rights (:func:`pipelines.rights.readable_reserves`):
an editor's queries never see another reserve's leads, whatever the filters say. A lead
belongs to every reserve it lies in (``lead_reserves``, :meth:`Workspace.lead_memberships`):
the rights and the reserve filter match any of them, not only the winning one; each row
carries them as ``reserve_codes``, winner first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.schema import STATUS_LABELS, Status
from pipelines.errors import NotFoundError
from pipelines.publish.views import leads_view
from pipelines.rights import readable_areas, readable_reserves, require_read
from pipelines.store.base import Workspace
from pipelines.users import User

__all__ = ["API_FIELDS", "NO_RESERVE", "OUTSIDE_CODE", "LeadCatalog", "LeadQuery", "query_codes"]

log = logging.getLogger(__name__)

#: Reserve "code" naming the leads outside every reserve (or not classified yet).
OUTSIDE_CODE = "outside"
#: How the catalog marks those leads inside: a text with a control character, which no
#: stored code can hold (they are removed on the way in), so that a reserve coded
#: ``outside`` stays itself and its editor never reads the leads outside every reserve.
#: (Not a NUL: numpy drops trailing NULs from strings.)
NO_RESERVE = "\x1f(no reserve)"


def query_codes(codes: tuple[str, ...]) -> tuple[str, ...]:
    """Reserve codes of an API query as the catalog marks them (``outside``: none)."""
    return tuple(NO_RESERVE if code == OUTSIDE_CODE else code for code in codes)
#: Lead attributes the API returns, in this order (those the view has).
API_FIELDS: tuple[str, ...] = (
    "lead_id", "batch", "first_batch", "rounds", "activity_type", "change_type",
    "area_m2", "date_before", "date_after", "county_name", "county_adcode",
    "reserve_code", "reserve_name", "reserve_level", "zone", "zone_label", "overlaps",
    "wetland_names", "mine_ids", "near_boundary", "dist_boundary_m", "status",
    "status_label", "version", "reason", "responsible_unit", "measures", "deadline",
    "updated_at", "updated_by", "note",
)  # fmt: skip
_STATUS_COLUMNS = (
    "status", "version", "reason", "responsible_unit", "measures", "deadline",
    "updated_at", "updated_by",
)  # fmt: skip
_CHUNK = 500


@dataclass(frozen=True)
class LeadQuery:
    """Filters of a lead query; empty tuples mean "any".

    Parameters
    ----------
    bbox
        ``(minx, miny, maxx, maxy)`` in EPSG:4490 degrees: leads whose extent meets it.
    status
        Status codes.
    reserve
        Reserve codes (:data:`NO_RESERVE` for leads outside every reserve).
    batch
        Batch names.
    lead_id
        Lead ids.
    """

    bbox: tuple[float, float, float, float] | None = None
    status: tuple[str, ...] = ()
    reserve: tuple[str, ...] = ()
    batch: tuple[str, ...] = ()
    lead_id: tuple[str, ...] = ()


@dataclass
class _State:
    view: gpd.GeoDataFrame
    bounds: np.ndarray  # (n, 4) minx, miny, maxx, maxy
    position: dict[str, int]
    reserve: np.ndarray  # reserve code per lead, NO_RESERVE when none
    member_pos: np.ndarray  # (lead position, reserve code) of every membership; leads in
    member_code: np.ndarray  # no reserve once with NO_RESERVE
    member_names: dict[str, str]  # reserve code -> name
    signature: tuple[Any, ...]
    history_mark: int
    generation: int


class LeadCatalog:
    """The leads view of one workspace, shared by the request threads of the web app.

    Examples
    --------
    >>> catalog = LeadCatalog()
    >>> page, total = catalog.select(ws, user, LeadQuery(status=("problem",)))  # doctest: +SKIP
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._state: _State | None = None
        self._generation = 0

    # -- freshness ------------------------------------------------------------------
    @staticmethod
    def _signature(ws: Workspace) -> tuple[Any, ...]:
        return ws.leads_signature()

    @staticmethod
    def _history_mark(ws: Workspace) -> int:
        return ws.last_history_id() or 0

    def _load(self, ws: Workspace, signature: tuple[Any, ...], mark: int) -> _State:
        view = leads_view(ws).sort_values("lead_id", kind="stable").reset_index(drop=True)
        geoms = view.geometry.values
        bounds = shapely.bounds(np.asarray(geoms, dtype=object))
        reserve = view["reserve_code"].astype(object).where(view["reserve_code"].notna(),
                                                             NO_RESERVE).to_numpy()
        position = {lid: k for k, lid in enumerate(view["lead_id"])}
        members = ws.lead_memberships()
        pos = members["lead_id"].map(position)
        members, pos = members[pos.notna()], pos[pos.notna()].astype("int64").to_numpy()
        codes = members["reserve_code"].astype(str).to_numpy(dtype=object)
        alone = np.setdiff1d(np.flatnonzero(reserve == NO_RESERVE), pos)
        member_pos = np.concatenate([pos, alone]).astype("int64")
        member_code = np.concatenate([codes, np.full(len(alone), NO_RESERVE, dtype=object)])
        per_lead: list[list[str]] = [[] for _ in range(len(view))]
        for k, code in zip(pos.tolist(), codes.tolist(), strict=True):
            per_lead[k].append(code)  # winner first (lead_memberships' order)
        view["reserve_codes"] = [tuple(c) for c in per_lead]
        self._generation += 1
        log.info("loaded %d leads from %s", len(view), ws.location)
        names = dict(zip(codes.tolist(), members["reserve_name"].tolist(), strict=True))
        return _State(view, bounds, position, reserve, member_pos, member_code, names,
                      signature, mark, self._generation)

    @staticmethod
    def _in_reserves(state: _State, codes: Sequence[str]) -> np.ndarray:
        """Mask of the leads lying in any reserve of ``codes`` (NO_RESERVE: in none)."""
        mask = np.zeros(len(state.view), dtype=bool)
        hit = np.isin(state.member_code, list(codes))
        mask[state.member_pos[hit]] = True
        return mask

    def _patch(self, ws: Workspace, state: _State, mark: int) -> None:
        """Re-read ``lead_status`` of the leads whose history grew since the last mark."""
        ids = ws.leads_changed_since(state.history_mark)
        view = state.view
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            rows = ws.read_table_in("lead_status", "lead_id", chunk)
            for row in rows.to_dict("records"):
                k = state.position.get(row["lead_id"])
                if k is None:
                    continue
                for column in _STATUS_COLUMNS:
                    view.at[k, column] = row[column]
                view.at[k, "status_label"] = STATUS_LABELS[Status(row["status"])]
        state.history_mark = mark
        log.debug("refreshed the status of %d leads", len(ids))

    @contextmanager
    def fresh(self, ws: Workspace) -> Iterator[_State]:
        """Hold the catalog's lock and yield its state, brought up to date first.

        The workspace's marks are read before taking the lock (a read may wait for a
        writer's commit, and must not hold up the other requests meanwhile).
        """
        signature = self._signature(ws)
        mark = self._history_mark(ws)
        with self._lock:
            state = self._state
            if state is None or state.signature != signature:
                state = self._state = self._load(ws, signature, mark)
            elif mark > state.history_mark:
                self._patch(ws, state, mark)
            yield state

    def generation(self, ws: Workspace) -> int:
        """A number that changes whenever the leads are read anew (for caches of pages)."""
        with self.fresh(ws) as state:
            return state.generation

    # -- queries --------------------------------------------------------------------
    @staticmethod
    def _mask(state: _State, user: User, query: LeadQuery) -> np.ndarray:
        view = state.view
        mask = np.ones(len(view), dtype=bool)
        areas = readable_areas(user)
        allowed = readable_reserves(user)
        if areas is not None:  # a reviewer: the leads whose county lies in their area
            county = view["county_adcode"]
            mask &= (county.notna() & county.astype(str).str.startswith(
                tuple(sorted(areas)) or ("\0",))).to_numpy()
        elif allowed is not None:
            mask &= LeadCatalog._in_reserves(state, list(allowed))
        if query.reserve:
            mask &= LeadCatalog._in_reserves(state, list(query.reserve))
        if query.status:
            mask &= view["status"].isin(query.status).to_numpy()
        if query.batch:
            mask &= view["batch"].isin(query.batch).to_numpy()
        if query.lead_id:
            mask &= view["lead_id"].isin(query.lead_id).to_numpy()
        if query.bbox is not None:
            minx, miny, maxx, maxy = query.bbox
            b = state.bounds
            mask &= (b[:, 0] <= maxx) & (b[:, 2] >= minx) & (b[:, 1] <= maxy) & (b[:, 3] >= miny)
        return mask

    def select(
        self,
        ws: Workspace,
        user: User,
        query: LeadQuery,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> tuple[gpd.GeoDataFrame, int]:
        """Return one page of the leads ``user`` may read that match ``query``, and the total.

        Leads are ordered by id, so that pages do not overlap.

        Parameters
        ----------
        ws : Workspace
            The workspace.
        user : User
            Whose rights restrict the leads.
        query : LeadQuery
            The filters.
        limit : int, optional
            Page size; None for every matching lead.
        offset : int
            Matching leads skipped before the page.
        """
        with self.fresh(ws) as state:
            rows = np.flatnonzero(self._mask(state, user, query))
            total = len(rows)
            stop = None if limit is None else offset + limit
            page = state.view.iloc[rows[offset:stop]].copy()
        return page, total

    def lead(self, ws: Workspace, user: User, lead_id: str) -> dict[str, Any]:
        """Return one lead's attributes (and ``geometry``) if ``user`` may read it.

        Parameters
        ----------
        ws : Workspace
            The workspace.
        user : User
            Whose rights are checked.
        lead_id : str
            The lead.

        Raises
        ------
        NotFoundError
            When there is no such lead.
        PermissionDeniedError
            When it belongs to a reserve the user may not read.
        """
        with self.fresh(ws) as state:
            k = state.position.get(lead_id)
            if k is None:
                raise NotFoundError(f"no lead {lead_id!r} in the workspace")
            row = state.view.iloc[k].to_dict()
            row["reserve_code"] = None if state.reserve[k] == NO_RESERVE else state.reserve[k]
        require_read(user, row)
        return row

    def reserve_counts(self, ws: Workspace, user: User) -> pd.DataFrame:
        """Return leads per reserve and status among those ``user`` may read.

        A lead inside several reserves counts in each of them. Columns: ``reserve_code``
        (None for none), ``reserve_name``, ``status``, ``count``.
        """
        with self.fresh(ws) as state:
            mask = self._mask(state, user, LeadQuery())
            allowed = readable_reserves(user)
            keep = mask[state.member_pos]
            if allowed is not None and readable_areas(user) is None:
                keep &= np.isin(state.member_code, list(allowed))  # only its own reserves
            pos, code = state.member_pos[keep], state.member_code[keep]
            names = state.member_names
            frame = pd.DataFrame({
                "reserve_code": [None if c == NO_RESERVE else c for c in code],
                "reserve_name": [None if c == NO_RESERVE else names.get(c, c) for c in code],
                "status": state.view["status"].to_numpy()[pos],
            })
        frame["reserve_name"] = frame["reserve_name"].fillna("保护区外")
        return (frame.groupby(["reserve_code", "reserve_name", "status"], dropna=False)
                .size().rename("count").reset_index())

    def activities(self, ws: Workspace) -> list[str]:
        """Return the raw activity types of point leads (for the legend of the page)."""
        with self.fresh(ws) as state:
            view = state.view
            points = view[view.geom_type.isin(["Point", "MultiPoint"])]
            return sorted({str(v) for v in points["activity_type"].dropna()})

    def bounds(self, ws: Workspace) -> tuple[float, float, float, float] | None:
        """Return the extent of all leads, or None without leads."""
        with self.fresh(ws) as state:
            b = state.bounds
            if not len(b) or np.isnan(b).all():
                return None
            return (float(np.nanmin(b[:, 0])), float(np.nanmin(b[:, 1])),
                    float(np.nanmax(b[:, 2])), float(np.nanmax(b[:, 3])))


def api_properties(row: dict[str, Any], fields: Sequence[str] = API_FIELDS) -> dict[str, Any]:
    """Return a lead's API attributes as plain JSON values (NaN -> None, numpy -> Python)."""
    out: dict[str, Any] = {}
    for name in fields:
        if name not in row:
            continue
        value = row[name]
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and value != value:
            value = None
        elif value is pd.NA or value is pd.NaT:
            value = None
        out[name] = value
    return out
