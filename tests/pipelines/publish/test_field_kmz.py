"""The 奥维 / 两步路 package: a KMZ read back with zipfile and ElementTree, as the apps read it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile

import pytest

from geo.shift import wgs84_to_gcj02
from pipelines.errors import NotFoundError, WorkspaceError
from pipelines.publish.field import field_package
from pipelines.publish.views import leads_view
from pipelines.verify.status import set_status

NS = {"k": "http://www.opengis.net/kml/2.2"}


def _kml(path):
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist()[0] == "doc.kml"
        assert {f"files/{s}.png" for s in ("pending", "problem")} <= set(archive.namelist())
        return ET.fromstring(archive.read("doc.kml"))


def _folder(root, name):
    return next(f for f in root.iterfind(".//k:Folder", NS) if f.findtext("k:name", None, NS)
                == name)


def _r01(ws):
    return leads_view(ws, by="reserve", codes=["R01"]).set_index("lead_id")


def test_one_placemark_per_lead_styled_by_status(classified, tmp_path):
    lead = _r01(classified).index[0]
    set_status(classified, lead, "问题", by="张三")
    package = field_package(classified, "R01", app="kmz", out_dir=tmp_path)
    assert package.files == [tmp_path / "甲保护区_R01.kmz"]
    root = _kml(package.files[0])
    marks = _folder(root, "线索").findall("k:Placemark", NS)
    view = _r01(classified)
    assert sorted(m.findtext("k:name", None, NS) for m in marks) == sorted(view.index)
    by_name = {m.findtext("k:name", None, NS): m for m in marks}
    assert by_name[lead].findtext("k:styleUrl", None, NS) == "#status_problem"
    style = root.find(".//k:Style[@id='status_problem']", NS)
    assert style.findtext("k:IconStyle/k:color", None, NS) == "ff1c1ae3"  # aabbggrr
    description = by_name[lead].findtext("k:description", None, NS)
    assert "<th>线索编号</th>" in description and "<th>核查状态</th><td>问题</td>" in description
    data = {d.get("name"): d.findtext("k:value", None, NS)
            for d in by_name[lead].iterfind("k:ExtendedData/k:Data", NS)}
    assert data["lead_id"] == lead and data["status"] == "问题" and data["version"] == "2"
    assert data["台账标识"].startswith("lvdun:") and package.run_id in data["台账标识"]
    lon, lat = map(float, by_name[lead].findtext(".//k:Point/k:coordinates", None, NS)
                   .split(","))
    assert (lon, lat) == pytest.approx((view.loc[lead, "lon"], view.loc[lead, "lat"]), abs=1e-7)


def test_zones_are_styled_polygons(classified, tmp_path):
    root = _kml(field_package(classified, "R01", app="kmz", out_dir=tmp_path).files[0])
    zones = _folder(root, "功能区").findall("k:Placemark", NS)
    assert sorted(z.findtext("k:name", None, NS) for z in zones) == \
        ["甲保护区 实验区", "甲保护区 核心区", "甲保护区 缓冲区"]
    assert all(z.find(".//k:Polygon/k:outerBoundaryIs/k:LinearRing/k:coordinates", NS)
               is not None for z in zones)
    assert {z.findtext("k:styleUrl", None, NS) for z in zones} == \
        {"#zone_core", "#zone_buffer", "#zone_experimental"}
    ring = _folder(root, "功能区").find(".//k:Polygon//k:coordinates", NS).text.split()
    assert ring[0] == ring[-1]  # closed rings
    assert len(_folder(root, "保护区边界").findall("k:Placemark", NS)) == 1


def test_gcj02_shifts_every_position(classified, tmp_path):
    plain = _kml(field_package(classified, "R01", app="kmz", out_dir=tmp_path / "a").files[0])
    shifted = _kml(field_package(classified, "R01", app="kmz", out_dir=tmp_path / "b",
                                 coords="gcj02").files[0])
    first = plain.find(".//k:Point/k:coordinates", NS).text
    moved = shifted.find(".//k:Point/k:coordinates", NS).text
    lon, lat = map(float, first.split(","))
    expected = wgs84_to_gcj02(lon, lat)
    assert tuple(map(float, moved.split(","))) == pytest.approx(
        (float(expected[0]), float(expected[1])), abs=1e-7)
    assert tuple(map(float, moved.split(","))) != (lon, lat)
    data = {d.get("name"): d.findtext("k:value", None, NS)
            for d in shifted.iterfind("k:Document/k:ExtendedData/k:Data", NS)}
    assert data["lvdun:coords"] == "gcj02"


def test_unknown_reserve_and_bad_options_are_clear_errors(classified, tmp_path):
    with pytest.raises(NotFoundError, match="no leads in reserve 'R99'"):
        field_package(classified, "R99", app="kmz", out_dir=tmp_path)
    with pytest.raises(WorkspaceError, match="--coords gcj02 applies to --app kmz only"):
        field_package(classified, "R01", app="odk", out_dir=tmp_path, coords="gcj02")
    with pytest.raises(WorkspaceError, match="unknown app"):
        field_package(classified, "R01", app="mapinfo", out_dir=tmp_path)


def test_values_a_person_reads_are_chinese(classified, tmp_path):
    root = _kml(field_package(classified, "R01", app="kmz", out_dir=tmp_path).files[0])
    marks = {m.findtext("k:name", None, NS): m
             for m in _folder(root, "线索").findall("k:Placemark", NS)}
    description = marks["L001"].findtext("k:description", None, NS)
    assert "<th>保护区级别</th><td>国家级</td>" in description
    assert "<th>面积(平方米)</th><td>2000</td>" in description
    assert "<th>面积(亩)</th><td>3</td>" in description
    assert "national" not in description
    shown = {d.get("name"): d.findtext("k:displayName", None, NS)
             for d in marks["L001"].iterfind("k:ExtendedData/k:Data", NS)}
    assert shown["lead_id"] == "线索编号" and shown["status"] == "核查状态"
