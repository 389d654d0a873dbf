"""Evidence kept in the workspace by content hash, and photos far from their lead flagged."""

# ruff: noqa: F811 -- fixtures imported from tests/pipelines/store/conftest.py

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pyogrio
import pytest
from click.testing import CliRunner

from layers.files import file_sha256
from pipelines.cli import cli
from pipelines.cli.options import settings
from pipelines.ingest.files import ingest
from pipelines.publish.field import field_package
from pipelines.publish.views import leads_view
from pipelines.settings import Settings
from pipelines.verify.evidence import PHOTO_WARN_M, evidence_summary, stored_evidence
from pipelines.verify.field_import import import_field
from pipelines.verify.status import history, set_status
from tests.pipelines.store.conftest import (  # noqa: F401
    any_workspace,
    gpkg_workspace,
    pg_database,
    pg_schema_url,
    pg_workspace,
)
from tests.pipelines.verify.test_evidence import make_photo


@pytest.fixture
def lead(any_workspace, tmp_path: Path):
    """Any workspace with one point lead at (126.5, 43.5) detected on 2024-06-15."""
    csv = tmp_path / "lead.csv"
    csv.write_text("线索编号,批次,经度,纬度,后时相\nP001,2024-H1,126.50,43.50,2024-06-15\n",
                   encoding="utf-8")
    ingest(any_workspace, "leads", csv, crs="EPSG:4490")
    return any_workspace


def test_a_photo_is_copied_into_the_workspace_by_its_hash(lead, tmp_path: Path):
    photo = make_photo(tmp_path / "现场.jpg", lon=126.5, lat=43.5001,
                       taken=datetime(2024, 7, 2, 9, 0))
    content, sha = photo.read_bytes(), file_sha256(photo)
    set_status(lead, "P001", "核查中", by="张三", evidence=[photo])
    photo.unlink()  # the field laptop's folder is gone: the workspace still holds it
    (entry,) = json.loads(history(lead, "P001")["evidence"].iloc[-1])
    assert entry["sha256"] == sha and entry["name"] == "现场.jpg"
    assert str(tmp_path / "现场.jpg") not in entry["path"] and sha in entry["path"]
    assert stored_evidence(lead, entry) == content
    # the same content attached again is kept once
    again = make_photo(tmp_path / "again.jpg", lon=126.5, lat=43.5001,
                       taken=datetime(2024, 7, 2, 9, 0))
    set_status(lead, "P001", "问题", by="张三", evidence=[again])
    (second,) = json.loads(history(lead, "P001")["evidence"].iloc[-1])
    assert second["path"] == entry["path"]


def test_a_photo_64_km_away_is_flagged_in_the_entry_and_the_note(lead, tmp_path: Path):
    far = make_photo(tmp_path / "远.jpg", lon=127.3, lat=43.5, taken=datetime(2024, 7, 2))
    near = make_photo(tmp_path / "近.jpg", lon=126.5, lat=43.501, taken=datetime(2024, 7, 2))
    change = set_status(lead, "P001", "核查中", by="张三", note="现场核查", evidence=[far, near])
    far_entry, near_entry = change.evidence
    assert far_entry["distance_m"] == pytest.approx(64_600, rel=0.01)
    assert far_entry["far_m"] == PHOTO_WARN_M == 500.0 and "far_m" not in near_entry
    assert "超过 500 米，请核实拍摄地点" in evidence_summary(far_entry)
    note = history(lead, "P001")["note"].iloc[-1]
    assert note.startswith("现场核查；照片远离线索（超过 500 米）：远.jpg 距线索 64")
    assert "近.jpg" not in note


def test_the_threshold_is_a_setting_shown_by_the_command(tmp_path: Path):
    assert Settings().photo_warn_m == PHOTO_WARN_M
    csv = tmp_path / "lead.csv"
    csv.write_text("线索编号,批次,经度,纬度\nP001,2024-H1,126.50,43.50\n", encoding="utf-8")
    ws = str(tmp_path / "ws.gpkg")
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", "leads", str(csv), "-w", ws]).exit_code == 0
    photo = make_photo(tmp_path / "p.jpg", lon=126.52, lat=43.5)  # about 1.6 km east
    result = runner.invoke(cli, ["status", "set", "P001", "核查中", "-w", ws, "--evidence",
                                 str(photo)])
    assert result.exit_code == 0, result.output
    assert "超过 500 米" in result.output
    settings.cache_clear()  # read once per process: this run reads the environment anew
    try:
        result = runner.invoke(cli, ["status", "set", "P001", "问题", "-w", ws, "--evidence",
                                     str(photo)], env={"LVDUN_PHOTO_WARN_M": "5000"})
    finally:
        settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "距线索 16" in result.output and "超过" not in result.output


def test_a_field_import_photo_is_stored_not_referenced(classified, tmp_path: Path):
    lead_id = sorted(leads_view(classified, by="reserve", codes=["R01"])["lead_id"])[0]
    gpkg = field_package(classified, "R01", app="qfield", out_dir=tmp_path).files[1]
    (tmp_path / "DCIM").mkdir()
    photo = make_photo(tmp_path / "DCIM" / "p1.jpg", lon=126.5, lat=43.5)
    content = photo.read_bytes()
    leads = pyogrio.read_dataframe(gpkg, layer="leads")
    leads.loc[leads["lead_id"] == lead_id, ["status", "photo"]] = ["核查中", "DCIM/p1.jpg"]
    pyogrio.write_dataframe(leads, gpkg, layer="leads", driver="GPKG")
    assert import_field(classified, gpkg, by="张三").count("applied") == 1
    photo.unlink()
    (entry,) = json.loads(history(classified, lead_id)["evidence"].iloc[-1])
    assert "DCIM" not in entry["path"] and stored_evidence(classified, entry) == content
