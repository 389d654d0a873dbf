"""The statements lvdun's jobs need, named by what they do.

:class:`JobQueries` is mixed into :class:`~pipelines.store.base.Workspace`: the jobs in
``pipelines/ingest``, ``classify``, ``verify`` and ``publish`` call these methods instead
of writing SQL, so that every statement lives in the store. The SQL here is portable
(``?`` placeholders, quoted names); a backend overrides a method where its SQL differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipelines.errors import StoreError, WorkspaceError
from pipelines.escape import sql_identifier
from pipelines.store.layer_styles import StyleQueries
from pipelines.store.tables import TABLES, VERSION_TABLE

_WRITE_ROWS = 100_000  # rows converted and written at a time by replace_lead_class

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["JobQueries"]


class JobQueries(StyleQueries):
    """Named reads and writes of lvdun's jobs (a mixin of :class:`Workspace`)."""

    if TYPE_CHECKING:  # supplied by Workspace
        def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

        def query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame: ...

        def append_rows(self, table: str, frame: pd.DataFrame, *,
                        keep_id: bool = False) -> int: ...

        def read_features(self, layer: str, *, where: str = "",
                          params: Sequence[Any] = ()) -> gpd.GeoDataFrame: ...

        def read_table(self, table: str, *, where: str = "", params: Sequence[Any] = (),
                       order: str = "") -> pd.DataFrame: ...

        def count(self, name: str, where: str = "", params: Sequence[Any] = ()) -> int: ...

    # -- rows by one column ------------------------------------------------------------
    def count_equal(self, name: str, column: str, value: Any) -> int:
        """Return the number of rows of layer or table ``name`` whose ``column`` is ``value``.

        Parameters
        ----------
        name : str
            A layer or table.
        column : str
            One of its columns.
        value : Any
            The value to match (None matches nothing).
        """
        return self.count(name, f"{_name(column)} = ?", [value])

    def read_table_equal(self, table: str, column: str, value: Any, *,
                         order_by: str | None = None) -> pd.DataFrame:
        """Return the rows of ``table`` whose ``column`` is ``value``.

        Parameters
        ----------
        table : str
            An attribute table.
        column : str
            One of its columns.
        value : Any
            The value to match.
        order_by : str, optional
            A column to sort the rows by (ascending).
        """
        order = _name(order_by) if order_by else ""
        return self.read_table(table, where=f"{_name(column)} = ?", params=[value],
                               order=order)

    def read_features_equal(self, layer: str, column: str, value: Any) -> gpd.GeoDataFrame:
        """Return the features of ``layer`` whose ``column`` is ``value``, by ``fid``.

        Parameters
        ----------
        layer : str
            A feature layer.
        column : str
            One of its columns.
        value : Any
            The value to match.
        """
        return self.read_features(layer, where=f"{_name(column)} = ?", params=[value])

    def read_table_ordered(self, table: str, by: str) -> pd.DataFrame:
        """Return every row of ``table`` sorted by its column ``by`` (ascending)."""
        return self.read_table(table, order=_name(by))

    def read_features_fid_range(self, layer: str, lo: int, hi: int, *,
                                columns: Sequence[str] | None = None) -> gpd.GeoDataFrame:
        """Return the features of ``layer`` with ``lo <= fid < hi``.

        Parameters
        ----------
        layer : str
            A feature layer.
        lo, hi : int
            The half-open ``fid`` range.
        columns : sequence of str, optional
            Only these attribute columns, as for ``read_features``.
        """
        return self.read_features(layer, where="fid >= ? AND fid < ?",
                                  params=(int(lo), int(hi)), columns=columns)

    # -- classification --------------------------------------------------------------
    def replace_lead_class(self, frame: pd.DataFrame) -> int:
        """Replace every row of ``lead_class`` with ``frame``; return the row count.

        Run it inside :meth:`~pipelines.store.base.Workspace.transaction` so that readers
        never see the table empty.
        """
        from pipelines.store.base import _rows  # base imports this module

        self.execute('DELETE FROM "lead_class"')
        # columns empty in every row (wetlands, mines... where there are none) stay NULL
        # without a value bound per row
        cols = [c for c, _ in TABLES["lead_class"]
                if c in frame.columns and frame[c].notna().any()]
        if not len(frame) or not cols:
            return 0
        for start in range(0, len(frame), _WRITE_ROWS):  # bounded memory for the rows
            part = frame.iloc[start:start + _WRITE_ROWS]
            self._insert_rows("lead_class", cols, _rows(part, cols), geometry=False)
        return len(frame)

    def snapshot_lead_class(self) -> int:
        """Append every row of ``lead_class`` to ``lead_class_history``; return the count.

        The rows are copied inside the database (one ``INSERT ... SELECT``), each with the
        ``snapshot_id`` ``run_id/lead_id``, so the classification is written once.
        """
        cols = [sql_identifier(c) for c, _ in TABLES["lead_class_history"] if c != "snapshot_id"]
        names = ", ".join(cols)
        cur = self.execute(f'INSERT INTO "lead_class_history" ("snapshot_id", {names}) '
                           f"SELECT \"run_id\" || '/' || \"lead_id\", {names} "
                           'FROM "lead_class"')
        return int(cur.rowcount)

    def lead_zone_fids(self, subdivide_vertices: int) -> list[tuple[int, int]]:
        """Return the ``(lead fid, reserves fid)`` pairs that intersect, computed in SQL.

        Only a PostGIS workspace computes overlays in SQL; see
        :meth:`pipelines.store.postgis.PostGISWorkspace.lead_zone_fids`.

        Raises
        ------
        WorkspaceError
            On any other backend.
        """
        raise WorkspaceError(f"{getattr(self, 'location', self)}: overlays in SQL need a "
                             "PostGIS workspace")

    def lead_fids(self) -> np.ndarray:
        """Return the ``fid`` of every lead, ascending, as int64."""
        return np.array([r[0] for r in self.execute('SELECT fid FROM "leads" ORDER BY fid')],
                        dtype="int64")

    def lead_groups(self, code_column: str, name_column: str) -> pd.DataFrame:
        """Return the group code and name of every classified lead.

        Parameters
        ----------
        code_column, name_column : str
            Columns of ``lead_class`` holding the group's code and name
            (``reserve_code`` / ``reserve_name``, ``county_adcode`` / ``county_name``).

        Returns
        -------
        pandas.DataFrame
            Columns ``lead_id``, ``code`` and ``name``, one row per ``lead_class`` row.
        """
        code, name = _class_column(code_column), _class_column(name_column)
        return self.query(f'SELECT "lead_id", "{code}" AS code, "{name}" AS name '
                          'FROM "lead_class"')

    def lead_group_counts(self, code_column: str, name_column: str) -> pd.DataFrame:
        """Count the classified leads of each (group code, group name) pair.

        Parameters
        ----------
        code_column, name_column : str
            As :meth:`lead_groups`.

        Returns
        -------
        pandas.DataFrame
            Columns ``code``, ``name`` and ``n``; leads without a code are left out.
        """
        code, name = _class_column(code_column), _class_column(name_column)
        return self.query(f'SELECT "{code}" AS code, "{name}" AS name, COUNT(*) AS n '
                          f'FROM "lead_class" WHERE "{code}" IS NOT NULL '
                          f'GROUP BY "{code}", "{name}"')

    # -- history -----------------------------------------------------------------------
    def last_history_id(self, *, run_id: str | None = None,
                        at_or_before: str | None = None) -> int | None:
        """Return the highest ``lead_history`` id, None when no row matches.

        Parameters
        ----------
        run_id : str, optional
            Only rows written by this run.
        at_or_before : str, optional
            Only rows whose ``at`` (ISO time) is at most this.
        """
        where, params = [], []
        if run_id is not None:
            where.append('"run_id" = ?')
            params.append(run_id)
        if at_or_before is not None:
            where.append('"at" <= ?')
            params.append(at_or_before)
        sql = 'SELECT MAX("id") FROM "lead_history"'
        sql += " WHERE " + " AND ".join(where) if where else ""
        value = self.execute(sql, params).fetchone()[0]
        return None if value is None or pd.isna(value) else int(value)

    def change_counters(self) -> tuple[tuple[Any, ...], ...]:
        """Return indexed aggregates that change whenever the workspace's content does.

        ``(runs count, last finished_at)``, ``(leads count, highest fid)``,
        ``(highest lead_history id,)`` and ``(batches count, last updated_at)``.
        """
        def one(sql: str) -> tuple[Any, ...]:
            return tuple(self.execute(sql).fetchone())

        return (one('SELECT COUNT(*), MAX("finished_at") FROM "runs"'),
                one('SELECT COUNT(*), MAX("fid") FROM "leads"'),
                one('SELECT MAX("id") FROM "lead_history"'),
                one('SELECT COUNT(*), MAX("updated_at") FROM "batches"'))

    # -- batches -------------------------------------------------------------------------
    def lead_batches(self) -> list[Any]:
        """Return the distinct batches of the leads, sorted; leads without one are left out."""
        rows = self.query('SELECT DISTINCT "batch" FROM "leads" WHERE "batch" IS NOT NULL '
                          'ORDER BY "batch"')
        return rows["batch"].tolist()

    def batch_lead_counts(self, open_statuses: Sequence[str]) -> pd.DataFrame:
        """Count the leads of every batch, and those whose status is one of ``open_statuses``.

        Returns
        -------
        pandas.DataFrame
            Columns ``batch``, ``leads`` and ``open`` (one row per batch of ``leads``,
            leads without a batch in a row of their own).
        """
        statuses = list(open_statuses)
        if not statuses:
            raise StoreError("batch_lead_counts needs at least one status")
        marks = ", ".join(["?"] * len(statuses))
        return self.query(
            f'SELECT l."batch" AS batch, COUNT(*) AS leads, SUM(CASE WHEN s."status" IN '
            f'({marks}) THEN 1 ELSE 0 END) AS open FROM "leads" l LEFT JOIN "lead_status" s '
            'ON s."lead_id" = l."lead_id" GROUP BY l."batch"',
            statuses,
        )

    # -- features --------------------------------------------------------------------------
    def read_features_in(self, layer: str, column: str,
                         values: Sequence[Any]) -> gpd.GeoDataFrame:
        """Return the features of ``layer`` whose ``column`` is one of ``values``.

        Parameters
        ----------
        layer : str
            A feature layer.
        column : str
            One of its columns.
        values : sequence
            The values to match; none gives an empty frame with the layer's columns.
        """
        return self.read_features(layer, where=_in(column, values), params=list(values))

    def read_status_moves(self, after: int, upto: int) -> pd.DataFrame:
        """Return the status changes of ``lead_history`` rows ``after < id <= upto``.

        Parameters
        ----------
        after, upto : int
            History row ids (``lead_history.id``): the ones already seen, the last wanted.

        Returns
        -------
        pandas.DataFrame
            Columns ``lead_id``, ``from_status``, ``to_status``, in the order of the rows.
        """
        return self.query('SELECT "lead_id", "from_status", "to_status" FROM "lead_history" '
                          'WHERE "id" > ? AND "id" <= ? ORDER BY "id"', [int(after), int(upto)])

    def read_table_in(self, table: str, column: str, values: Sequence[Any]) -> pd.DataFrame:
        """Return the rows of ``table`` whose ``column`` is one of ``values``.

        Parameters
        ----------
        table : str
            A table.
        column : str
            One of its columns.
        values : sequence
            The values to match; none gives an empty frame with the table's columns.
        """
        return self.read_table(table, where=_in(column, values), params=list(values))

    def read_lead_tables(
        self, column: str, codes: Sequence[str | None] | Any | None = None
    ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
        """Return ``leads``, ``lead_class`` and ``lead_status`` of the leads of some groups.

        Parameters
        ----------
        column : str
            The ``lead_class`` column that names a lead's group (``reserve_code``,
            ``county_adcode``).
        codes : collection of str or None, optional
            The groups; None in it stands for the leads of no group (not classified ones
            included). Without ``codes``, every lead.
        """
        where, params = ("", []) if codes is None else _group_filter(column, codes)
        return (self.read_features("leads", where=where, params=params),
                self.read_table("lead_class", where=where, params=params),
                self.read_table("lead_status", where=where, params=params))

    def leads_changed_since(self, history_id: int) -> list[str]:
        """Return the leads with a ``lead_history`` row after ``history_id``."""
        rows = self.query('SELECT DISTINCT "lead_id" FROM "lead_history" WHERE "id" > ?',
                          [int(history_id)])
        return rows["lead_id"].tolist()

    def leads_signature(self) -> tuple[Any, ...]:
        """Return indexed aggregates that change whenever runs or the leads layer do.

        ``(runs count, last finished_at, highest leads fid)``: the web app reloads its
        leads when they change.
        """
        runs, last = self.execute('SELECT COUNT(*), MAX("finished_at") FROM "runs"').fetchone()
        fid = self.execute('SELECT MAX("fid") FROM "leads"').fetchone()[0]
        return (int(runs), last, fid)

    # -- mines ---------------------------------------------------------------------------
    def set_mine_progress(self, mine_id: str, progress: str | None) -> int:
        """Set the ``restoration_progress`` of one mine; return the rows changed."""
        cur = self.execute('UPDATE "mines" SET "restoration_progress" = ? WHERE "mine_id" = ?',
                           [progress, mine_id])
        return max(cur.rowcount, 0)


    # -- users (pipelines/users.py) ------------------------------------------------------
    def schema_upgrade_time(self, version: int) -> str | None:
        """Return when the workspace was first upgraded to (or made at) schema ``version``
        or later, None when not recorded."""
        row = self.execute(f'SELECT MIN("upgraded_at") FROM {_name(VERSION_TABLE)} '
                           'WHERE "version" >= ?', [int(version)]).fetchone()
        return row[0] if row and row[0] else None

    def reserve_codes(self) -> set[str]:
        """Return the distinct reserve codes of the ``reserves`` layer."""
        rows = self.query('SELECT DISTINCT "reserve_code" FROM "reserves"')
        return {str(code) for code in rows["reserve_code"] if code is not None}

    def read_users(self, name: str | None = None) -> pd.DataFrame:
        """Return the rows of ``users`` sorted by name (only the user ``name`` if given)."""
        if name is None:
            return self.read_table("users", order='"name"')
        return self.read_table("users", where='"name" = ?', params=[name], order='"name"')

    def set_user_revoked(self, name: str, at: str) -> None:
        """Record that the user ``name`` was revoked at ``at``."""
        self.execute('UPDATE "users" SET "revoked_at" = ? WHERE "name" = ?', [at, name])

    def set_user_token(self, name: str, token_hash: str, expires_at: str) -> None:
        """Give the user ``name`` a new token hash and expiry.

        Parameters
        ----------
        name : str
            The user.
        token_hash : str
            The stored form of the new token (``sha256:...``).
        expires_at : str
            ISO 8601 time the token stops working.
        """
        self.execute('UPDATE "users" SET "token_hash" = ?, "expires_at" = ? WHERE "name" = ?',
                     [token_hash, expires_at, name])

    def user_by_token(self, token_hash: str, columns: Sequence[str]) -> dict[str, Any] | None:
        """Return ``columns`` of the user whose token hash is ``token_hash`` (one indexed
        row, no DataFrame: it runs on every request of the web app), None when none."""
        names = ", ".join(_name(c) for c in columns)
        row = self.execute(f'SELECT {names} FROM "users" WHERE "token_hash" = ?',
                           [token_hash]).fetchone()
        return dict(zip(columns, row, strict=True)) if row else None

    # -- review (pipelines/verify/review.py, sample.py) ----------------------------------
    def meta_value(self, name: str) -> str | None:
        """Return the value of ``name`` in the ``meta`` table, None when unset."""
        row = self.execute('SELECT "value" FROM "meta" WHERE "name" = ?', [name]).fetchone()
        return row[0] if row else None

    def set_meta_value(self, name: str, value: str) -> None:
        """Set ``name`` to ``value`` in the ``meta`` table."""
        self.execute('DELETE FROM "meta" WHERE "name" = ?', [name])
        self.execute('INSERT INTO "meta" ("name", "value") VALUES (?, ?)', [name, value])

    def review_leads(self, prefixes: Sequence[str] | None = None, *,
                     lead_ids: Sequence[str] | None = None,
                     statuses: Sequence[str] | None = None) -> pd.DataFrame:
        """Return leads with their county, reserve and status, for review and spot checks.

        Parameters
        ----------
        prefixes : sequence of str, optional
            Only leads whose ``lead_class.county_adcode`` starts with one of these
            (digits only); None: every lead.
        lead_ids : sequence of str, optional
            Only these leads.
        statuses : sequence of str, optional
            Only leads in these statuses.

        Returns
        -------
        pandas.DataFrame
            Columns ``lead_id``, ``county_adcode``, ``county_name``, ``reserve_code``,
            ``reserve_name``, ``status``, ``version``, sorted by lead id.
        """
        where: list[str] = []
        params: list[Any] = []
        if prefixes is not None:
            clean = [str(p) for p in prefixes]
            if not all(p.isdigit() for p in clean):
                raise StoreError(f"adcode prefixes must be digits: {clean!r}")
            if not clean:
                where.append("1 = 0")
            else:
                where.append("(" + " OR ".join(['c."county_adcode" LIKE ?'] * len(clean)) + ")")
                params.extend(p + "%" for p in clean)
        for column, values in (("lead_id", lead_ids), ("status", statuses)):
            if values is not None:
                marks = ", ".join(["?"] * len(values)) or "NULL"
                table = "s" if column == "status" else "l"
                where.append(f'{table}."{column}" IN ({marks})')
                params.extend(values)
        sql = ('SELECT l."lead_id" AS lead_id, c."county_adcode" AS county_adcode, '
               'c."county_name" AS county_name, c."reserve_code" AS reserve_code, '
               'c."reserve_name" AS reserve_name, s."status" AS status, '
               's."version" AS version FROM "leads" l '
               'LEFT JOIN "lead_class" c ON c."lead_id" = l."lead_id" '
               'LEFT JOIN "lead_status" s ON s."lead_id" = l."lead_id"')
        sql += (" WHERE " + " AND ".join(where)) if where else ""
        return self.query(sql + ' ORDER BY l."lead_id"', params)

    def read_reviews(self, lead_ids: Sequence[str] | None = None) -> pd.DataFrame:
        """Return the ``lead_review`` rows (of ``lead_ids`` when given), by review id."""
        if lead_ids is None:
            return self.read_table("lead_review", order='"review_id"')
        if not lead_ids:
            return self.read_table("lead_review", where="1 = 0")
        marks = ", ".join(["?"] * len(lead_ids))
        return self.read_table("lead_review", where=f'"lead_id" IN ({marks})',
                               params=list(lead_ids), order='"review_id"')

    def admin_names(self) -> pd.DataFrame:
        """Return ``adcode``, ``admin_name``, ``admin_level`` and ``city`` of every
        administrative division (no geometries)."""
        return self.query('SELECT "adcode", "admin_name", "admin_level", "city" FROM "admin" '
                          'ORDER BY "adcode"')

    def read_spot_checks(self, *, run_id: str | None = None,
                         lead_id: str | None = None) -> pd.DataFrame:
        """Return the ``spot_checks`` rows of a sample run and / or a lead, by check id."""
        where, params = [], []
        for column, value in (("run_id", run_id), ("lead_id", lead_id)):
            if value is not None:
                where.append(f"{_name(column)} = ?")
                params.append(value)
        return self.read_table("spot_checks", where=" AND ".join(where), params=params,
                               order='"check_id"')


def _class_column(name: str) -> str:
    """``name`` when it is a column of ``lead_class``."""
    if name not in {c for c, _ in TABLES["lead_class"]}:
        raise StoreError(f"lead_class has no column {name!r}")
    return name


def _name(column: str) -> str:
    """A column name of lvdun's schema, quoted (letters, digits and ``_`` only)."""
    if not column.replace("_", "").isalnum():
        raise StoreError(f"bad identifier {column!r}")
    return sql_identifier(column)


def _in(column: str, values: Sequence[Any]) -> str:
    """``"column" IN (?, ...)`` for ``values``; a condition no row meets for none."""
    if not values:
        return "1 = 0"
    return f'{_name(column)} IN ({", ".join(["?"] * len(values))})'


def _group_filter(column: str, codes: Any) -> tuple[str, list[str]]:
    """SQL condition on ``lead_id``: the lead's group is one of ``codes`` (None: none)."""
    name = _name(column)
    named = sorted({str(c) for c in codes if c is not None})
    parts = []
    if named:
        marks = ", ".join("?" * len(named))
        parts.append(f'"lead_id" IN (SELECT "lead_id" FROM "lead_class" '
                     f"WHERE {name} IN ({marks}))")
    if any(c is None for c in codes):
        parts.append(f'"lead_id" NOT IN (SELECT "lead_id" FROM "lead_class" '
                     f'WHERE {name} IS NOT NULL AND "lead_id" IS NOT NULL)')
    return (" OR ".join(parts) or "1 = 0"), named

