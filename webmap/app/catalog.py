"""What the web app knows of the leads: read from the store per request, never all at once.

A national workspace holds 10^6 leads; reading them all (the leads view) takes half a
minute and gigabytes, so no request does. :class:`LeadCatalog` pages the leads through
``lead_keys`` (:mod:`pipelines.store.cells`): the filters and the caller's rights are SQL
over that index table and ``lead_class`` / ``lead_status``, and only the page's leads are
read, with their classification, status and reserve memberships. The page's bounds and
filter choices come from a summary of ``lead_keys`` kept until the leads change (the
workspace's lead signature: runs and the largest lead ``fid``); status changes need
nothing refreshed, since every query reads the status afresh.

Every query goes through the caller's rights (:func:`pipelines.rights.readable_reserves`):
an editor's queries never see another reserve's leads, whatever the filters say. A lead
belongs to every reserve it lies in (``lead_reserves``, :meth:`Workspace.lead_memberships`):
the rights and the reserve filter match any of them, not only the winning one; each row
carries them as ``reserve_codes``, winner first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.schema import STATUS_LABELS, Status
from pipelines.errors import NotFoundError
from pipelines.rights import readable_areas, readable_reserves, require_read
from pipelines.store.base import Workspace
from pipelines.store.cells import (
    CellQuery,
    key_summary,
    refresh_lead_keys,
    reserve_status_counts,
    select_lead_ids,
)
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


Rights = tuple[frozenset[str | None] | None, frozenset[str] | None]


def user_rights(user: User) -> Rights:
    """``(reserves, county_prefixes)`` of :mod:`pipelines.store.cells` for ``user``.

    A reviewer reads by county (their area), an editor the leads lying in their reserves,
    the others every lead (both None).
    """
    areas = readable_areas(user)
    allowed = readable_reserves(user)
    if areas is not None:
        return None, frozenset(areas)
    return (None if allowed is None else frozenset(allowed)), None


def _plain_code(code: str) -> str | None:
    return None if code == NO_RESERVE else code


def key_query(query: LeadQuery, **more: Any) -> CellQuery:
    """The :class:`~pipelines.store.cells.CellQuery` of a lead query (bbox: extents
    meeting it), with ``more`` of its fields."""
    fields: dict[str, Any] = {"meets": query.bbox, "status": query.status,
                              "batch": query.batch, "lead_id": query.lead_id,
                              "reserve": tuple(_plain_code(c) for c in query.reserve)}
    return CellQuery(**{**fields, **more})


class LeadCatalog:
    """The leads of one workspace as the request threads of the web app read them.

    Parameters
    ----------
    write_lock : threading.Lock, optional
        Held while ``lead_keys`` is rebuilt (a write), as by the app's status changes.

    Examples
    --------
    >>> catalog = LeadCatalog()
    >>> page, total = catalog.select(ws, user, LeadQuery(status=("problem",)))  # doctest: +SKIP
    """

    def __init__(self, write_lock: Any = None) -> None:
        self.write_lock = write_lock
        self._lock = threading.Lock()
        self._signature: Any = None
        self._generations: dict[Any, int] = {}
        self._summaries: dict[Any, dict[str, Any]] = {}
        self._making: dict[Any, threading.Lock] = {}

    # -- freshness ------------------------------------------------------------------
    def fresh(self, ws: Workspace) -> Any:
        """Bring ``lead_keys`` up to date with the leads; return the lead signature."""
        signature = ws.leads_signature()
        if signature != self._signature:
            with self.write_lock or nullcontext(), self._lock:
                refresh_lead_keys(ws)
                if signature != self._signature:
                    self._summaries.clear()
                    self._making.clear()
                    self._generations.setdefault(signature, len(self._generations) + 1)
                    self._signature = signature
        return signature

    def generation(self, ws: Workspace) -> int:
        """A number that changes whenever the leads change (for caches of pages)."""
        signature = self.fresh(ws)
        with self._lock:
            return self._generations.setdefault(signature, len(self._generations) + 1)

    def summary(self, ws: Workspace, user: User | None = None) -> dict[str, Any]:
        """:func:`~pipelines.store.cells.key_summary` of the leads ``user`` may read (None:
        every lead), kept until the leads change."""
        rights = (None, None) if user is None else user_rights(user)
        signature = self.fresh(ws)
        key = (signature, rights)
        with self._lock:
            hit = self._summaries.get(key)
            making = self._making.setdefault(key, threading.Lock())
        if hit is None:
            with making:  # one request reads it, the others wait for it
                with self._lock:
                    hit = self._summaries.get(key)
                if hit is None:
                    hit = key_summary(ws, reserves=rights[0], county_prefixes=rights[1])
                    with self._lock:
                        self._summaries[key] = hit
        return hit

    # -- rows -----------------------------------------------------------------------
    @staticmethod
    def rows(ws: Workspace, lead_ids: Sequence[str]) -> gpd.GeoDataFrame:
        """Return the leads ``lead_ids`` with their class, status and ``reserve_codes``,
        in that order (ids not found are left out)."""
        parts, klasses, statuses, members = [], [], [], []
        ids = list(lead_ids)
        for start in range(0, max(len(ids), 1), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            parts.append(ws.read_features_in("leads", "lead_id", chunk))
            klasses.append(ws.read_table_in("lead_class", "lead_id", chunk))
            statuses.append(ws.read_table_in("lead_status", "lead_id", chunk))
            members.append(ws.lead_memberships(lead_ids=chunk))
        leads = pd.concat(parts, ignore_index=True)
        klass = pd.concat(klasses, ignore_index=True).drop(columns=["batch", "run_id"],
                                                            errors="ignore")
        status = pd.concat(statuses, ignore_index=True)
        area_sent = leads.pop("area_m2") if "area_m2" in leads else None
        view = leads.merge(klass, on="lead_id", how="left").merge(status, on="lead_id",
                                                                  how="left")
        if area_sent is not None:
            view["area_m2"] = (view["area_m2"].where(view["area_m2"].notna(), area_sent)
                               if "area_m2" in view else area_sent)
        view["status"] = view["status"].fillna(Status.PENDING.value)
        view["status_label"] = [STATUS_LABELS[Status(s)] for s in view["status"]]
        codes: dict[str, list[str]] = {}
        for lead, code in pd.concat(members, ignore_index=True)[
                ["lead_id", "reserve_code"]].itertuples(index=False, name=None):
            codes.setdefault(str(lead), []).append(str(code))  # winner first
        view["reserve_codes"] = [tuple(codes.get(str(lead), ())) for lead in view["lead_id"]]
        order = {lead: k for k, lead in enumerate(ids)}
        view = view.iloc[np.argsort([order.get(lead, len(ids)) for lead in view["lead_id"]],
                                    kind="stable")].reset_index(drop=True)
        return gpd.GeoDataFrame(view, geometry="geometry", crs=leads.crs)

    # -- queries --------------------------------------------------------------------
    def select(
        self,
        ws: Workspace,
        user: User,
        query: LeadQuery,
        *,
        limit: int | None = None,
        offset: int = 0,
        more: dict[str, Any] | None = None,
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
        more : dict, optional
            More fields of :class:`~pipelines.store.cells.CellQuery` (activity, zone...).
        """
        self.fresh(ws)
        reserves, counties = user_rights(user)
        ids, total = select_lead_ids(ws, key_query(query, **(more or {})), reserves=reserves,
                                     county_prefixes=counties, limit=limit, offset=offset)
        return self.rows(ws, ids), total

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
        rows = self.rows(ws, [lead_id])
        if rows.empty:
            raise NotFoundError(f"no lead {lead_id!r} in the workspace")
        row = rows.iloc[0].to_dict()
        if not isinstance(row.get("reserve_code"), str):
            row["reserve_code"] = None
        require_read(user, row)
        return row

    def reserve_counts(self, ws: Workspace, user: User) -> pd.DataFrame:
        """Return leads per reserve and status among those ``user`` may read.

        A lead inside several reserves counts in each of them. Columns: ``reserve_code``
        (None for none), ``reserve_name``, ``status``, ``count``.
        """
        signature = self.fresh(ws)
        rights = user_rights(user)
        key = ("reserves", signature, ws.last_history_id() or 0, rights)
        with self._lock:
            hit = self._summaries.get(key)
        if hit is not None:
            return hit["frame"].copy()
        frame = reserve_status_counts(ws, reserves=rights[0], county_prefixes=rights[1])
        frame["reserve_name"] = frame["reserve_name"].where(frame["reserve_code"].notna(),
                                                            "保护区外")
        frame["reserve_name"] = frame["reserve_name"].fillna(frame["reserve_code"])
        with self._lock:  # kept until the leads or a status change
            self._summaries = {k: v for k, v in self._summaries.items()
                               if k[0] != "reserves" or k[1:3] == key[1:3]}
            self._summaries[key] = {"frame": frame}
        return frame.copy()

    def activities(self, ws: Workspace) -> list[str]:
        """Return the raw activity types of point leads (for the legend of the page)."""
        combos = self.summary(ws)["combos"]
        points = combos[combos["point"].astype(int) > 0]
        return sorted({str(v) for v in points["activity_type"].dropna()})

    def bounds(self, ws: Workspace) -> tuple[float, float, float, float] | None:
        """Return the extent of all leads, or None without leads."""
        return self.summary(ws)["bounds"]

    def count(self, ws: Workspace) -> int:
        """Return the number of leads."""
        return int(self.summary(ws)["total"])


def reserve_filter(codes: Collection[str]) -> tuple[str | None, ...]:
    """Reserve codes of a query as :mod:`pipelines.store.cells` takes them (None: none)."""
    return tuple(_plain_code(c) for c in codes)


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
