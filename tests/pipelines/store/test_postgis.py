"""What only the PostGIS workspace does: server checks, schemas, guards, locks, copies."""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from pipelines.classify.job import classify
from pipelines.errors import StoreError, WorkspaceError
from pipelines.ingest.files import ingest
from pipelines.store import GeoPackageWorkspace, open_workspace
from pipelines.store.copy import copy_workspace
from pipelines.store.postgis import PostGISWorkspace, parse_url, redact_url
from pipelines.store.tables import FEATURE_LAYERS, TABLE_KEYS
from pipelines.verify.status import set_status
from tests.pipelines.store.conftest import assert_same_workspace, snapshot, url_with


def _filled(ws, zones_file: Path, leads_csv: Path):
    ingest(ws, "reserves", zones_file)
    ingest(ws, "leads", leads_csv, crs=4490)
    classify(ws)
    set_status(ws, "L001", "in_field", by="张三")
    set_status(ws, "L001", "问题", by="张三", note="新建采石场")
    set_status(ws, "L002", "非问题", reason="手续合法", by="李四")
    return ws


def test_urls_name_the_schema_and_hide_the_password():
    assert parse_url("postgresql://u:pw@h/db?schema=lvdun&sslmode=require") == (
        "postgresql://u:pw@h/db?sslmode=require", "lvdun")
    assert parse_url("postgresql://h/db")[1] == "public"
    assert redact_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert PostGISWorkspace("postgresql://u:pw@h/db").location == "postgresql://u:***@h/db"
    with pytest.raises(StoreError, match=r"schema 'x-y'.*letters, digits"):
        parse_url("postgresql://h/db?schema=x-y")


def test_unreachable_server_is_a_store_error():
    ws = open_workspace("postgresql://postgres:secret@127.0.0.1:1/nowhere?connect_timeout=2")
    with pytest.raises(StoreError, match=r"cannot connect to the workspace postgresql://postgres:\*\*\*@"):
        ws.open()


@pytest.mark.postgis
def test_history_refuses_update_delete_and_truncate(pg_workspace, leads_csv):
    ingest(pg_workspace, "leads", leads_csv, crs=4490)
    for statement in ('UPDATE "lead_history" SET "by" = %s', 'DELETE FROM "lead_history"',
                      'TRUNCATE "lead_history"'):
        with pytest.raises(psycopg.Error, match="append-only"), pg_workspace.transaction():
            pg_workspace.conn.execute(statement, ["x"] if "%s" in statement else None)
    assert pg_workspace.count("lead_history") == 6
    assert set(pg_workspace.read_table("lead_history")["by"]) == {"ingest"}


@pytest.mark.postgis
def test_schema_declares_types_keys_and_indexes(pg_workspace):
    conn, schema = pg_workspace.conn, pg_workspace.schema
    geometry = dict(conn.execute(
        "SELECT f_table_name, type || ' ' || srid FROM geometry_columns "
        "WHERE f_table_schema = %s", (schema,)).fetchall())
    assert geometry == {"reserves": "MULTIPOLYGON 4490", "admin": "MULTIPOLYGON 4490",
                        "leads": "GEOMETRY 4490", "wetlands": "GEOMETRY 4490",
                        "mines": "GEOMETRY 4490"}
    types = dict(conn.execute(
        "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s", (schema,)).fetchall())
    assert types["mines.closed_year"] == "bigint"
    assert types["leads.area_m2"] == "double precision"
    assert types["lead_history.id"] == "bigint" and types["leads.fid"] == "bigint"
    assert types["runs.params"] == "text"
    indexes = " ".join(r[0] for r in conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = %s", (schema,)).fetchall())
    for layer in ("leads", "reserves", "wetlands", "mines", "admin"):
        assert f"ix_{layer}_geom ON {schema}.{layer} USING gist (geom)" in indexes
    unique = {f"{t}.{c}" for t, c in conn.execute(
        "SELECT t.relname, a.attname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_attribute a "
        "ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indisunique AND n.nspname = %s", (schema,)).fetchall()}
    assert unique == {
        *(f"{layer}.fid" for layer in FEATURE_LAYERS),
        "leads.lead_id", "wetlands.wetland_id", "mines.mine_id", "admin.adcode",
        *(f"{table}.{key or 'id'}" for table, key in TABLE_KEYS.items())}
    assert {"lead_class.lead_id", "lead_status.lead_id", "runs.run_id",
            "lead_history.id"} <= unique


@pytest.mark.postgis
def test_schemas_keep_workspaces_apart_and_reopen_keeps_data(pg_schema_url, pg_database,
                                                            leads_csv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open_workspace(pg_schema_url) as ws:
        ingest(ws, "leads", leads_csv, crs=4490)
    with open_workspace(pg_schema_url) as again:
        assert again.count("leads") == 6
    other = url_with(pg_database, schema=f"t_{secrets.token_hex(5)}")
    try:
        with open_workspace(other) as ws:
            assert ws.count("leads") == 0
    finally:
        with psycopg.connect(pg_database, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(
                sql.Identifier(parse_url(other)[1])))


@pytest.mark.postgis
def test_writers_take_turns(pg_workspace):
    """A second writer waits for the first to commit, as on a GeoPackage."""
    second = PostGISWorkspace(pg_workspace.url)
    second.open()
    entered = threading.Event()

    def write() -> None:
        with second.transaction():
            entered.set()

    try:
        with pg_workspace.transaction():
            thread = threading.Thread(target=write)
            thread.start()
            time.sleep(0.5)
            assert not entered.is_set()
        thread.join(10)
        assert entered.is_set()
    finally:
        second.close()


@pytest.mark.postgis
def test_missing_postgis_names_the_package(pg_workspace, monkeypatch):
    import pipelines.store.postgis as postgis

    monkeypatch.setattr(postgis, "_postgis_schema", lambda conn: None)
    monkeypatch.setattr(PostGISWorkspace, "_extension_available", lambda self: False)
    ws = PostGISWorkspace(pg_workspace.url)
    with pytest.raises(StoreError, match="install the package postgresql-15-postgis-3"):
        ws.open()
    ws.close()


@pytest.mark.postgis
def test_creates_the_extension_in_a_new_database(pg_database):
    name = f"lvdun_test_{secrets.token_hex(4)}"
    with psycopg.connect(pg_database, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with PostGISWorkspace(url_with(pg_database, database=name, schema="lvdun")) as ws:
            info = ws.describe()
            assert info["schema"] == "lvdun" and info["postgis_version"].startswith("3.")
            assert ws.count("leads") == 0
    finally:
        with psycopg.connect(pg_database, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.mark.postgis
def test_copy_gpkg_to_postgis_and_back_is_lossless(gpkg_workspace, pg_workspace, zones_file,
                                                   leads_csv, tmp_path):
    source = _filled(gpkg_workspace, zones_file, leads_csv)
    before = snapshot(source)
    report = copy_workspace(source, pg_workspace)
    assert report.counts["leads"] == 6 and report.counts["lead_history"] == 9
    assert_same_workspace(snapshot(pg_workspace), before)
    with GeoPackageWorkspace(tmp_path / "back.gpkg") as back:
        copy_workspace(pg_workspace, back)
        assert_same_workspace(snapshot(back), before)
        # ids continue after the copied ones on both backends
        for ws in (pg_workspace, back):
            set_status(ws, "L003", "in_field", by="王五")
            ids = ws.read_table("lead_history", order='"id"')["id"].tolist()
            assert ids[-1] == max(before["lead_history"]["id"]) + 1


@pytest.mark.postgis
def test_copy_refuses_a_filled_destination(gpkg_workspace, pg_workspace, leads_csv):
    ingest(gpkg_workspace, "leads", leads_csv, crs=4490)
    ingest(pg_workspace, "leads", leads_csv, crs=4490)
    with pytest.raises(WorkspaceError, match=r"not empty: leads \(6\), lead_status \(6\)"):
        copy_workspace(gpkg_workspace, pg_workspace)
    with pytest.raises(WorkspaceError, match="same workspace"):
        copy_workspace(gpkg_workspace, GeoPackageWorkspace(Path(gpkg_workspace.path)))


@pytest.mark.postgis
def test_db_init_and_copy_commands(pg_schema_url, zones_file, leads_csv, tmp_path,
                                   monkeypatch):
    from pipelines.cli.db import db_group  # the command line loads every command group

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(db_group, ["init", "-w", pg_schema_url])
    assert result.exit_code == 0, result.output
    assert "PostgreSQL 15." in result.output and "PostGIS 3." in result.output
    assert "工作空间已就绪" in result.output
    gpkg = tmp_path / "src.gpkg"
    with GeoPackageWorkspace(gpkg) as ws:
        _filled(ws, zones_file, leads_csv)
        before = snapshot(ws)
    result = runner.invoke(db_group, ["copy", str(gpkg), pg_schema_url])
    assert result.exit_code == 0, result.output
    assert "leads: 6" in result.output
    result = runner.invoke(db_group, ["copy", pg_schema_url, str(tmp_path / "back.gpkg")])
    assert result.exit_code == 0, result.output
    with GeoPackageWorkspace(tmp_path / "back.gpkg") as back:
        assert_same_workspace(snapshot(back), before)
    result = runner.invoke(db_group, ["copy", str(gpkg), pg_schema_url])
    assert result.exit_code == 1
    assert "not empty" in result.output


@pytest.mark.postgis
def test_reopen_adds_columns_the_tables_gained(pg_workspace):
    pg_workspace.execute('ALTER TABLE "leads" DROP COLUMN "note"')
    pg_workspace.close()
    with PostGISWorkspace(pg_workspace.url) as ws:
        assert "note" in ws.read_features("leads").columns
