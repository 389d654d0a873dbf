from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import shapely
from click.testing import CliRunner
from PIL import ExifTags, Image

from layers.files import file_sha256
from pipelines.cli import cli
from pipelines.errors import EvidenceError
from pipelines.ingest.files import ingest
from pipelines.verify.evidence import describe_evidence, distance_to_m, read_photo
from pipelines.verify.status import current_state, history, set_status


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return float(degrees), float(minutes), seconds


def make_photo(path: Path, *, lon: float | None = None, lat: float | None = None,
               taken: datetime | None = None) -> Path:
    """Write a small JPEG whose EXIF holds a GPS position and the time it was taken."""
    exif = Image.Exif()
    if taken is not None:
        exif[ExifTags.IFD.Exif] = {
            ExifTags.Base.DateTimeOriginal: taken.strftime("%Y:%m:%d %H:%M:%S"),
            ExifTags.Base.OffsetTimeOriginal: "+08:00",
        }
    if lon is not None and lat is not None:
        exif[ExifTags.IFD.GPSInfo] = {
            ExifTags.GPS.GPSLatitudeRef: "N" if lat >= 0 else "S",
            ExifTags.GPS.GPSLatitude: _dms(abs(lat)),
            ExifTags.GPS.GPSLongitudeRef: "E" if lon >= 0 else "W",
            ExifTags.GPS.GPSLongitude: _dms(abs(lon)),
        }
    Image.new("RGB", (32, 24), "olive").save(path, "JPEG", exif=exif)
    return path


@pytest.fixture
def dated(workspace, tmp_path: Path):
    """A workspace with one point lead at (126.5, 43.5) detected on 2024-06-15."""
    csv = tmp_path / "dated.csv"
    csv.write_text("线索编号,批次,经度,纬度,前时相,后时相\n"
                   "P001,2024-H1,126.50,43.50,2023-09-01,2024-06-15\n", encoding="utf-8")
    ingest(workspace, "leads", csv, crs="EPSG:4490")
    return workspace


def test_read_photo_position_and_time(tmp_path: Path):
    path = make_photo(tmp_path / "a.jpg", lon=126.512345, lat=43.498765,
                      taken=datetime(2024, 7, 2, 10, 30))
    info = read_photo(path)
    assert info is not None
    assert info.lon == pytest.approx(126.512345, abs=1e-6)
    assert info.lat == pytest.approx(43.498765, abs=1e-6)
    assert info.taken_at.isoformat() == "2024-07-02T10:30:00+08:00"


def test_southern_and_western_photos_are_negative(tmp_path: Path):
    info = read_photo(make_photo(tmp_path / "s.jpg", lon=-70.25, lat=-33.5))
    assert (info.lon, info.lat) == (pytest.approx(-70.25), pytest.approx(-33.5))
    assert info.taken_at is None


def test_photo_without_exif_and_a_document(tmp_path: Path):
    photo = make_photo(tmp_path / "plain.jpg")
    doc = tmp_path / "整改方案.pdf"
    doc.write_bytes(b"%PDF-1.4 not really")
    assert read_photo(photo) == read_photo(photo)  # stable
    assert read_photo(doc) is None
    entries = describe_evidence([photo, doc], geometry=shapely.Point(126.5, 43.5),
                                detected="2024-06-15")
    assert entries[0]["kind"] == "photo" and "distance_m" not in entries[0]
    assert entries[1] == {"path": str(doc), "name": "整改方案.pdf", "sha256": file_sha256(doc),
                          "bytes": doc.stat().st_size, "kind": "file"}


def test_distance_to_a_point_and_into_a_patch():
    assert distance_to_m(shapely.Point(126.5, 43.5), 126.5, 43.501) == pytest.approx(111.1, 0.01)
    patch = shapely.box(126.49, 43.49, 126.51, 43.51)
    assert distance_to_m(patch, 126.5, 43.5) == 0.0
    # 0.01° of longitude at 43.5° N is about 807 m
    assert distance_to_m(patch, 126.52, 43.5) == pytest.approx(807.5, abs=2)


def test_set_status_records_photos_compared_with_the_lead(dated, tmp_path: Path):
    near_after = make_photo(tmp_path / "现场1.jpg", lon=126.5, lat=43.501,
                            taken=datetime(2024, 7, 2, 9, 0))
    far_before = make_photo(tmp_path / "现场2.jpg", lon=126.52, lat=43.5,
                            taken=datetime(2024, 5, 1, 9, 0))
    same_day = make_photo(tmp_path / "现场3.jpg", lon=126.5, lat=43.5,
                          taken=datetime(2024, 6, 15, 18, 0))
    change = set_status(dated, "P001", "核查中", by="张三",
                        evidence=[near_after, far_before, same_day])
    entries = json.loads(history(dated, "P001")["evidence"].iloc[-1])
    assert [e["name"] for e in entries] == ["现场1.jpg", "现场2.jpg", "现场3.jpg"]
    assert [e["taken"] for e in entries] == ["after", "before", "same_day"]
    assert entries[0]["distance_m"] == pytest.approx(111.1, abs=0.5)
    assert entries[1]["distance_m"] == pytest.approx(1615, abs=5)
    assert entries[2]["distance_m"] == 0.0
    assert entries[0]["sha256"] == file_sha256(near_after)
    assert entries[0]["taken_at"] == "2024-07-02T09:00:00+08:00"
    assert change.evidence == tuple(entries)


def test_missing_evidence_changes_nothing(dated, tmp_path: Path):
    with pytest.raises(EvidenceError, match="不存在"):
        set_status(dated, "P001", "核查中", evidence=[tmp_path / "gone.jpg"])
    assert current_state(dated, "P001")["version"] == 1


def test_history_command_shows_the_photo_checks(dated, tmp_path: Path):
    photo = make_photo(tmp_path / "现场.jpg", lon=126.5, lat=43.501,
                       taken=datetime(2024, 5, 20, 9, 0))
    runner = CliRunner()
    ws = str(dated.location)
    result = runner.invoke(cli, ["status", "set", "P001", "核查中", "-w", ws, "--by", "张三",
                                 "--evidence", str(photo)])
    assert result.exit_code == 0, result.output
    assert "距线索 111 米" in result.output and "检测前拍摄 2024-05-20" in result.output
    result = runner.invoke(cli, ["status", "history", "P001", "-w", ws])
    assert result.exit_code == 0, result.output
    assert "现场.jpg" in result.output and "距线索 111 米" in result.output
    assert "检测前拍摄" in result.output
