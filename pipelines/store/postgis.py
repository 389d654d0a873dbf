"""The PostGIS workspace: the same layers and tables in a PostgreSQL schema, via psycopg 3.

For a bureau's shared server and many users at once. The connection runs in autocommit
mode; :meth:`PostGISWorkspace._begin` issues ``BEGIN`` and takes a transaction-level
advisory lock on the workspace, so that write transactions run one at a time exactly as
``BEGIN IMMEDIATE`` makes them on a GeoPackage (a read-then-write in ``verify`` can never
lose an update), while readers are never blocked. Geometries travel as (E)WKB; bulk writes
use server-side binary ``COPY ... FROM STDIN``.

The URL is a libpq URL with one extra query parameter, ``schema`` (default ``public``)::

    postgresql://user:password@host:5432/dbname?schema=lvdun
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import psycopg
import shapely
from psycopg import sql

from pipelines.errors import StoreError, WorkspaceError
from pipelines.store.base import SchemaChanges, Workspace
from pipelines.store.tables import FEATURE_LAYERS, GEOMETRY_TYPES, KEYS, TABLE_KEYS, TABLES

__all__ = [
    "MIN_POSTGIS",
    "MIN_SERVER",
    "PostGISWorkspace",
    "parse_url",
    "redact_url",
]

log = logging.getLogger(__name__)

SRID = 4490
#: Oldest PostgreSQL (``server_version_num``) and PostGIS versions the workspace runs on.
MIN_SERVER = 120000
MIN_POSTGIS = (3, 0)

#: Text compares byte-wise (collation "C") as in SQLite, so ORDER BY agrees on both backends.
_TYPES = {"TEXT": 'TEXT COLLATE "C"', "REAL": "DOUBLE PRECISION", "INTEGER": "BIGINT"}
#: Binary COPY wire types of the portable column types; geometries go as EWKB bytes.
_COPY_TYPES = {"TEXT": "text", "REAL": "float8", "INTEGER": "int8"}
_PY_TYPES: dict[str, type] = {"TEXT": str, "REAL": float, "INTEGER": int}
_GEOMETRY = {"GEOMETRY": "Geometry", "MULTIPOLYGON": "MultiPolygon"}
#: One feature per key in every layer but reserves, whose key groups zone polygons.
_UNIQUE = {layer: key for layer, key in KEYS.items() if layer != "reserves"}
_INDEXES = {"reserves": ["reserve_code"], "lead_history": ["lead_id"],
            "lead_reserves": ["lead_id", "reserve_code"]}
_GUARD_FUNCTION = "lvdun_history_append_only"
_GUARD_TRIGGER = "lead_history_append_only"
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def parse_url(url: str) -> tuple[str, str]:
    """Split a workspace URL into a libpq connection URL and the schema name.

    Examples
    --------
    >>> parse_url("postgresql://u@db:5432/gis?schema=lvdun&sslmode=require")
    ('postgresql://u@db:5432/gis?sslmode=require', 'lvdun')
    >>> parse_url("postgres://localhost/gis")
    ('postgres://localhost/gis', 'public')
    """
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise StoreError(f"{redact_url(url)} is not a postgresql:// URL")
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [v for k, v in query if k == "schema"]
    schema = schemas[-1] if schemas else "public"
    if not _SCHEMA_NAME.match(schema):
        raise StoreError(
            f"schema {schema!r} in {redact_url(url)}: use letters, digits and _ "
            "(at most 63, not starting with a digit), e.g. ?schema=lvdun"
        )
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


def redact_url(url: str) -> str:
    """Return ``url`` with its password replaced by ``***`` (for messages and logs).

    Examples
    --------
    >>> redact_url("postgresql://lvdun:secret@db/gis?schema=x")
    'postgresql://lvdun:***@db/gis?schema=x'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class PostGISWorkspace(Workspace):
    """A workspace in a PostgreSQL schema with the PostGIS extension.

    Parameters
    ----------
    url
        ``postgresql://[user[:password]@]host[:port]/dbname[?schema=NAME&...]``; the
        schema (default ``public``) and the ``postgis`` extension are created on first
        open when missing.
    """

    param = "%s"

    @property
    def kind(self) -> str:
        """``"postgis"``."""
        return "postgis"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.conninfo, self.schema = parse_url(url)
        self.location = redact_url(url)

    # -- connection and transactions -------------------------------------------------
    def _connect(self) -> psycopg.Connection[Any]:
        options: dict[str, Any] = {"autocommit": True, "application_name": "lvdun"}
        if "connect_timeout" not in self.conninfo:
            options["connect_timeout"] = 10
        try:
            conn = psycopg.connect(self.conninfo, **options)
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to the workspace {self.location}: {_first_line(exc)}"
            ) from exc
        version = conn.info.server_version
        if version < MIN_SERVER:
            conn.close()
            raise StoreError(
                f"{self.location}: PostgreSQL {_pg_version(version)} is too old; "
                f"lvdun needs PostgreSQL {_pg_version(MIN_SERVER)} or later"
            )
        ext_schema = _postgis_schema(conn) or "public"
        path = [self.schema] + ([ext_schema] if ext_schema != self.schema else [])
        conn.execute(
            sql.SQL("SET search_path TO {}").format(
                sql.SQL(", ").join(sql.Identifier(s) for s in path)
            )
        )
        log.debug("connected to %s (PostgreSQL %s, search_path %s)", self.location,
                  _pg_version(version), ", ".join(path))
        return conn

    def _begin(self) -> None:
        conn = self.conn
        conn.execute("BEGIN")
        try:
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (f"lvdun workspace {self.schema}",),
            )
        except BaseException:
            conn.rollback()
            raise

    def _has_table(self, name: str) -> bool:
        row = self.conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL", (self._qualified(name).as_string(self.conn),)
        ).fetchone()
        return bool(row[0])

    def _qualified(self, name: str) -> sql.Identifier:
        return sql.Identifier(self.schema, name)

    # -- schema ---------------------------------------------------------------------
    def _create_schema(self) -> SchemaChanges:
        conn = self.conn
        existing = self._existing_columns()
        if self._schema_complete(existing):
            return [], []
        self._ensure_postgis()
        exists = conn.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.schema)))
            log.info("created schema %s in %s", self.schema, self.location)
        tables = {t for t, _ in existing}
        created = [n for n in (*FEATURE_LAYERS, *TABLES) if n not in tables]
        added = [(n, c) for n, cols in (*FEATURE_LAYERS.items(), *TABLES.items())
                 if n in tables for c, _ in cols if (n, c) not in existing]
        for layer, cols in FEATURE_LAYERS.items():
            unique = _UNIQUE.get(layer)
            body = [
                sql.SQL("fid BIGSERIAL PRIMARY KEY"),
                sql.SQL("geom geometry({}, {})").format(
                    sql.SQL(_GEOMETRY[GEOMETRY_TYPES[layer]]), sql.Literal(SRID)
                ),
                *(sql.SQL("{} {}{}").format(
                    sql.Identifier(c), sql.SQL(_TYPES[t]),
                    sql.SQL(" UNIQUE" if c == unique else ""),
                ) for c, t in cols),
            ]
            conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
                self._qualified(layer), sql.SQL(", ").join(body)))
            conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING GIST (geom)").format(
                sql.Identifier(f"ix_{layer}_geom"), self._qualified(layer)))
        for table, cols in TABLES.items():
            key = TABLE_KEYS.get(table)  # None: append-only, with a serial id
            body = [sql.SQL("id BIGSERIAL PRIMARY KEY")] if _serial(table) else []
            body += [sql.SQL("{} {}{}").format(
                sql.Identifier(c), sql.SQL(_TYPES[t]),
                sql.SQL(" PRIMARY KEY" if c == key else ""),
            ) for c, t in cols]
            conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
                self._qualified(table), sql.SQL(", ").join(body)))
        self._add_columns(added)
        for table, columns in _INDEXES.items():
            for column in columns:
                conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                    sql.Identifier(f"ix_{table}_{column}"), self._qualified(table),
                    sql.Identifier(column)))
        self._create_history_guard()
        return created, added

    def _add_columns(self, columns: list[tuple[str, str]]) -> None:
        """Add ``(table, column)`` pairs that :mod:`tables` gained since the workspace was
        created, as plain columns (NULL in existing rows)."""
        for name, column in columns:
            kind = _column_kinds(name)[column]
            self.conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                self._qualified(name), sql.Identifier(column), sql.SQL(_TYPES[kind])))

    def _existing_columns(self) -> set[tuple[str, str]]:
        """Every ``(table, column)`` of the workspace's schema (empty when it is missing)."""
        rows = self.conn.execute(
            "SELECT c.relname, a.attname FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
            (self.schema,),
        ).fetchall()
        return {(str(t), str(c)) for t, c in rows}

    def _schema_complete(self, existing: set[tuple[str, str]]) -> bool:
        """Return True when every layer, table, column and the history guard exist."""
        wanted = {(n, c) for n, cols in (*FEATURE_LAYERS.items(), *TABLES.items())
                  for c, _ in cols}
        if not wanted <= existing:
            return False
        guard = self.conn.execute(
            "SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = 'lead_history' AND t.tgname = %s",
            (self.schema, _GUARD_TRIGGER),
        ).fetchone()
        return guard is not None and _postgis_schema(self.conn) is not None

    def _ensure_postgis(self) -> None:
        """Create the ``postgis`` extension when missing; check its version."""
        conn = self.conn
        if _postgis_schema(conn) is None:
            if not self._extension_available():
                major = conn.info.server_version // 10000
                raise StoreError(
                    f"the PostGIS extension is not installed on the server of "
                    f"{self.location}: install the package postgresql-{major}-postgis-3 "
                    f"(apt-get install -y postgresql-{major}-postgis-3), then run "
                    "`lvdun db init -w URL`"
                )
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public")
            except psycopg.errors.InsufficientPrivilege as exc:
                raise StoreError(
                    f"{self.location}: not allowed to create the postgis extension; ask "
                    f"the database owner to run CREATE EXTENSION postgis "
                    f"({_first_line(exc)})"
                ) from exc
            log.info("created the postgis extension in %s", self.location)
        version = self.postgis_version()
        numbers = tuple(int(p) for p in re.findall(r"\d+", version)[:2])
        if numbers < MIN_POSTGIS:
            raise StoreError(
                f"{self.location}: PostGIS {version} is too old; lvdun needs PostGIS "
                f"{'.'.join(map(str, MIN_POSTGIS))} or later"
            )

    def _extension_available(self) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"
        ).fetchone()
        return row is not None

    def _create_history_guard(self) -> None:
        conn = self.conn
        conn.execute(sql.SQL(
            """CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'lead_history is append-only: % refused', TG_OP
                USING ERRCODE = 'restrict_violation';
            END $$"""
        ).format(sql.Identifier(self.schema, _GUARD_FUNCTION)))
        table = self._qualified("lead_history")
        function = sql.Identifier(self.schema, _GUARD_FUNCTION)
        for trigger, when in ((_GUARD_TRIGGER, "UPDATE OR DELETE ON {} FOR EACH ROW"),
                              (f"{_GUARD_TRIGGER}_truncate", "TRUNCATE ON {} FOR EACH STATEMENT")):
            conn.execute(sql.SQL("DROP TRIGGER IF EXISTS {} ON {}").format(
                sql.Identifier(trigger), table))
            conn.execute(sql.SQL("CREATE TRIGGER {} BEFORE " + when + " EXECUTE FUNCTION {}()")
                         .format(sql.Identifier(trigger), table, function))

    # -- versions -------------------------------------------------------------------
    def server_version(self) -> str:
        """Return the PostgreSQL server version, e.g. ``15.20``."""
        return _pg_version(self.conn.info.server_version)

    def postgis_version(self) -> str:
        """Return the version of the installed ``postgis`` extension, e.g. ``3.3.2``."""
        row = self.conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'postgis'"
        ).fetchone()
        if row is None:
            raise StoreError(f"{self.location}: the postgis extension is not installed")
        return str(row[0])

    def describe(self) -> dict[str, str]:
        """Return where the workspace lives and the server and PostGIS versions."""
        info = self.conn.info
        return {
            "location": self.location,
            "host": f"{info.host}:{info.port}",
            "database": info.dbname,
            "schema": self.schema,
            "server_version": self.server_version(),
            "postgis_version": self.postgis_version(),
        }

    # -- overlay --------------------------------------------------------------------
    def lead_zone_fids(self, subdivide_vertices: int) -> list[tuple[int, int]]:
        """Return the ``(lead fid, reserves fid)`` pairs that intersect, computed in SQL.

        See :func:`pipelines.store.postgis_overlay.lead_zone_fids`.
        """
        from pipelines.store.postgis_overlay import lead_zone_fids

        return lead_zone_fids(self, subdivide_vertices)

    # -- geometries -----------------------------------------------------------------
    def _geom_select(self, column: str) -> str:
        return f'ST_AsBinary("{column}")'

    def _geom_insert(self) -> str:
        return "ST_GeomFromEWKB(%s)"

    def _encode_geoms(self, geoms: np.ndarray) -> list[bytes | None]:
        geoms = shapely.set_srid(np.asarray(geoms, dtype=object), SRID)
        return list(shapely.to_wkb(geoms, byte_order=1, flavor="extended", include_srid=True))

    def _decode_geoms(self, values: Sequence[Any]) -> np.ndarray:
        blobs = [None if v is None else bytes(v) for v in values]
        return np.asarray(shapely.from_wkb(blobs), dtype=object).reshape(-1)

    def extent(self, layer: str) -> tuple[float, float, float, float] | None:
        """Return ``(minx, miny, maxx, maxy)`` of a layer, computed by the server."""
        if layer not in FEATURE_LAYERS:
            raise WorkspaceError(f"unknown layer {layer!r}; layers: {', '.join(FEATURE_LAYERS)}")
        row = self.conn.execute(sql.SQL(
            "SELECT min(ST_XMin(geom)), min(ST_YMin(geom)), max(ST_XMax(geom)), "
            "max(ST_YMax(geom)) FROM {} WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom)"
        ).format(self._qualified(layer))).fetchone()
        if row is None or row[0] is None:
            return None
        return float(row[0]), float(row[1]), float(row[2]), float(row[3])

    # -- bulk writes ------------------------------------------------------------------
    def _insert_rows(
        self, name: str, cols: list[str], rows: list[tuple[Any, ...]], *, geometry: bool
    ) -> None:
        """Write ``rows`` with one binary ``COPY ... FROM STDIN``."""
        if not rows:
            return
        kinds = _column_kinds(name)
        wire = ["int8" if c in ("fid", "id") else _COPY_TYPES[kinds[c]] for c in cols]
        columns = [*cols, "geom"] if geometry else list(cols)
        if geometry:
            wire.append("bytea")  # EWKB bytes, read by geometry's binary receive function
        data = list(zip(*rows, strict=True))
        for i, col in enumerate(cols):
            kind = "INTEGER" if col in ("fid", "id") else kinds[col]
            data[i] = _coerce(data[i], kind, name, col)
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            self._qualified(name), sql.SQL(", ").join(sql.Identifier(c) for c in columns))
        try:
            with self.conn.cursor() as cur, cur.copy(statement) as copy:
                copy.set_types(wire)
                for row in zip(*data, strict=True):
                    copy.write_row(row)
        except (psycopg.errors.IntegrityError, psycopg.errors.DataError) as exc:
            raise StoreError(f"{name}: {_first_line(exc)}") from exc
        log.debug("copied %d rows into %s.%s", len(rows), self.schema, name)

    def _after_explicit_ids(self, name: str, column: str) -> None:
        self.conn.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX({}), 0) + 1, false) "
                "FROM {}"
            ).format(sql.Identifier(column), self._qualified(name)),
            (self._qualified(name).as_string(self.conn), column),
        )


def _serial(table: str) -> bool:
    """Return True for an append-only table, keyed by a serial ``id``."""
    return table in TABLE_KEYS and TABLE_KEYS[table] is None


def _column_kinds(name: str) -> dict[str, str]:
    return dict(FEATURE_LAYERS.get(name) or TABLES[name])


def _coerce(values: tuple[Any, ...], kind: str, table: str, column: str) -> tuple[Any, ...]:
    """Give every value of a column the Python type its binary COPY type expects.

    SQLite converts by column affinity (``2.0`` in an INTEGER column is stored as 2); this
    does the same, and refuses values that would change (``2.5`` for an INTEGER).
    """
    want = _PY_TYPES[kind]
    if {type(v) for v in values} <= {want, type(None)}:
        return values
    out = []
    for value in values:
        if value is None or type(value) is want:
            out.append(value)
            continue
        try:
            if kind == "TEXT":
                converted: Any = str(value)
            elif kind == "REAL":
                converted = float(value)
            else:
                converted = int(value)
                if isinstance(value, float) and converted != value:
                    raise ValueError("not a whole number")
        except (TypeError, ValueError) as exc:
            raise StoreError(
                f"{table}.{column}: value {value!r} does not fit type {kind} ({exc})"
            ) from exc
        out.append(converted)
    return tuple(out)


def _postgis_schema(conn: psycopg.Connection[Any]) -> str | None:
    row = conn.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'postgis'"
    ).fetchone()
    return None if row is None else str(row[0])


def _pg_version(number: int) -> str:
    return f"{number // 10000}.{number % 10000}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
