"""Named reads and writes of reserve membership: table ``lead_reserves``.

Every reserve a lead lies in, one row per lead and reserve (written by ``lvdun classify``:
:mod:`pipelines.classify.members`). :class:`MembershipQueries` is mixed into
:class:`~pipelines.store.base.Workspace` beside :class:`~pipelines.store.queries.JobQueries`;
the exports, reports, rights and the web app read membership through these methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from pipelines.store.queries import _group_filter, _in

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["MEMBER_COLUMNS", "MembershipQueries"]

#: The columns :meth:`MembershipQueries.lead_memberships` returns.
MEMBER_COLUMNS = ("lead_id", "reserve_code", "reserve_name", "zone", "share", "is_primary")


class MembershipQueries:
    """Reads and writes of ``lead_reserves`` (a mixin of :class:`Workspace`)."""

    if TYPE_CHECKING:  # supplied by Workspace
        def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

        def query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame: ...

        def append_rows(self, table: str, frame: pd.DataFrame, *,
                        keep_id: bool = False) -> int: ...

        def read_features(self, layer: str, *, where: str = "",
                          params: Sequence[Any] = ()) -> gpd.GeoDataFrame: ...

        def read_table(self, table: str, *, where: str = "", params: Sequence[Any] = (),
                       order: str = "") -> pd.DataFrame: ...

    def replace_lead_reserves(self, frame: pd.DataFrame,
                              lead_ids: Sequence[str] | None = None) -> int:
        """Replace the ``lead_reserves`` rows of the leads classified; return rows written.

        Parameters
        ----------
        frame : pandas.DataFrame
            The new membership rows (columns of ``lead_reserves``).
        lead_ids : sequence of str, optional
            The leads classified: their old rows go, whether or not ``frame`` has rows of
            them (a lead now outside every reserve has none). None: every lead was
            classified, and every old row goes.

        Run it inside :meth:`~pipelines.store.base.Workspace.transaction`, with
        :meth:`replace_lead_class`, so that readers never see one without the other.
        """
        if lead_ids is None:
            self.execute('DELETE FROM "lead_reserves"')
        else:
            ids = list(dict.fromkeys(str(i) for i in lead_ids))
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                self.execute(f'DELETE FROM "lead_reserves" WHERE {_in("lead_id", chunk)}',
                             chunk)
        return self.append_rows("lead_reserves", frame)

    def lead_memberships(self, *, lead_ids: Sequence[str] | None = None,
                         reserve_codes: Sequence[str] | None = None) -> pd.DataFrame:
        """Return every (lead, reserve) membership: ``lead_reserves`` and the winners.

        A lead's winning reserve in ``lead_class`` is always one of its memberships, also
        in a workspace classified before ``lead_reserves`` existed (then with ``share``
        NULL): such a workspace reads as it did, one reserve per lead, until classified
        again.

        Parameters
        ----------
        lead_ids : sequence of str, optional
            Only these leads.
        reserve_codes : sequence of str, optional
            Only memberships of these reserves.

        Returns
        -------
        pandas.DataFrame
            Columns ``lead_id``, ``reserve_code``, ``reserve_name``, ``zone``, ``share``,
            ``is_primary`` (1 for the winner), sorted by lead id, winner first, then code.
        """
        where_m, where_c, params_m, params_c = [], [], [], []
        for column, values in (("lead_id", lead_ids), ("reserve_code", reserve_codes)):
            if values is not None:
                values = [str(v) for v in values]
                where_m.append(f"m.{_in(column, values)}" if values else "1 = 0")
                where_c.append(f"c.{_in(column, values)}" if values else "1 = 0")
                params_m += values
                params_c += values
        sql = ('SELECT m."lead_id" AS lead_id, m."reserve_code" AS reserve_code, '
               'm."reserve_name" AS reserve_name, m."zone" AS zone, m."share" AS share, '
               'm."is_primary" AS is_primary FROM "lead_reserves" m '
               'WHERE m."reserve_code" IS NOT NULL'
               + "".join(f" AND {w}" for w in where_m)
               + ' UNION ALL SELECT c."lead_id", c."reserve_code", c."reserve_name", '
               'c."zone", NULL, 1 FROM "lead_class" c WHERE c."reserve_code" IS NOT NULL'
               + "".join(f" AND {w}" for w in where_c)
               # `|| ''` keeps SQLite off the reserve_code index (a few codes, thousands
               # of rows each): it probes by lead id, 3.6 s -> 0.16 s at 17,000 leads
               + ' AND NOT EXISTS (SELECT 1 FROM "lead_reserves" x WHERE '
               'x."lead_id" = c."lead_id" AND x."reserve_code" || \'\' = c."reserve_code")'
               ' ORDER BY 1, 6 DESC, 2')
        frame = self.query(sql, [*params_m, *params_c])
        if frame.empty:
            frame = pd.DataFrame(columns=list(MEMBER_COLUMNS))
        frame["is_primary"] = pd.to_numeric(frame["is_primary"]).fillna(0).astype(int)
        frame["share"] = pd.to_numeric(frame["share"], errors="coerce").astype(float)
        return frame

    def lead_reserve_codes(self, lead_id: str) -> list[str]:
        """Return the codes of every reserve ``lead_id`` lies in, the winner first."""
        rows = self.lead_memberships(lead_ids=[lead_id])
        return [str(c) for c in rows["reserve_code"]]

    def read_member_lead_tables(
        self, codes: Sequence[str | None]
    ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
        """Return ``leads``, ``lead_class`` and ``lead_status`` of the leads inside reserves.

        As :meth:`read_lead_tables` by ``reserve_code``, but a lead is read when any
        reserve of ``codes`` holds it (``lead_reserves``), not only the winning one. None
        in ``codes`` stands for the leads outside every reserve (not classified ones
        included).

        Parameters
        ----------
        codes : sequence of str or None
            The reserves.
        """
        where, params = _group_filter("reserve_code", codes)
        named = sorted({str(c) for c in codes if c is not None})
        if named:
            marks = ", ".join("?" * len(named))
            where = (f'"lead_id" IN (SELECT "lead_id" FROM "lead_reserves" '
                     f'WHERE "reserve_code" IN ({marks})) OR ' + where)
            params = [*named, *params]
        return (self.read_features("leads", where=where, params=params),
                self.read_table("lead_class", where=where, params=params),
                self.read_table("lead_status", where=where, params=params))

    def reserve_levels(self) -> dict[str, str | None]:
        """Return the level of every reserve code of the ``reserves`` layer."""
        rows = self.query('SELECT DISTINCT "reserve_code", "level" FROM "reserves" '
                          'WHERE "reserve_code" IS NOT NULL ORDER BY "reserve_code"')
        return {str(c): (None if lv is None else str(lv))
                for c, lv in zip(rows["reserve_code"], rows["level"], strict=True)}

