"""Leads counted per grid cell and status, and the lead queries of the web app, from
``lead_keys``.

A zoomed-out map cannot draw 10^6 leads; it draws the counts of the leads in each cell of
a lon/lat grid, by status. The counts come from one GROUP BY over ``lead_keys``, a compact
table of each lead's centre, extent, activity, batch and whether it is a point (``point``:
1 for a Point, whose centre is the point itself, 2 for a MultiPoint, 0 else; a few
dozen bytes a lead, indexed on the centre), joined to ``lead_class`` and ``lead_status``
by their keys: no geometry is read on the request path. The web app also pages its leads
through it (:func:`select_lead_ids`: filters and rights in SQL, then only the page's
leads read), takes the filter choices of its page from it (:func:`key_summary`) and the
reserve counts (:func:`reserve_status_counts`), so that no request holds every lead.

``lead_keys`` is derived data. :func:`refresh_lead_keys` rebuilds it when the workspace's
lead signature (:meth:`~pipelines.store.queries.JobQueries.leads_signature`: runs and the
largest lead ``fid``) differs from the one recorded beside it in ``meta``; status changes
need no rebuild, since the status is joined at query time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    from pipelines.store.base import Workspace

__all__ = [
    "KEYS_TABLE",
    "CellQuery",
    "cell_counts",
    "cell_size",
    "key_rows",
    "key_summary",
    "refresh_lead_keys",
    "reserve_status_counts",
    "select_lead_ids",
]

log = logging.getLogger(__name__)

#: The table of lead centres.
KEYS_TABLE = "lead_keys"
_SIGNATURE = "lead_keys_signature"
_REACH = "lead_keys_reach"
#: Bumped when the table's columns change (an old table is rebuilt).
_LAYOUT = 3
_WRITE_ROWS = 50_000
_COLUMNS = ("lead_id", "x", "y", "minx", "miny", "maxx", "maxy", "activity_type", "batch",
            "point")
#: Statuses whose deadline can be overdue (a rectification not done).
OVERDUE_STATUSES = ("problem", "rectifying")


def cell_size(zoom: int) -> float:
    """Return the side in degrees of the grid cells at web-map ``zoom``: a quarter tile.

    Examples
    --------
    >>> cell_size(0), cell_size(4)
    (90.0, 5.625)
    """
    return 360.0 / 2 ** max(0, int(zoom)) / 4


@dataclass(frozen=True)
class CellQuery:
    """Filters of a lead-key query; empty tuples mean "any".

    Parameters
    ----------
    bbox
        ``(minx, miny, maxx, maxy)`` in degrees: leads whose centre lies inside.
    meets
        ``(minx, miny, maxx, maxy)``: leads whose extent meets it.
    status, activity, batch, zone, lead_id
        Allowed values of those columns (None in activity, batch, zone: empty).
    reserve
        Reserve codes: leads lying in one of them (every membership, as the rights);
        None in it stands for the leads outside every reserve.
    overdue_on
        An ISO date: only leads still to rectify whose deadline is before it.
    """

    bbox: tuple[float, float, float, float] | None = None
    meets: tuple[float, float, float, float] | None = None
    status: tuple[str, ...] = ()
    activity: tuple[str | None, ...] = ()
    batch: tuple[str | None, ...] = ()
    reserve: tuple[str | None, ...] = ()
    zone: tuple[str | None, ...] = ()
    lead_id: tuple[str, ...] = ()
    overdue_on: str | None = None


def _signature_text(ws: Workspace) -> str:
    return repr((_LAYOUT, ws.leads_signature()))


def _empty_keys() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in _COLUMNS})


def _centres(ws: Workspace) -> pd.DataFrame:
    """Each lead's keys, read ``_WRITE_ROWS`` fids at a time."""
    fids = ws.lead_fids()
    parts = [_centres_of(ws.read_features_fid_range(
        "leads", int(lo), int(lo) + _WRITE_ROWS, columns=["lead_id", "activity_type", "batch"]))
        for lo in range(int(fids.min()), int(fids.max()) + 1, _WRITE_ROWS)] if len(fids) else []
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else _empty_keys()


def _centres_of(leads: pd.DataFrame) -> pd.DataFrame:
    geoms = np.asarray(leads.geometry.values, dtype=object)
    bounds = shapely.bounds(geoms)  # NaN for empty or missing geometries
    kinds = shapely.get_type_id(geoms)
    return pd.DataFrame({
        "lead_id": leads["lead_id"].astype(str).to_numpy(),
        "x": (bounds[:, 0] + bounds[:, 2]) / 2,
        "y": (bounds[:, 1] + bounds[:, 3]) / 2,
        "minx": bounds[:, 0], "miny": bounds[:, 1], "maxx": bounds[:, 2], "maxy": bounds[:, 3],
        "activity_type": leads["activity_type"].to_numpy() if "activity_type" in leads
        else None,
        "batch": leads["batch"].to_numpy() if "batch" in leads else None,
        "point": np.select([kinds == 0, kinds == 4], [1, 2], 0),  # Point 1, MultiPoint 2
    })


def refresh_lead_keys(ws: Workspace, *, force: bool = False) -> bool:
    """Rebuild ``lead_keys`` if the leads changed since it was built; return True if rebuilt.

    Every lead gets a row; one without a geometry has no centre (it is in no cell, and no
    box meets it).

    Parameters
    ----------
    ws : Workspace
        The workspace (an open one; the rebuild is one transaction).
    force : bool
        Rebuild whatever the recorded signature says.
    """
    signature = _signature_text(ws)
    if not force and ws.meta_value(_SIGNATURE) == signature and ws._has_table(KEYS_TABLE):
        return False
    frame = _centres(ws) if ws.has_layer("leads") else _empty_keys()
    half_w = float(np.nanmax((frame["maxx"] - frame["minx"]).astype(float)) / 2) \
        if frame["x"].astype(float).notna().any() else 0.0
    half_h = float(np.nanmax((frame["maxy"] - frame["miny"]).astype(float)) / 2) \
        if frame["y"].astype(float).notna().any() else 0.0
    with ws.transaction():
        ws.execute(f'DROP TABLE IF EXISTS "{KEYS_TABLE}"')
        real = "DOUBLE PRECISION"
        ws.execute(f'CREATE TABLE "{KEYS_TABLE}" ("lead_id" TEXT PRIMARY KEY, "x" {real}, '
                   f'"y" {real}, "minx" {real}, "miny" {real}, "maxx" {real}, "maxy" {real}, '
                   '"activity_type" TEXT, "batch" TEXT, "point" INTEGER)')
        names = ", ".join(f'"{c}"' for c in _COLUMNS)
        insert = (f'INSERT INTO "{KEYS_TABLE}" ({names}) '
                  f'VALUES ({", ".join("?" * len(_COLUMNS))})')
        cols = frame[list(_COLUMNS)].astype(object)  # Python numbers, not numpy scalars
        rows = list(cols.where(cols.notna(), None).itertuples(index=False, name=None))
        for start in range(0, len(rows), _WRITE_ROWS):
            ws._executemany(insert, rows[start:start + _WRITE_ROWS])
        ws.execute(f'CREATE INDEX "{KEYS_TABLE}_xy" ON "{KEYS_TABLE}" ("x", "y")')
        ws.set_meta_value(_REACH, json.dumps([half_w, half_h]))
        ws.set_meta_value(_SIGNATURE, signature)
    log.info("lead_keys rebuilt: %d leads", len(rows))
    return True


def _in(column: str, values: Sequence[Any], params: list[Any]) -> str:
    named = [v for v in values if v is not None]
    parts = []
    if named:
        parts.append(f'{column} IN ({", ".join("?" * len(named))})')
        params.extend(named)
    if len(named) < len(values):
        parts.append(f"{column} IS NULL")
    return "(" + " OR ".join(parts) + ")" if parts else "1 = 0"


def _members_sql(ws: Workspace, codes: Collection[str | None], params: list[Any]) -> str:
    """Condition: the lead ``k`` lies in one of ``codes`` (None: in no reserve)."""
    codes = list(codes)
    own = _in('c."reserve_code"', codes, params)
    named = [c for c in codes if c is not None]
    if named and ws._has_table("lead_reserves"):
        marks = ", ".join("?" * len(named))
        own = (f'({own} OR EXISTS (SELECT 1 FROM "lead_reserves" m WHERE '
               f'm."lead_id" = k."lead_id" AND m."reserve_code" IN ({marks})))')
        params.extend(named)
    return own


def _rights_sql(
    ws: Workspace, reserves: Collection[str | None] | None,
    county_prefixes: Collection[str] | None, params: list[Any],
) -> list[str]:
    """Conditions of the caller's rights: their reserves (every membership), or counties."""
    where = []
    if county_prefixes is not None:
        prefixes = sorted(county_prefixes)
        where.append("(" + (" OR ".join(['c."county_adcode" LIKE ?'] * len(prefixes))
                            or "1 = 0") + ")")
        params.extend(f"{p}%" for p in prefixes)
    elif reserves is not None:
        where.append(_members_sql(ws, reserves, params))
    return where


def _reach(ws: Workspace) -> tuple[float, float]:
    try:
        w, h = json.loads(ws.meta_value(_REACH) or "[0, 0]")
        return float(w), float(h)
    except (ValueError, TypeError):
        return 180.0, 90.0  # unknown: every centre may belong to a meeting extent


def _where(
    ws: Workspace, query: CellQuery, reserves: Collection[str | None] | None,
    county_prefixes: Collection[str] | None, params: list[Any],
) -> list[str]:
    """The SQL conditions of ``query`` and the rights over ``lead_keys k``, ``lead_class
    c`` and ``lead_status s``."""
    where: list[str] = []
    if query.bbox is not None:
        where.append('k."x" BETWEEN ? AND ? AND k."y" BETWEEN ? AND ?')
        minx, miny, maxx, maxy = (float(v) for v in query.bbox)
        params += [minx, maxx, miny, maxy]
    if query.meets is not None:  # the centre near the box (the index), then the extent
        minx, miny, maxx, maxy = (float(v) for v in query.meets)
        half_w, half_h = _reach(ws)
        where.append('k."x" BETWEEN ? AND ? AND k."y" BETWEEN ? AND ? AND k."maxx" >= ? '
                     'AND k."minx" <= ? AND k."maxy" >= ? AND k."miny" <= ?')
        params += [minx - half_w, maxx + half_w, miny - half_h, maxy + half_h,
                   minx, maxx, miny, maxy]
    if query.status:
        where.append(_in("COALESCE(s.\"status\", 'pending')", query.status, params))
    if query.activity:
        where.append(_in('k."activity_type"', query.activity, params))
    if query.batch:
        where.append(_in('k."batch"', query.batch, params))
    if query.reserve:
        where.append(_members_sql(ws, query.reserve, params))
    if query.zone:
        where.append(_in('c."zone"', query.zone, params))
    if query.lead_id:
        where.append(_in('k."lead_id"', query.lead_id, params))
    if query.overdue_on is not None:
        where.append(_in('s."status"', OVERDUE_STATUSES, params))
        where.append('s."deadline" IS NOT NULL AND s."deadline" < ?')
        params.append(query.overdue_on)
    return where + _rights_sql(ws, reserves, county_prefixes, params)


_JOINS = (f'FROM "{KEYS_TABLE}" k LEFT JOIN "lead_class" c ON c."lead_id" = k."lead_id" '
          'LEFT JOIN "lead_status" s ON s."lead_id" = k."lead_id"')


def cell_counts(
    ws: Workspace, zoom: int, query: CellQuery | None = None, *,
    reserves: Collection[str | None] | None = None,
    county_prefixes: Collection[str] | None = None,
) -> pd.DataFrame:
    """Count the leads per grid cell (:func:`cell_size` of ``zoom``) and status.

    Parameters
    ----------
    ws : Workspace
        The workspace; ``lead_keys`` is brought up to date first.
    zoom : int
        Web-map zoom whose cell size to use.
    query : CellQuery, optional
        Filters.
    reserves : collection of str or None, optional
        The caller's readable reserves (None in it: leads outside every reserve); None for
        every lead. A lead listed in ``lead_reserves`` under one of them counts too.
    county_prefixes : collection of str, optional
        A reviewer's area: leads whose county code starts with one of these (overrides
        ``reserves``).

    Returns
    -------
    pandas.DataFrame
        Columns ``ix``, ``iy`` (cell column and row from 180°W, 90°S), ``status``, ``n``
        and ``x``, ``y`` (the mean centre of those leads).
    """
    refresh_lead_keys(ws)
    query = query or CellQuery()
    size = cell_size(zoom)
    params: list[Any] = [size, size]
    where = ['k."x" IS NOT NULL', *_where(ws, query, reserves, county_prefixes, params)]
    floor = "FLOOR" if ws.kind == "postgis" else ""  # SQLite's CAST truncates already
    sql = f"""
        SELECT CAST({floor}((k."x" + 180.0) / ?) AS INTEGER) AS ix,
               CAST({floor}((k."y" + 90.0) / ?) AS INTEGER) AS iy,
               COALESCE(s."status", 'pending') AS status, COUNT(*) AS n,
               AVG(k."x") AS x, AVG(k."y") AS y
        {_JOINS}
        WHERE {" AND ".join(where)}
        GROUP BY 1, 2, 3
    """
    frame = ws.query(sql, params)
    if frame.empty:
        return pd.DataFrame({"ix": pd.Series(dtype=int), "iy": pd.Series(dtype=int),
                             "status": pd.Series(dtype=object), "n": pd.Series(dtype=int),
                             "x": pd.Series(dtype=float), "y": pd.Series(dtype=float)})
    return frame.astype({"ix": int, "iy": int, "n": int, "x": float, "y": float})


def select_lead_ids(
    ws: Workspace, query: CellQuery | None = None, *,
    reserves: Collection[str | None] | None = None,
    county_prefixes: Collection[str] | None = None,
    limit: int | None = None, offset: int = 0,
) -> tuple[list[str], int]:
    """Return one page of the ids of the leads matching ``query`` (by id) and their number.

    Parameters
    ----------
    ws : Workspace
        The workspace; ``lead_keys`` is brought up to date first.
    query : CellQuery, optional
        Filters.
    reserves, county_prefixes
        The caller's rights, as for :func:`cell_counts`.
    limit : int, optional
        Page size; None for every match.
    offset : int
        Matches skipped before the page.
    """
    refresh_lead_keys(ws)
    query = query or CellQuery()
    params: list[Any] = []
    where = _where(ws, query, reserves, county_prefixes, params)
    clause = f'WHERE {" AND ".join(where)}' if where else ""
    total = int(ws.execute(f"SELECT COUNT(*) {_JOINS} {clause}", params).fetchone()[0])
    page, more = "", []
    if limit is not None:
        page, more = " LIMIT ? OFFSET ?", [int(limit), int(offset)]
    elif offset:
        page = " OFFSET ?" if ws.kind == "postgis" else " LIMIT -1 OFFSET ?"
        more = [int(offset)]
    rows = ws.execute(f'SELECT k."lead_id" {_JOINS} {clause} ORDER BY k."lead_id"{page}',
                      [*params, *more]).fetchall()
    return [str(r[0]) for r in rows], total


def key_rows(
    ws: Workspace, query: CellQuery | None = None, *,
    reserves: Collection[str | None] | None = None,
    county_prefixes: Collection[str] | None = None,
) -> pd.DataFrame:
    """Return the keys of the leads matching ``query`` with their class and status columns.

    Columns ``lead_id``, ``x``, ``y``, ``point``, ``status``, ``batch``, ``activity_type``,
    ``reserve_code``, ``zone``, ``version``: what a vector tile holds of a lead, its
    geometry too where ``point`` is 1 (the centre is the point).

    Parameters
    ----------
    ws : Workspace
        The workspace.
    query : CellQuery, optional
        The filters (as for :func:`select_lead_ids`); None: every lead.
    reserves : collection of str or None, optional
        Only the leads lying in these reserves (None inside: outside every reserve).
    county_prefixes : collection of str, optional
        Only the leads of counties whose adcode starts with one of these.
    """
    refresh_lead_keys(ws)
    params: list[Any] = []
    where = _where(ws, query or CellQuery(), reserves, county_prefixes, params)
    clause = f'WHERE {" AND ".join(where)}' if where else ""
    return ws.query(f"""
        SELECT k."lead_id" AS lead_id, k."x" AS x, k."y" AS y, k."point" AS point,
               COALESCE(s."status", 'pending') AS status, k."batch" AS batch,
               k."activity_type" AS activity_type, c."reserve_code" AS reserve_code,
               c."zone" AS zone, s."version" AS version
        {_JOINS} {clause} ORDER BY k."lead_id"
    """, params)


def key_summary(
    ws: Workspace, *, reserves: Collection[str | None] | None = None,
    county_prefixes: Collection[str] | None = None,
) -> dict[str, Any]:
    """Return what a map page needs to know of the leads one may read, without reading them.

    Parameters
    ----------
    ws : Workspace
        The workspace; ``lead_keys`` is brought up to date first.
    reserves, county_prefixes
        The caller's rights, as for :func:`cell_counts`.

    Returns
    -------
    dict
        ``total``; ``bounds`` (minx, miny, maxx, maxy of their extents, or None);
        ``combos``: a frame of ``batch``, ``activity_type``, ``point``, ``zone``,
        ``outside`` (1 for leads in no reserve) and ``n``; ``reserves``: a frame of the
        ``reserve_code`` and ``reserve_name`` the leads lie in.
    """
    refresh_lead_keys(ws)
    params: list[Any] = []
    where = _where(ws, CellQuery(), reserves, county_prefixes, params)
    clause = f'WHERE {" AND ".join(where)}' if where else ""
    combos = ws.query(f"""
        SELECT k."batch" AS batch, k."activity_type" AS activity_type, k."point" AS point,
               c."zone" AS zone, CASE WHEN c."reserve_code" IS NULL THEN 1 ELSE 0 END
               AS outside, COUNT(*) AS n, MIN(k."minx") AS minx, MIN(k."miny") AS miny,
               MAX(k."maxx") AS maxx, MAX(k."maxy") AS maxy
        {_JOINS} {clause} GROUP BY 1, 2, 3, 4, 5""", params)
    total = int(combos["n"].sum()) if len(combos) else 0
    box = combos[["minx", "miny", "maxx", "maxy"]].astype(float)
    bounds = None if box.isna().all().all() else (
        float(box["minx"].min()), float(box["miny"].min()),
        float(box["maxx"].max()), float(box["maxy"].max()))
    names = _reserve_names(ws, reserves, county_prefixes)
    return {"total": total, "bounds": bounds, "reserves": names,
            "combos": combos.drop(columns=["minx", "miny", "maxx", "maxy"])}


def _memberships_sql(ws: Workspace) -> str:
    """Every (lead, reserve) membership: ``lead_reserves`` and the winners of lead_class."""
    winners = ('SELECT c."lead_id" AS lead_id, c."reserve_code" AS reserve_code, '
               'c."reserve_name" AS reserve_name FROM "lead_class" c '
               'WHERE c."reserve_code" IS NOT NULL')
    if not ws._has_table("lead_reserves"):
        return winners
    return ('SELECT m."lead_id" AS lead_id, m."reserve_code" AS reserve_code, '
            'm."reserve_name" AS reserve_name FROM "lead_reserves" m '
            'WHERE m."reserve_code" IS NOT NULL UNION ' + winners)


def _membership_rights(
    ws: Workspace, reserves: Collection[str | None] | None,
    county_prefixes: Collection[str] | None, params: list[Any],
) -> list[str]:
    """Conditions on memberships ``m``: a reviewer's counties, else an editor's reserves."""
    if county_prefixes is not None:
        return _rights_sql(ws, None, county_prefixes, params)
    if reserves is not None:
        return [_in('m."reserve_code"', [c for c in reserves if c is not None] or [None],
                    params)]
    return ["1 = 1"]


def _reserve_names(
    ws: Workspace, reserves: Collection[str | None] | None,
    county_prefixes: Collection[str] | None,
) -> pd.DataFrame:
    params: list[Any] = []
    where = _membership_rights(ws, reserves, county_prefixes, params)
    return ws.query(f"""
        SELECT m."reserve_code" AS reserve_code, MIN(m."reserve_name") AS reserve_name
        FROM ({_memberships_sql(ws)}) m LEFT JOIN "lead_class" c ON c."lead_id" = m."lead_id"
        WHERE {" AND ".join(where)} GROUP BY 1 ORDER BY 1""", params)


def reserve_status_counts(
    ws: Workspace, *, reserves: Collection[str | None] | None = None,
    county_prefixes: Collection[str] | None = None,
) -> pd.DataFrame:
    """Count the leads one may read per reserve they lie in and status.

    A lead inside several reserves counts in each; the leads outside every reserve count
    under ``reserve_code`` None (only for callers who read them).

    Parameters
    ----------
    ws : Workspace
        The workspace; ``lead_keys`` is brought up to date first.
    reserves, county_prefixes
        The caller's rights, as for :func:`cell_counts`; an editor counts only their own
        reserves' memberships.

    Returns
    -------
    pandas.DataFrame
        Columns ``reserve_code``, ``reserve_name``, ``status``, ``count``.
    """
    refresh_lead_keys(ws)
    params: list[Any] = []
    where = _membership_rights(ws, reserves, county_prefixes, params)
    members = ws.query(f"""
        SELECT m."reserve_code" AS reserve_code, MIN(m."reserve_name") AS reserve_name,
               COALESCE(s."status", 'pending') AS status, COUNT(*) AS count
        FROM ({_memberships_sql(ws)}) m LEFT JOIN "lead_class" c ON c."lead_id" = m."lead_id"
        LEFT JOIN "lead_status" s ON s."lead_id" = m."lead_id"
        WHERE {" AND ".join(where)} GROUP BY 1, 3""", params)
    frames = [members]
    if reserves is None or county_prefixes is not None or None in reserves:
        params = []
        rights = _rights_sql(ws, None, county_prefixes, params)
        none = _members_sql(ws, [None], [])
        lone = ('NOT EXISTS (SELECT 1 FROM "lead_reserves" x WHERE x."lead_id" = k."lead_id")'
                if ws._has_table("lead_reserves") else "1 = 1")
        frames.append(ws.query(f"""
            SELECT NULL AS reserve_code, NULL AS reserve_name,
                   COALESCE(s."status", 'pending') AS status, COUNT(*) AS count
            {_JOINS} WHERE {" AND ".join([none, lone, *rights])} GROUP BY 3""", params))
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["reserve_code", "reserve_name", "status", "count"])
    out = pd.concat(frames, ignore_index=True)
    out["count"] = out["count"].astype(int)
    return out
