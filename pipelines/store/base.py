"""The workspace interface, written once over DB-API connections for every backend.

A backend supplies the connection, the DDL for its types, and how geometries travel
(GeoPackage blobs or PostGIS WKB); reading, writing and transactions are shared so that
both backends behave the same.
"""

from __future__ import annotations

import json
import logging
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import CGCS2000
from layers.i18n import LOCAL_TZ
from pipelines.errors import StoreError, WorkspaceError, WorkspaceVersionError
from pipelines.escape import sql_identifier
from pipelines.store.memberships import MembershipQueries
from pipelines.store.queries import JobQueries
from pipelines.store.tables import (
    FEATURE_LAYERS,
    GEOMETRY_TYPES,
    SCHEMA_VERSION,
    TABLE_KEYS,
    TABLES,
    VERSION_TABLE,
)

__all__ = ["SchemaChanges", "Workspace", "new_run_id", "now_iso"]

#: What :meth:`Workspace._create_schema` did: the layers and tables it created, and the
#: ``(table, column)`` pairs it added to tables that existed.
SchemaChanges = tuple[list[str], list[tuple[str, str]]]

log = logging.getLogger(__name__)


def now_iso() -> str:
    """Return the current time in China Standard Time, ISO 8601 with seconds and offset.

    ``2026-12-03T20:15:00+08:00``. Stamps written before were UTC (``+00:00``); readers take
    both (:func:`layers.i18n.local_time`), and a new stamp still sorts after every older one.
    """
    return datetime.now(LOCAL_TZ).replace(microsecond=0).isoformat()


def new_run_id() -> str:
    """Return a new run id: UTC timestamp to the microsecond plus a random suffix.

    Ids sort in the order runs were started, also within one second.
    """
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + secrets.token_hex(3)


class Workspace(JobQueries, MembershipQueries, ABC):
    """A lvdun workspace: feature layers, attribute tables and the run log.

    Use as a context manager; every write happens inside :meth:`transaction`, which
    commits on success and rolls back on any exception.
    """

    #: Placeholder for one parameter in SQL ("?" or "%s").
    param = "?"
    location: str

    def __init__(self) -> None:
        self._conn: Any = None
        self._depth = 0

    @property
    @abstractmethod
    def kind(self) -> str:
        """The backend: ``"gpkg"`` or ``"postgis"`` (the one way jobs tell them apart)."""

    # -- backend hooks ------------------------------------------------------------
    @abstractmethod
    def _connect(self) -> Any:
        """Open the DB-API connection."""

    @abstractmethod
    def _create_schema(self) -> SchemaChanges:
        """Create every layer, table and column that is missing (inside a transaction).

        Columns are added to existing tables as plain columns (no key); the geometry
        column of a layer never changes. Returns what was created and added.
        """

    @abstractmethod
    def _geom_select(self, column: str) -> str:
        """SQL expression selecting ``column`` so that :meth:`_decode_geoms` can read it."""

    @abstractmethod
    def _geom_insert(self) -> str:
        """SQL placeholder expression for one encoded geometry in an INSERT."""

    @abstractmethod
    def _encode_geoms(self, geoms: np.ndarray) -> list[Any]:
        """Encode shapely geometries for :meth:`_geom_insert`."""

    @abstractmethod
    def _decode_geoms(self, values: Sequence[Any]) -> np.ndarray:
        """Decode selected geometry values into shapely geometries."""

    @abstractmethod
    def _begin(self) -> None:
        """Start a write transaction."""

    @abstractmethod
    def _has_table(self, name: str) -> bool:
        """Return True when ``name`` exists."""

    def _after_features_write(self, layer: str) -> None:
        """Refresh layer metadata (extent) after a write; optional."""

    def _after_explicit_ids(self, name: str, column: str) -> None:
        """Move the id counter of ``name`` past ids inserted explicitly; optional."""

    def _insert_rows(
        self, name: str, cols: list[str], rows: list[tuple[Any, ...]], *, geometry: bool
    ) -> None:
        """Insert ``rows`` (values of ``cols``, then the encoded geometry when ``geometry``).

        The default is one parametrised INSERT run with ``executemany``; a backend may
        override it with a faster bulk path (PostGIS uses COPY).
        """
        names = ", ".join(_ident(c) for c in cols)
        marks = ", ".join(["?"] * len(cols))
        if geometry:
            names += ", geom"
            marks += f", {self._geom_insert()}"
        self._executemany(f"INSERT INTO {_ident(name)} ({names}) VALUES ({marks})", rows)

    # -- lifecycle ----------------------------------------------------------------
    def __enter__(self) -> Workspace:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Open the connection; create or upgrade the workspace's schema when needed.

        In one transaction: the schema version the workspace records is checked, every
        missing layer, table and column is created (a workspace of an older lvdun is
        upgraded, and the upgrade logged) and the current version is recorded. Nothing
        changes when any step fails.

        Raises
        ------
        WorkspaceVersionError
            When the workspace was written by a newer lvdun (its schema version is above
            :data:`~pipelines.store.tables.SCHEMA_VERSION`).
        """
        if self._conn is not None:
            return
        self._conn = self._connect()
        try:
            with self.transaction():
                self._upgrade_schema()
        except BaseException:
            self.close()
            raise

    def _upgrade_schema(self) -> None:
        stored, written_by = self._recorded_version()
        if stored > SCHEMA_VERSION:
            raise WorkspaceVersionError(
                f"workspace {self.location} has schema version {stored}, written by lvdun "
                f"{written_by or '(unknown version)'}; this lvdun ({_lvdun_version()}) "
                f"knows schema versions up to {SCHEMA_VERSION}: upgrade lvdun to open it "
                "(nothing was changed)"
            )
        created, added = self._create_schema()
        if stored == SCHEMA_VERSION and not (created or added):
            return
        if stored < SCHEMA_VERSION:
            self.execute(
                f"CREATE TABLE IF NOT EXISTS {_ident(VERSION_TABLE)} "
                "(version INTEGER NOT NULL, lvdun TEXT, upgraded_at TEXT NOT NULL)"
            )
            self.execute(
                f"INSERT INTO {_ident(VERSION_TABLE)} (version, lvdun, upgraded_at) "
                "VALUES (?, ?, ?)",
                (SCHEMA_VERSION, _lvdun_version(), now_iso()),
            )
        if len(created) == len(FEATURE_LAYERS) + len(TABLES):
            log.info("created workspace %s (schema version %d)", self.location, SCHEMA_VERSION)
            return
        what = [f"table {t}" for t in created] + [f"column {t}.{c}" for t, c in added]
        added_text = f"added {', '.join(what)}" if what else "nothing to add"
        if stored == SCHEMA_VERSION:
            log.info("workspace %s: %s (missing at schema version %d)", self.location,
                     added_text, stored)
        else:
            log.info("upgraded workspace %s from schema version %d to %d: %s",
                     self.location, stored, SCHEMA_VERSION, added_text)

    def schema_version(self) -> int:
        """Return the schema version the workspace records (0 for a workspace of a lvdun
        that did not record one; after :meth:`open`, ``SCHEMA_VERSION``)."""
        return self._recorded_version()[0]

    def _recorded_version(self) -> tuple[int, str | None]:
        """The highest schema version recorded and the lvdun version that recorded it."""
        if not self._has_table(VERSION_TABLE):
            return 0, None
        row = self.execute(
            f"SELECT version, lvdun FROM {_ident(VERSION_TABLE)} "
            "ORDER BY version DESC LIMIT 1"
        ).fetchone()
        return (0, None) if row is None else (int(row[0]), row[1])

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def conn(self) -> Any:
        """The open DB-API connection."""
        if self._conn is None:
            self.open()
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[Workspace]:
        """Run the block as one transaction; nested blocks join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        conn = self.conn
        self._begin()
        self._depth = 1
        try:
            yield self
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()
        finally:
            self._depth = 0

    # -- SQL helpers --------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql.replace("?", self.param) if self.param != "?" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Execute one statement (``?`` placeholders) and return the cursor."""
        cur = self.conn.cursor()
        cur.execute(self._sql(sql), tuple(params))
        return cur

    def query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Return the rows of a SELECT as a DataFrame."""
        cur = self.execute(sql, params)
        cols = [d[0] for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=cols)

    def _executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            cur = self.conn.cursor()
            cur.executemany(self._sql(sql), rows)

    # -- features -----------------------------------------------------------------
    def has_layer(self, layer: str) -> bool:
        """Return True when the layer exists and holds at least one feature."""
        return bool(self.count(layer))

    def count(self, name: str, where: str = "", params: Sequence[Any] = ()) -> int:
        """Return the number of rows of a layer or table.

        Parameters
        ----------
        name : str
            The layer or table.
        where : str
            SQL condition (``?`` placeholders); empty for every row.
        params : sequence
            Values of the placeholders of ``where``.
        """
        sql = f"SELECT COUNT(*) FROM {_ident(name)}" + (f" WHERE {where}" if where else "")
        return int(self.execute(sql, params).fetchone()[0])

    def read_features(
        self, layer: str, *, where: str = "", params: Sequence[Any] = (),
        columns: Sequence[str] | None = None,
    ) -> gpd.GeoDataFrame:
        """Return a feature layer as a GeoDataFrame in EPSG:4490 (``fid`` as a column).

        Parameters
        ----------
        layer : str
            The feature layer.
        where : str
            SQL condition (``?`` placeholders); empty for every feature.
        params : sequence
            Values of the placeholders of ``where``.
        columns : sequence of str, optional
            Only these attribute columns (with ``fid`` and the geometry); None: all.
        """
        known = [c for c, _ in FEATURE_LAYERS[_layer(layer)]]
        if columns is not None:
            unknown = sorted(set(columns) - set(known))
            if unknown:
                raise StoreError(f"{layer} has no column {', '.join(unknown)}")
            known = [c for c in known if c in set(columns)]
        cols = ["fid", *known]
        sql = (
            f"SELECT {', '.join(cols)}, {self._geom_select('geom')} AS geom "
            f"FROM {_ident(layer)}" + (f" WHERE {where}" if where else "") + " ORDER BY fid"
        )
        cur = self.execute(sql, params)
        rows = cur.fetchall()
        frame = pd.DataFrame([r[:-1] for r in rows], columns=cols)
        geoms = self._decode_geoms([r[-1] for r in rows])
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=CGCS2000))

    def insert_features(
        self, layer: str, frame: gpd.GeoDataFrame, *, keep_fid: bool = False
    ) -> int:
        """Append features; columns missing from ``frame`` are stored as NULL.

        With ``keep_fid`` the ``fid`` column of ``frame`` is stored too (a copy between
        workspaces keeps feature ids); otherwise the backend numbers new features.

        Parameters
        ----------
        layer : str
            The feature layer.
        frame : geopandas.GeoDataFrame
            The features, with columns named as the layer's.
        keep_fid : bool
            Store the ``fid`` column of ``frame`` as well.
        """
        cols = [c for c, _ in FEATURE_LAYERS[_layer(layer)]]
        if keep_fid:
            cols = ["fid", *cols]
        if frame.crs is None or not frame.crs.equals(CGCS2000):
            raise StoreError(
                f"layer {layer}: features must be in EPSG:4490 before storing, got {frame.crs}"
            )
        geoms = np.asarray(frame.geometry.values, dtype=object)
        if GEOMETRY_TYPES[layer] == "MULTIPOLYGON":
            geoms = _promote_multipolygon(geoms)
        geoms = self._encode_geoms(geoms)
        values = _rows(frame, cols)
        rows = [(*v, g) for v, g in zip(values, geoms, strict=True)]
        self._insert_rows(layer, cols, rows, geometry=True)
        if keep_fid:
            self._after_explicit_ids(layer, "fid")
        self._after_features_write(layer)
        return len(rows)

    def delete_where_in(self, name: str, column: str, values: Sequence[Any]) -> int:
        """Delete rows whose ``column`` is one of ``values``; return how many.

        Parameters
        ----------
        name : str
            The layer or table.
        column : str
            The column compared.
        values : sequence
            The values whose rows are deleted (duplicates counted once).
        """
        deleted = 0
        values = list(dict.fromkeys(values))
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            marks = ", ".join(["?"] * len(chunk))
            cur = self.execute(
                f"DELETE FROM {_ident(name)} WHERE {_ident(column)} IN ({marks})", chunk
            )
            deleted += max(cur.rowcount, 0)
        return deleted

    def extent(self, layer: str) -> tuple[float, float, float, float] | None:
        """Return ``(minx, miny, maxx, maxy)`` of a layer in EPSG:4490, None when empty."""
        frame = self.read_features(layer)
        geoms = frame.geometry[~(frame.geometry.isna() | frame.geometry.is_empty)]
        if geoms.empty:
            return None
        minx, miny, maxx, maxy = geoms.total_bounds
        return float(minx), float(miny), float(maxx), float(maxy)

    # -- attribute tables ----------------------------------------------------------
    def read_table(
        self, table: str, *, where: str = "", params: Sequence[Any] = (), order: str = ""
    ) -> pd.DataFrame:
        """Return an attribute table as a DataFrame.

        Parameters
        ----------
        table : str
            The attribute table.
        where : str
            SQL condition (``?`` placeholders); empty for every row.
        params : sequence
            Values of the placeholders of ``where``.
        order : str
            SQL ``ORDER BY`` expression; empty for no order.
        """
        cols = [c for c, _ in TABLES[_table(table)]]
        if table == "lead_history":
            cols = ["id", *cols]
        sql = f"SELECT {', '.join(_ident(c) for c in cols)} FROM {_ident(table)}"
        sql += f" WHERE {where}" if where else ""
        sql += f" ORDER BY {order}" if order else ""
        return self.query(sql, params)

    def upsert_rows(self, table: str, frame: pd.DataFrame) -> int:
        """Insert rows, replacing those with the same key; return the row count."""
        key = TABLE_KEYS[_table(table)]
        if key is None:
            raise StoreError(f"table {table} is append-only: use append_rows")
        self.delete_where_in(table, key, frame[key].tolist())
        return self.append_rows(table, frame)

    def append_rows(self, table: str, frame: pd.DataFrame, *, keep_id: bool = False) -> int:
        """Append rows to an attribute table; missing columns become NULL.

        With ``keep_id`` the serial ``id`` of ``lead_history`` is taken from ``frame``.

        Parameters
        ----------
        table : str
            The attribute table.
        frame : pandas.DataFrame
            The rows, with columns named as the table's.
        keep_id : bool
            Take ``lead_history``'s ``id`` from ``frame`` (ignored for other tables).
        """
        cols = [c for c, _ in TABLES[_table(table)]]
        if keep_id and table == "lead_history":
            cols = ["id", *cols]
        rows = _rows(frame, cols)
        self._insert_rows(table, cols, rows, geometry=False)
        if keep_id and table == "lead_history":
            self._after_explicit_ids(table, "id")
        return len(rows)

    # -- runs ---------------------------------------------------------------------
    def record_run(
        self,
        run_id: str,
        command: str,
        *,
        started_at: str,
        params: dict[str, Any] | None = None,
        inputs: list[dict[str, Any]] | None = None,
        counts: dict[str, Any] | None = None,
        crs: dict[str, Any] | None = None,
        status: str = "ok",
        message: str = "",
    ) -> None:
        """Write one row of the ``runs`` table.

        Parameters
        ----------
        run_id : str
            The run.
        command : str
            The command that ran (``ingest leads``, ``classify`` ...).
        started_at : str
            ISO start time; the finish time is now.
        params, counts, crs : dict, optional
            Parameters, counts and CRS details of the run, stored as JSON.
        inputs : list of dict, optional
            The input files (e.g. path and sha256), stored as JSON.
        status : str
            The run's status, ``ok`` by default.
        message : str
            Free text.
        """
        row = {
            "run_id": run_id,
            "command": command,
            "started_at": started_at,
            "finished_at": now_iso(),
            "status": status,
            "params": json.dumps(params or {}, ensure_ascii=False, default=str),
            "inputs": json.dumps(inputs or [], ensure_ascii=False, default=str),
            "counts": json.dumps(counts or {}, ensure_ascii=False, default=str),
            "crs": json.dumps(crs or {}, ensure_ascii=False, default=str),
            "message": message,
        }
        self.upsert_rows("runs", pd.DataFrame([row]))

    def runs(self) -> pd.DataFrame:
        """Return the run log, oldest first."""
        return self.read_table("runs", order="started_at, run_id")


def _lvdun_version() -> str:
    try:
        return version("lvdun")
    except PackageNotFoundError:
        return "unknown"


def _ident(name: str) -> str:
    """A table or column name of lvdun's schema, quoted (letters, digits and ``_`` only)."""
    if not name.replace("_", "").isalnum():
        raise StoreError(f"bad identifier {name!r}")
    return sql_identifier(name)


def _layer(name: str) -> str:
    if name not in FEATURE_LAYERS:
        raise WorkspaceError(f"unknown layer {name!r}; layers: {', '.join(FEATURE_LAYERS)}")
    return name


def _table(name: str) -> str:
    if name not in TABLES:
        raise WorkspaceError(f"unknown table {name!r}; tables: {', '.join(TABLES)}")
    return name


def _plain(value: Any) -> Any:
    """Convert numpy / pandas scalars to plain Python values, NaN/NA to None."""
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, np.integer):
        return int(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    return value


def _rows(frame: pd.DataFrame, cols: list[str]) -> list[tuple[Any, ...]]:
    data = [_plain_column(frame[c]) if c in frame.columns else [None] * len(frame)
            for c in cols]
    return list(zip(*data, strict=True))


def _plain_column(values: pd.Series) -> list[Any]:
    """Return :func:`_plain` of every value, whole numpy columns at once where possible."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return values.to_numpy().astype(np.int64 if dtype.kind == "b" else dtype).tolist()
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        array = values.to_numpy()
        out = array.tolist()
        for i in np.flatnonzero(np.isnan(array)):
            out[i] = None
        return out
    if isinstance(dtype, pd.StringDtype):  # text with NaN or NA for missing values
        return values.to_numpy(dtype=object, na_value=None).tolist()
    out = values.tolist()
    if {type(v) for v in out} <= {str, type(None)}:
        return out
    return [_plain(v) for v in out]


def _promote_multipolygon(geoms: np.ndarray) -> np.ndarray:
    kinds = shapely.get_type_id(geoms)
    out = geoms.copy()
    for i in np.flatnonzero(kinds == shapely.GeometryType.POLYGON):
        out[i] = shapely.MultiPolygon([geoms[i]])
    return out
