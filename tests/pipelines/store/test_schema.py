"""Schema versions: a workspace of an older lvdun is upgraded on open, a newer one refused.

An "old" workspace is made in code: a current one with a column, a layer and a table
dropped and no recorded schema version, as a lvdun before that version left it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from pipelines.errors import StoreError, WorkspaceVersionError
from pipelines.ingest.files import ingest
from pipelines.store import Workspace, open_workspace
from pipelines.store.base import _ident
from pipelines.store.gpkg import GeoPackageWorkspace
from pipelines.store.tables import (
    FEATURE_LAYERS,
    GEOMETRY_TYPES,
    SCHEMA_VERSION,
    TABLE_KEYS,
    TABLES,
    VERSION_TABLE,
)

#: The schema each version stands for (digest of tables.py's definitions). When this test
#: fails, a layer, table or column was changed: bump SCHEMA_VERSION and add its digest.
_DIGESTS = {1: "b288bf84a252", 2: "bae4f2fa98bb", 3: "195687aff1e5", 4: "da822c69565a"}


def _reopen(ws: Workspace) -> Workspace:
    """A new, unopened workspace object for the same place as ``ws``."""
    return open_workspace(getattr(ws, "url", None) or ws.path)


def _make_old(ws: Workspace) -> None:
    """Turn ``ws`` into the workspace of an older lvdun, then close it."""
    with ws.transaction():
        ws.execute('ALTER TABLE "leads" DROP COLUMN "note"')
        ws.execute('ALTER TABLE "lead_class" DROP COLUMN "mine_flag"')
        ws.execute('DROP TABLE "lead_opinion"')
        ws.execute('DROP TABLE "admin"')
        ws.execute(f"DROP TABLE {_ident(VERSION_TABLE)}")
    ws.close()


def _columns(ws: Workspace, name: str) -> list[str]:
    cur = ws.execute(f"SELECT * FROM {_ident(name)} WHERE 1 = 0")
    return [d[0] for d in cur.description]


def test_schema_version_matches_the_table_definitions():
    schema = json.dumps([FEATURE_LAYERS, GEOMETRY_TYPES, TABLES, TABLE_KEYS], sort_keys=True)
    digest = hashlib.sha256(schema.encode()).hexdigest()[:12]
    assert _DIGESTS.get(SCHEMA_VERSION) == digest, (
        f"tables.py changed (digest {digest}): bump SCHEMA_VERSION and record the digest")


def test_new_workspace_records_the_current_version(any_workspace: Workspace):
    assert any_workspace.schema_version() == SCHEMA_VERSION
    rows = any_workspace.query(f"SELECT version, lvdun FROM {_ident(VERSION_TABLE)}")
    assert rows["version"].tolist() == [SCHEMA_VERSION]


def test_reopening_an_old_workspace_adds_what_is_missing(any_workspace: Workspace, leads_csv,
                                                        caplog):
    ingest(any_workspace, "leads", leads_csv, crs="EPSG:4490")
    _make_old(any_workspace)
    with caplog.at_level(logging.INFO, logger="pipelines.store"):
        ws = _reopen(any_workspace)
        ws.open()
    try:
        assert "note" in _columns(ws, "leads") and "mine_flag" in _columns(ws, "lead_class")
        leads = ws.read_features("leads")
        assert len(leads) == 6 and leads["note"].isna().all()  # kept rows, new column empty
        assert ws.count("admin") == 0 and ws.count("lead_opinion") == 0
        assert ws.schema_version() == SCHEMA_VERSION
        ws.upsert_rows("lead_opinion", pd.DataFrame([{"lead_id": "L001", "opinion": "现场核实"}]))
        assert ws.read_table("lead_opinion")["opinion"].tolist() == ["现场核实"]
    finally:
        ws.close()
    upgrade = [r.getMessage() for r in caplog.records if "upgraded workspace" in r.getMessage()]
    assert len(upgrade) == 1 and upgrade[0].endswith(
        f"from schema version 0 to {SCHEMA_VERSION}: added table admin, table lead_opinion, "
        "column leads.note, column lead_class.mine_flag")
    assert [r.levelno for r in caplog.records if "upgraded" in r.getMessage()] == [logging.INFO]
    with caplog.at_level(logging.INFO, logger="pipelines.store"):
        caplog.clear()
        with _reopen(any_workspace) as again:  # nothing left to do
            assert again.schema_version() == SCHEMA_VERSION
    assert not [r for r in caplog.records if "workspace" in r.getMessage()]


def test_failed_upgrade_changes_nothing(any_workspace: Workspace, monkeypatch):
    _make_old(any_workspace)
    ws = _reopen(any_workspace)
    name = "_add_columns" if hasattr(ws, "url") else "_add_missing_columns"
    original = getattr(type(ws), name)

    def fail_after_adding(self, *args):
        done = original(self, *args)
        if done is None or done:  # PostGIS adds every column at once, GeoPackage per table
            raise StoreError("disk full")
        return done

    monkeypatch.setattr(type(ws), name, fail_after_adding)
    with pytest.raises(StoreError, match="disk full"):
        ws.open()
    monkeypatch.undo()
    probe = _reopen(any_workspace)
    probe._conn = probe._connect()  # look without upgrading
    try:
        assert not probe._has_table("admin") and not probe._has_table("lead_opinion")
        assert not probe._has_table(VERSION_TABLE)
        assert "note" not in _columns(probe, "leads")
    finally:
        probe.close()


def test_newer_workspace_is_refused_untouched(any_workspace: Workspace, leads_csv):
    ingest(any_workspace, "leads", leads_csv, crs="EPSG:4490")
    any_workspace.execute(f"INSERT INTO {_ident(VERSION_TABLE)} (version, lvdun, upgraded_at) "
                          "VALUES (?, '99.0', '2099-01-01T00:00:00+00:00')",
                          [SCHEMA_VERSION + 1])
    any_workspace.execute('ALTER TABLE "leads" DROP COLUMN "note"')
    any_workspace.close()
    ws = _reopen(any_workspace)
    with pytest.raises(WorkspaceVersionError,
                       match=rf"schema version {SCHEMA_VERSION + 1}, written by lvdun 99\.0.*"
                             "upgrade lvdun"):
        ws.open()
    assert ws._conn is None  # closed: no way around the check
    probe = _reopen(any_workspace)
    probe._conn = probe._connect()
    try:
        assert "note" not in _columns(probe, "leads")  # not "repaired" either
        assert probe.count("leads") == 6
    finally:
        probe.close()


def test_command_line_tells_to_upgrade(tmp_path):
    from pipelines.cli import cli

    path = tmp_path / "new.gpkg"
    with GeoPackageWorkspace(path) as ws:
        ws.execute(f"INSERT INTO {_ident(VERSION_TABLE)} VALUES (?, '99.0', 'x')",
                   [SCHEMA_VERSION + 1])
    result = CliRunner().invoke(cli, ["report", "-w", str(path)])
    assert result.exit_code == 1
    assert "upgrade lvdun" in result.output and "Traceback" not in result.output


def test_upgraded_geopackage_stays_valid(tmp_path, leads_csv):
    path = tmp_path / "old.gpkg"
    with GeoPackageWorkspace(path) as ws:
        ingest(ws, "leads", leads_csv, crs="EPSG:4490")
    _make_old(GeoPackageWorkspace(path))
    with GeoPackageWorkspace(path):
        pass
    layers = dict(pyogrio.list_layers(path))
    assert {"leads", "admin", "lead_opinion"} <= set(layers)
    assert VERSION_TABLE not in layers  # bookkeeping, not a layer users see
    assert len(pyogrio.read_dataframe(path, layer="leads")) == 6
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 10200  # GeoPackage 1.2
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        kinds = dict(conn.execute("SELECT table_name, data_type FROM gpkg_contents"))
        geometry = conn.execute("SELECT geometry_type_name, srs_id FROM gpkg_geometry_columns "
                                "WHERE table_name = 'admin'").fetchall()
    assert kinds["admin"] == "features" and kinds["lead_opinion"] == "attributes"
    assert geometry == [("MULTIPOLYGON", 4490)]
