"""Workspaces of every backend: ``any_workspace`` runs a test on GeoPackage and on PostGIS.

The PostGIS side needs a PostgreSQL server with the PostGIS package installed, found at
``LVDUN_TEST_PG_URL`` (default ``postgresql://postgres@localhost:5432/postgres``; the role
must be allowed to create databases). One fresh database ``lvdun_test_<random>`` is created
per test session and dropped at its end; each test gets a fresh schema in it. Without a
server the PostGIS tests skip, or fail under ``LVDUN_REQUIRE_SERVICES=1`` (CI).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import pandas as pd
import psycopg
import pytest
import shapely
from psycopg import sql

from pipelines.store import GeoPackageWorkspace, Workspace
from pipelines.store.postgis import PostGISWorkspace
from tests.conftest import require_service

PG_URL = os.environ.get("LVDUN_TEST_PG_URL", "postgresql://postgres@localhost:5432/postgres")


def url_with(url: str, *, database: str | None = None, schema: str | None = None) -> str:
    """Return ``url`` naming another database and / or a ``?schema=``."""
    parts = urlsplit(url)
    if database is not None:
        parts = parts._replace(path=f"/{database}")
    if schema is not None:
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "schema"]
        parts = parts._replace(query=urlencode([*query, ("schema", schema)]))
    return urlunsplit(parts)


def _admin() -> psycopg.Connection:
    return psycopg.connect(PG_URL, autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """URL of a fresh database with PostGIS for this test session."""
    try:
        admin = _admin()
    except psycopg.Error as exc:
        require_service(False, f"PostgreSQL at {PG_URL} ({str(exc).strip()})")
    with admin:
        available = admin.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone()
        require_service(available is not None,
                        "PostGIS (apt-get install -y postgresql-15-postgis-3)")
        name = f"lvdun_test_{secrets.token_hex(4)}"
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = url_with(PG_URL, database=name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        yield url
    finally:
        with _admin() as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


@pytest.fixture
def pg_schema_url(pg_database: str) -> Iterator[str]:
    """URL of a fresh, not yet created schema in the session database; dropped afterwards."""
    schema = f"t_{secrets.token_hex(5)}"
    yield url_with(pg_database, schema=schema)
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def pg_workspace(pg_schema_url: str, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[PostGISWorkspace]:
    """A fresh PostGIS workspace (its own schema), opened."""
    monkeypatch.chdir(tmp_path)  # ingest writes rejects files next to the cwd for a URL
    ws = PostGISWorkspace(pg_schema_url)
    ws.open()
    yield ws
    ws.close()


@pytest.fixture
def gpkg_workspace(tmp_path: Path) -> Iterator[GeoPackageWorkspace]:
    """A fresh GeoPackage workspace, opened."""
    ws = GeoPackageWorkspace(tmp_path / "ws.gpkg")
    ws.open()
    yield ws
    ws.close()


@pytest.fixture(params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def any_workspace(request: pytest.FixtureRequest) -> Workspace:
    """A fresh workspace of each backend in turn."""
    name = "pg_workspace" if request.param == "postgis" else "gpkg_workspace"
    return request.getfixturevalue(name)


@pytest.fixture
def any_classified(any_workspace: Workspace, zones_file: Path, leads_csv: Path) -> Workspace:
    """:func:`any_workspace` with the two reserves and the six leads, classified."""
    from pipelines.classify.job import classify
    from pipelines.ingest.files import ingest

    ingest(any_workspace, "reserves", zones_file)
    ingest(any_workspace, "leads", leads_csv, crs="EPSG:4490")
    classify(any_workspace)
    return any_workspace


def snapshot(ws: Workspace) -> dict[str, pd.DataFrame]:
    """Every layer and table of ``ws`` as plain frames (geometries as WKB), in key order."""
    from pipelines.store.tables import FEATURE_LAYERS, TABLE_KEYS, TABLES

    out: dict[str, pd.DataFrame] = {}
    for layer in FEATURE_LAYERS:
        frame = ws.read_features(layer)
        out[layer] = pd.DataFrame(frame.drop(columns="geometry")).assign(
            wkb=shapely.to_wkb(np.asarray(frame.geometry.values), byte_order=1))
    for table in TABLES:
        key = TABLE_KEYS.get(table) or ("id" if table == "lead_history" else None)
        order = [key] if key else [c for c, _ in TABLES[table]]
        out[table] = ws.read_table(table, order=", ".join(f'"{c}"' for c in order))
    return out


def assert_same_workspace(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    """Assert that two :func:`snapshot` results hold the same rows, values and types."""
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=True, obj=name)
