"""``lvdun field import``: QField GeoPackages, ODK submissions and 奥维 KML read back with the
ledger import's rules (legal transitions, versions, report, idempotent)."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
import zipfile

import pyogrio
import pytest
from click.testing import CliRunner
from PIL import Image

from pipelines.cli import cli
from pipelines.errors import LedgerError
from pipelines.publish.field import field_package
from pipelines.publish.views import leads_view
from pipelines.verify.field_import import import_field
from pipelines.verify.status import current_state, history, set_status

NS = "http://www.opengis.net/kml/2.2"


@pytest.fixture
def r01(classified) -> list[str]:
    return sorted(leads_view(classified, by="reserve", codes=["R01"])["lead_id"])


def _edit_gpkg(path, lead, **values):
    """Edit one feature of layer ``leads`` as QField does, through GDAL."""
    leads = pyogrio.read_dataframe(path, layer="leads")
    for key, value in values.items():
        leads.loc[leads["lead_id"] == lead, key] = value
    pyogrio.write_dataframe(leads, path, layer="leads", driver="GPKG")


def _history_rows(ws) -> int:
    return ws.count("lead_history")


# -- QField -----------------------------------------------------------------------------------
def test_qfield_edits_apply_refuse_and_repeat_changes_nothing(classified, r01, tmp_path):
    gpkg = field_package(classified, "R01", app="qfield", out_dir=tmp_path).files[1]
    first, second = r01[0], r01[1]
    _edit_gpkg(gpkg, first, status="问题", note="新建采石场，已停工")
    _edit_gpkg(gpkg, second, status="非问题")  # no reason: refused
    dry = import_field(classified, gpkg, by="张三", dry_run=True)
    assert (dry.count("applied"), dry.count("refused")) == (1, 1)
    assert current_state(classified, first)["status"] == "pending"
    report = import_field(classified, gpkg, by="张三")
    assert (report.count("applied"), report.count("refused")) == (1, 1)
    refused = next(r for r in report.rows if r.outcome == "refused")
    assert refused.lead_id == second and refused.problem == "illegal"
    assert "须给出原因" in refused.message
    state = current_state(classified, first)
    assert (state["status"], state["version"]) == ("problem", 2)
    assert state["opinion"] == "新建采石场，已停工"
    assert history(classified, first)["by"].iloc[-1] == "张三"
    before = _history_rows(classified)
    again = import_field(classified, gpkg, by="张三")
    assert again.count("applied") == 0 and _history_rows(classified) == before


def test_qfield_stale_edit_is_a_conflict_with_both_sides(classified, r01, tmp_path):
    gpkg = field_package(classified, "R01", app="qfield", out_dir=tmp_path).files[1]
    lead, untouched = r01[0], r01[1]
    set_status(classified, lead, "核查中", by="李四")
    set_status(classified, untouched, "核查中", by="李四")  # changed here, not in the field
    _edit_gpkg(gpkg, lead, status="问题")
    report = import_field(classified, gpkg, by="张三")
    row = next(r for r in report.rows if r.lead_id == lead)
    assert row.problem == "conflict"
    assert "版本 1" in row.message and "版本 2" in row.message
    assert "文件：核查状态 问题" in row.message and "工作空间：核查状态 核查中" in row.message
    other = next(r for r in report.rows if r.lead_id == untouched)
    assert other.outcome == "unchanged"  # an unedited row is no edit, whatever changed since
    assert current_state(classified, lead)["status"] == "in_field"


def test_qfield_photo_becomes_evidence(classified, r01, tmp_path):
    gpkg = field_package(classified, "R01", app="qfield", out_dir=tmp_path).files[1]
    (tmp_path / "DCIM").mkdir()
    Image.new("RGB", (8, 8), "green").save(tmp_path / "DCIM" / "p1.jpg")
    _edit_gpkg(gpkg, r01[0], status="核查中", photo="DCIM/p1.jpg")
    assert import_field(classified, gpkg, by="张三").count("applied") == 1
    evidence = history(classified, r01[0])["evidence"].iloc[-1]
    assert "p1.jpg" in evidence and "sha256" in evidence


def test_a_package_of_another_reserve_cannot_change_this_one(classified, r01, tmp_path):
    gpkg = field_package(classified, "R01", app="qfield", out_dir=tmp_path).files[1]
    outsider = next(k for k in leads_view(classified)["lead_id"] if k not in r01)
    _edit_gpkg(gpkg, r01[0], lead_id=outsider, status="问题")
    report = import_field(classified, gpkg, by="张三")
    assert [r.problem for r in report.rows if r.lead_id == outsider] == ["scope"]


# -- ODK ------------------------------------------------------------------------------------
def _submissions(path, package_id, rows):
    header = ["SubmissionDate", "lead", "lead_version", "lead_status", "package_id",
              "position-Latitude", "position-Longitude", "position-Altitude",
              "position-Accuracy", "verdict", "reason", "notes", "photo1", "photo2", "photo3",
              "status_label", "meta-instanceID", "KEY", "SubmitterName", "ReviewState"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for k, row in enumerate(rows):
            values = {"SubmissionDate": "2025-06-01T08:00:00.000Z", "package_id": package_id,
                      "position-Latitude": "43.5001", "position-Longitude": "126.5001",
                      "position-Altitude": "300", "position-Accuracy": "4.5",
                      "meta-instanceID": f"uuid:{k}", "KEY": f"uuid:{k}",
                      "SubmitterName": "field1", **row}
            writer.writerow([values.get(h, "") for h in header])


def test_odk_submissions_apply_with_reason_photo_and_position(classified, r01, tmp_path):
    package = field_package(classified, "R01", app="odk", out_dir=tmp_path)
    pid = f"lvdun:{classified.read_table_equal('meta', 'name', 'workspace_id')['value'].iloc[0]}" \
          f":{package.run_id}:"
    (tmp_path / "media").mkdir()
    Image.new("RGB", (8, 8), "red").save(tmp_path / "media" / "1717228800000.jpg")
    csv_path = tmp_path / "lvdun_R01_verify.csv"
    _submissions(csv_path, pid, [
        {"lead": r01[0], "verdict": "problem", "notes": "路边新建房屋",
         "photo1": "1717228800000.jpg"},
        {"lead": r01[1], "verdict": "not_problem", "reason": "r2"},
    ])
    report = import_field(classified, csv_path, by="王五")
    assert report.count("applied") == 2, [r.message for r in report.rows]
    first = current_state(classified, r01[0])
    assert first["status"] == "problem"
    assert first["opinion"].startswith("路边新建房屋（核查位置 126.500100,43.500100（精度 4.5 米）")
    assert "1717228800000.jpg" in history(classified, r01[0])["evidence"].iloc[-1]
    second = current_state(classified, r01[1])
    assert (second["status"], second["reason"]) == ("not_problem", "手续合法")
    before = _history_rows(classified)
    assert import_field(classified, csv_path, by="王五").count("applied") == 0
    assert _history_rows(classified) == before


def test_odk_csv_that_is_no_submission_export_is_refused(classified, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(LedgerError, match=r"x\.csv：没有 lead、verdict 和 package_id 列"):
        import_field(classified, path, by="王五")


def test_odk_bad_position_names_row_and_column(classified, r01, tmp_path):
    package = field_package(classified, "R01", app="odk", out_dir=tmp_path)
    csv_path = tmp_path / "s.csv"
    _submissions(csv_path, f"lvdun:x:{package.run_id}:",
                 [{"lead": r01[0], "verdict": "problem", "position-Latitude": "north"}])
    with pytest.raises(LedgerError, match=r"s.csv，第 2 行，position-Latitude 列：'north'"):
        import_field(classified, csv_path, by="王五")


# -- 奥维 / 两步路 ------------------------------------------------------------------------------
def _placemarks(root):
    return {p.findtext(f"{{{NS}}}name"): p for p in root.iter(f"{{{NS}}}Placemark")}


def test_kml_saved_back_from_ovital(classified, r01, tmp_path):
    kmz = field_package(classified, "R01", app="kmz", out_dir=tmp_path,
                        coords="gcj02").files[0]
    with zipfile.ZipFile(kmz) as archive:
        root = ET.fromstring(archive.read("doc.kml"))
    marks = _placemarks(root)
    description = marks[r01[0]].find(f"{{{NS}}}description")
    description.text += "\n核查状态：问题\n现场为新建养殖场"
    point = marks[r01[1]].find(f".//{{{NS}}}Point/{{{NS}}}coordinates")
    lon, lat = map(float, point.text.split(","))
    point.text = f"{lon + 0.002:.7f},{lat:.7f}"  # moved about 160 m east
    saved = tmp_path / "奥维导出.kml"
    ET.ElementTree(root).write(saved, encoding="utf-8", xml_declaration=True)
    report = import_field(classified, saved, by="赵六")
    applied = {r.lead_id: r for r in report.rows if r.outcome == "applied"}
    assert set(applied) == {r01[0], r01[1]}, [(r.lead_id, r.message) for r in report.rows]
    first = current_state(classified, r01[0])
    assert (first["status"], first["opinion"]) == ("problem", "现场为新建养殖场")
    moved = current_state(classified, r01[1])
    assert moved["status"] == "pending" and moved["opinion"].startswith("奥维标注位置 ")
    assert "距线索中心 16" in moved["opinion"]  # shifted back from GCJ-02 before measuring
    unmoved = [r for r in report.rows if r.lead_id not in applied]
    assert all(r.outcome == "unchanged" for r in unmoved)
    before = _history_rows(classified)
    assert import_field(classified, saved, by="赵六").count("applied") == 0
    assert _history_rows(classified) == before


def test_kml_without_identity_is_refused(classified, r01, tmp_path):
    path = tmp_path / "mine.kml"
    path.write_text(f'<kml xmlns="{NS}"><Document><Placemark><name>{r01[0]}</name>'
                    "<description>核查状态：问题</description><Point><coordinates>126.5,43.5"
                    "</coordinates></Point></Placemark></Document></kml>", encoding="utf-8")
    with pytest.raises(LedgerError, match="标注没有野外包的台账标识"):
        import_field(classified, path, by="赵六")


def test_unknown_file_kind(classified, tmp_path):
    path = tmp_path / "notes.docx"
    path.write_bytes(b"x")
    with pytest.raises(LedgerError, match=r"notes\.docx：野外应用的文件是 .* 之一"):
        import_field(classified, path, by="赵六")


# -- the command ----------------------------------------------------------------------------
def test_cli_package_and_import(classified, r01, tmp_path):
    ws = str(classified.location)
    runner = CliRunner()
    out = tmp_path / "pkg"
    done = runner.invoke(cli, ["field", "package", "-w", ws, "--reserve", "R01", "--app",
                               "qfield", "--out", str(out)])
    assert done.exit_code == 0, done.output
    gpkg = out / "甲保护区_R01.gpkg"
    assert gpkg.exists() and (out / "甲保护区_R01.qgz").exists()
    _edit_gpkg(gpkg, r01[0], status="问题")
    dry = runner.invoke(cli, ["field", "import", str(gpkg), "-w", ws, "--by", "张三",
                              "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "试运行，未作改动：将会 已应用 1" in dry.output
    done = runner.invoke(cli, ["field", "import", str(gpkg), "-w", ws, "--by", "张三"])
    assert done.exit_code == 0 and "已应用 1" in done.output
    bad = runner.invoke(cli, ["field", "package", "-w", ws, "--reserve", "R99", "--app", "kmz",
                              "--out", str(out)])
    assert bad.exit_code == 1 and "no leads in reserve 'R99'" in bad.output
    assert "Traceback" not in bad.output


def test_kml_whose_data_is_named_in_chinese(classified, r01, tmp_path):
    """An app that shows data by display name saves it back as 线索编号; a person retitled
    the placemark: it is still the lead of its 线索编号."""
    kmz = field_package(classified, "R01", app="kmz", out_dir=tmp_path).files[0]
    with zipfile.ZipFile(kmz) as archive:
        root = ET.fromstring(archive.read("doc.kml"))
    mark = _placemarks(root)[r01[0]]
    mark.find(f"{{{NS}}}name").text = "采石场一处"
    for data in mark.iter(f"{{{NS}}}Data"):
        if data.get("name") == "lead_id":
            data.set("name", "线索编号")
    mark.find(f"{{{NS}}}description").text += "\n核查状态：问题"
    saved = tmp_path / "两步路导出.kml"
    ET.ElementTree(root).write(saved, encoding="utf-8", xml_declaration=True)
    report = import_field(classified, saved, by="赵六")
    assert [r.lead_id for r in report.rows if r.outcome == "applied"] == [r01[0]]
    assert current_state(classified, r01[0])["status"] == "problem"


def test_qfield_layer_with_chinese_field_names(classified, r01, tmp_path):
    gpkg = field_package(classified, "R01", app="qfield", out_dir=tmp_path).files[1]
    leads = pyogrio.read_dataframe(gpkg, layer="leads")
    leads.loc[leads["lead_id"] == r01[0], "status"] = "问题"
    leads = leads.rename(columns={"lead_id": "线索编号", "status": "核查状态",
                                  "ledger_id": "台账标识"})
    pyogrio.write_dataframe(leads, gpkg, layer="leads", driver="GPKG")
    report = import_field(classified, gpkg, by="赵六")
    assert [r.lead_id for r in report.rows if r.outcome == "applied"] == [r01[0]]
    assert current_state(classified, r01[0])["status"] == "problem"
