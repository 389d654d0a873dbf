"""The GeoPackage workspace: one SQLite file that QGIS and GDAL open as it is.

Written with the standard library's sqlite3 so that every command runs in one real
transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``): a failed ingest leaves the file as it was.
Geometries are GeoPackage binary blobs (header with envelope + little-endian WKB).

A file written by an older lvdun gets the tables and columns it lacks when it is opened;
the workspace's schema version is kept in the table ``lvdun_schema`` (not registered in
``gpkg_contents``), since ``PRAGMA user_version`` holds the GeoPackage version (1.2.0).
"""

from __future__ import annotations

import logging
import sqlite3
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from geo.crs import CGCS2000
from pipelines.errors import StoreError
from pipelines.escape import sql_identifier as q
from pipelines.store.base import SchemaChanges, Workspace
from pipelines.store.tables import FEATURE_LAYERS, GEOMETRY_TYPES, TABLE_KEYS, TABLES

__all__ = ["GeoPackageWorkspace"]

log = logging.getLogger(__name__)

_SRS_ID = 4490
_APPLICATION_ID = 0x47504B47  # "GPKG"
_USER_VERSION = 10200
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}

_META_DDL = [
    """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
        organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
        definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE IF NOT EXISTS gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
        identifier TEXT UNIQUE, description TEXT DEFAULT '',
        last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
        srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id)
        REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL,
        geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
        z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
]

_UNIQUE = {"leads": "lead_id", "wetlands": "wetland_id", "mines": "mine_id", "admin": "adcode"}
_INDEXES = {
    "reserves": ["reserve_code"],
    "lead_history": ["lead_id"],
    "lead_reserves": ["lead_id", "reserve_code"],
}


class GeoPackageWorkspace(Workspace):
    """A workspace in a GeoPackage file, created on first use.

    Parameters
    ----------
    path
        The ``.gpkg`` file.
    create
        Create the file when it does not exist (commands that only read pass False).
    """

    param = "?"

    @property
    def kind(self) -> str:
        """``"gpkg"``."""
        return "gpkg"

    def close(self) -> None:
        """Close the connection; one made in another thread is left to that thread.

        SQLite refuses to close a connection from a thread other than its own; that
        thread's exit closes it (the web app's pool opens one per thread).
        """
        try:
            super().close()
        except sqlite3.ProgrammingError:
            log.debug("left a connection of another thread to its thread")

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        super().__init__()
        self.path = Path(path)
        self.location = str(self.path)
        self.create = create

    def _connect(self) -> sqlite3.Connection:
        if not self.path.exists() and not self.create:
            raise StoreError(
                f"workspace {self.path} does not exist: run `lvdun ingest` first or pass -w"
            )
        if self.path.exists() and self.path.stat().st_size:
            with self.path.open("rb") as fh:
                if fh.read(16) != b"SQLite format 3\x00":
                    raise StoreError(f"{self.path} is not a GeoPackage (not an SQLite file)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def _has_table(self, name: str) -> bool:
        cur = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        )
        return cur.fetchone() is not None

    def _create_schema(self) -> SchemaChanges:
        conn = self.conn
        if not self._has_table("gpkg_contents"):
            conn.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {_USER_VERSION}")  # the GeoPackage version
        for ddl in _META_DDL:
            conn.execute(ddl)
        srs = [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian"),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic"),
            ("WGS 84 geodetic", 4326, "EPSG", 4326, _wkt(4326), "WGS 84"),
            ("China Geodetic Coordinate System 2000", _SRS_ID, "EPSG", _SRS_ID, _wkt(4490),
             "CGCS2000 longitude/latitude"),
        ]
        conn.executemany(
            "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", srs
        )
        created: list[str] = []
        added: list[tuple[str, str]] = []
        for layer, cols in FEATURE_LAYERS.items():
            if self._has_table(layer):
                added += self._add_missing_columns(layer, cols)
                continue
            unique = _UNIQUE.get(layer)
            body = ", ".join(
                f"{q(c)} {t}" + (" UNIQUE" if c == unique else "") for c, t in cols
            )
            conn.execute(
                f"CREATE TABLE {q(layer)} (fid INTEGER PRIMARY KEY AUTOINCREMENT, "
                f"geom {GEOMETRY_TYPES[layer]}, {body})"
            )
            # OR REPLACE: a table dropped by hand may have left its registration behind
            conn.execute(
                "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, "
                "srs_id) VALUES (?, 'features', ?, ?)",
                (layer, layer, _SRS_ID),
            )
            conn.execute(
                "INSERT OR REPLACE INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)",
                (layer, GEOMETRY_TYPES[layer], _SRS_ID),
            )
            created.append(layer)
        for table, cols in TABLES.items():
            if self._has_table(table):
                added += self._add_missing_columns(table, cols)
                continue
            serial = "id INTEGER PRIMARY KEY AUTOINCREMENT, " if table == "lead_history" else ""
            key = TABLE_KEYS.get(table)
            body = ", ".join(
                f"{q(c)} {t}" + (" PRIMARY KEY" if c == key else "") for c, t in cols
            )
            conn.execute(f"CREATE TABLE {q(table)} ({serial}{body})")
            conn.execute(
                "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier) "
                "VALUES (?, 'attributes', ?)",
                (table, table),
            )
            created.append(table)
        for table, columns in _INDEXES.items():
            for column in columns:
                conn.execute(
                    f"CREATE INDEX IF NOT EXISTS {q(f'ix_{table}_{column}')} "
                    f"ON {q(table)} ({q(column)})"
                )
        if table_missing_trigger(conn):
            conn.execute(_HISTORY_GUARD)
        return created, added

    def _add_missing_columns(
        self, name: str, cols: list[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        """Add the columns :mod:`~pipelines.store.tables` gained since ``name`` was created.

        New columns are plain (NULL in existing rows); the table's ``last_change`` in
        ``gpkg_contents`` is updated. ``gpkg_data_columns`` is optional and left alone.
        """
        have = {row[1] for row in self.conn.execute(f"PRAGMA table_info({q(name)})")}
        missing = [(c, t) for c, t in cols if c not in have]
        for column, kind in missing:
            self.conn.execute(f"ALTER TABLE {q(name)} ADD COLUMN {q(column)} {kind}")
        if missing:
            self.conn.execute(
                "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                "WHERE table_name = ?",
                (name,),
            )
        return [(name, c) for c, _ in missing]

    def _geom_select(self, column: str) -> str:
        return q(column)

    def _geom_insert(self) -> str:
        return "?"

    def _encode_geoms(self, geoms: np.ndarray) -> list[bytes | None]:
        return encode_gpkg(geoms)

    def _decode_geoms(self, values: Sequence[Any]) -> np.ndarray:
        return decode_gpkg(values)

    def extent(self, layer: str) -> tuple[float, float, float, float] | None:
        """Return the layer's extent as GeoPackage metadata records it."""
        row = self.conn.execute(
            "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?",
            (layer,),
        ).fetchone()
        if row is None or row[0] is None or not self.count(layer):
            return None
        return float(row[0]), float(row[1]), float(row[2]), float(row[3])

    def _after_features_write(self, layer: str) -> None:
        # the extent from the blobs' envelopes (their first 40 bytes), without decoding
        # geometries; blobs written without an envelope (points by other tools) are decoded
        rows = self.conn.execute(
            f"SELECT fid, substr(geom, 1, 40) FROM {q(layer)} WHERE geom IS NOT NULL"
        ).fetchall()
        boxes, bare = header_bounds([r[1] for r in rows])
        if len(bare):
            fids = [rows[k][0] for k in bare]
            blobs = []
            for start in range(0, len(fids), 500):
                chunk = fids[start:start + 500]
                marks = ", ".join("?" * len(chunk))
                blobs += [r[0] for r in self.conn.execute(
                    f"SELECT geom FROM {q(layer)} WHERE fid IN ({marks})", chunk)]
            geoms = decode_gpkg(blobs)
            geoms = geoms[~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)]
            boxes = np.vstack([boxes, shapely.bounds(geoms)])
        if len(boxes):
            minx, miny = (float(v) for v in boxes[:, :2].min(axis=0))
            maxx, maxy = (float(v) for v in boxes[:, 2:].max(axis=0))
            # the GeoPackage spec wants UTC with a Z here; lvdun's own tables hold +08:00
            self.conn.execute(
                "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, "
                "last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE table_name = ?",
                (minx, miny, maxx, maxy, layer),
            )


def header_bounds(heads: Sequence[bytes | None]) -> tuple[np.ndarray, np.ndarray]:
    """Bounds read from the envelopes of GeoPackage blob headers (first 40 bytes or more).

    Returns
    -------
    tuple of numpy.ndarray
        ``(boxes, bare)``: ``(minx, miny, maxx, maxy)`` rows of the non-empty blobs with an
        envelope, and the positions of non-empty blobs without one (to be decoded).

    Examples
    --------
    >>> import shapely, numpy as np
    >>> blobs = encode_gpkg(np.array([shapely.box(1, 2, 3, 4), shapely.Point()]))
    >>> boxes, bare = header_bounds([b[:40] for b in blobs])
    >>> boxes.tolist(), bare.tolist()
    ([[1.0, 2.0, 3.0, 4.0]], [])
    """
    sizes = np.fromiter((-1 if h is None else len(h) for h in heads), dtype=np.int64,
                        count=len(heads))
    full = np.flatnonzero(sizes >= 40)
    boxes = np.empty((0, 4))
    if len(full):
        joined = (b"".join(heads) if len(full) == len(heads) and (sizes == 40).all()
                  else b"".join(bytes(heads[k])[:40] for k in full))
        raw = np.frombuffer(joined, dtype=np.uint8).reshape(-1, 40)
        flags = raw[:, 3]
        enveloped = (flags & 0x10 == 0) & ((flags >> 1) & 0x07 > 0)
        little = enveloped & (flags & 0x01 == 1)
        big = enveloped & (flags & 0x01 == 0)
        # the envelope starts minx, maxx, miny, maxy whatever its type
        parts = [np.ascontiguousarray(raw[little, 8:40]).view("<f8"),
                 np.ascontiguousarray(raw[big, 8:40]).view(">f8").astype("<f8")]
        env = np.vstack([p.reshape(-1, 4) for p in parts])
        env = env[~np.isnan(env).any(axis=1)]
        boxes = env[:, [0, 2, 1, 3]]
        bare_full = full[(flags & 0x10 == 0) & ~enveloped]
    else:
        bare_full = np.empty(0, dtype=np.int64)
    # short blobs: a header with no envelope and a small geometry, unless flagged empty
    short = [k for k in np.flatnonzero((sizes >= 4) & (sizes < 40))
             if not bytes(heads[k])[3] & 0x10]
    return boxes, np.sort(np.concatenate([bare_full, np.asarray(short, dtype=np.int64)]))


_HISTORY_GUARD = """
CREATE TRIGGER lead_history_append_only_u BEFORE UPDATE ON lead_history
BEGIN SELECT RAISE(ABORT, 'lead_history is append-only'); END;
"""


def table_missing_trigger(conn: sqlite3.Connection) -> bool:
    """Return True when the append-only guard on ``lead_history`` is not installed yet."""
    cur = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'trigger' "
        "AND name = 'lead_history_append_only_u'"
    )
    return cur.fetchone() is None


def _wkt(epsg: int) -> str:
    from pyproj import CRS

    return (CGCS2000 if epsg == 4490 else CRS.from_epsg(epsg)).to_wkt("WKT1_GDAL")


def encode_gpkg(geoms: np.ndarray, srs_id: int = _SRS_ID) -> list[bytes | None]:
    """Encode shapely geometries as GeoPackage binary blobs with an XY envelope.

    Examples
    --------
    >>> import shapely, numpy as np
    >>> blob = encode_gpkg(np.array([shapely.Point(126.5, 43.2)]))[0]
    >>> blob[:2], decode_gpkg([blob])[0].wkt
    (b'GP', 'POINT (126.5 43.2)')
    """
    geoms = np.asarray(geoms, dtype=object)
    wkb = shapely.to_wkb(geoms, byte_order=1, flavor="iso")
    bounds = shapely.bounds(geoms)
    empty = shapely.is_empty(geoms)
    out: list[bytes | None] = []
    for blob, box, is_empty in zip(wkb, bounds, empty, strict=True):
        if blob is None:
            out.append(None)
        elif is_empty:
            out.append(struct.pack("<2sBBi", b"GP", 0, 0x01 | 0x10, srs_id) + blob)
        else:
            header = struct.pack(
                "<2sBBi4d", b"GP", 0, 0x03, srs_id, box[0], box[2], box[1], box[3]
            )
            out.append(header + blob)
    return out


def decode_gpkg(values: Sequence[bytes | None]) -> np.ndarray:
    """Decode GeoPackage binary blobs into shapely geometries (None stays None)."""
    wkb: list[bytes | None] = []
    for blob in values:
        if blob is None:
            wkb.append(None)
            continue
        blob = bytes(blob)
        if blob[:2] != b"GP":
            raise StoreError("geometry is not a GeoPackage blob (missing 'GP' magic)")
        flags = blob[3]
        envelope = _ENVELOPE_BYTES.get((flags >> 1) & 0x07)
        if envelope is None:
            raise StoreError(f"bad GeoPackage envelope flag {flags:#x}")
        wkb.append(blob[8 + envelope :])
    return np.asarray(shapely.from_wkb(wkb), dtype=object).reshape(-1)
