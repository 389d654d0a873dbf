"""GIS exports read back as GIS users read them: GDAL (pyogrio), a KML parser, QGIS.

Field names and values are the ledger's Chinese ones (保护区级别 国家级, 功能区 核心区, 核查状态
待核查); numbers are numeric fields and dates date fields; shapefiles have short Chinese
names in a GBK ``.dbf`` with a ``.cpg`` saying GBK.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import xml.etree.ElementTree as ET
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from layers.schema import LEVEL_LABELS, SQM_PER_MU, STATUS_LABELS, ZONE_LABELS
from pipelines.publish.export import export
from pipelines.publish.export.gis import GIS_ENCODING, SHP_FIELDS, gis_columns
from pipelines.verify.status import set_status
from tests.conftest import require_service

SYSTEM_PYTHON = Path("/usr/bin/python3")
#: Codes that must not reach a person in place of their labels.
CODES = {"national", "provincial", "core", "buffer", "experimental", "core_protection",
         "general_control", "pending", "problem", "rectifying"}


def _export(ws, tmp_path: Path, fmt: str) -> dict[str, Path]:
    report = export(ws, tmp_path / fmt, formats=(fmt,))
    return {label: files[0] for label, files in report.files.items()}


def test_shapefile_names_fit_the_dbf_and_are_unique():
    assert set(SHP_FIELDS) == set(gis_columns())
    for name in SHP_FIELDS.values():
        assert len(name.encode(GIS_ENCODING)) <= 10, name
    assert len(set(SHP_FIELDS.values())) == len(SHP_FIELDS)


@pytest.mark.parametrize(("fmt", "names"), [("gpkg", gis_columns()),
                                            ("geojson", gis_columns()),
                                            ("shp", SHP_FIELDS)])
def test_chinese_names_labels_and_typed_fields(classified, tmp_path: Path, fmt: str, names):
    set_status(classified, "L002", "问题", by="张三")
    set_status(classified, "L002", "整改中", by="张三", responsible_unit="安图县林业局",
               measures="拆除", deadline="2025-06-30")
    path = _export(classified, tmp_path, fmt)["甲保护区"]
    info = pyogrio.read_info(path)
    types = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert list(types) == list(names.values())
    for canon in ("area_m2", "area_mu", "dist_boundary_m", "lon", "lat"):
        assert types[names[canon]] == "float64", canon
    assert types[names["rounds"]].startswith("int") and types[names["version"]].startswith("int")
    # GeoJSON has no field types: GDAL tells a date field by its values (blank ones: text)
    for canon in ("deadline",) if fmt == "geojson" else ("date_before", "date_after",
                                                         "deadline"):
        assert types[names[canon]] == "datetime64[D]", canon
    frame = pyogrio.read_dataframe(path).set_index(names["lead_id"])
    assert sorted(frame.index) == ["L001", "L002", "L003", "L006"]
    assert set(frame[names["reserve_level"]]) == {LEVEL_LABELS["national"]}
    assert set(frame[names["zone_label"]]) == {ZONE_LABELS["core"], ZONE_LABELS["buffer"],
                                               ZONE_LABELS["experimental"]}  # L003
    assert frame.loc["L002", names["status_label"]] == STATUS_LABELS["rectifying"]
    assert frame.loc["L001", names["status_label"]] == "待核查"
    assert frame.loc["L001", names["activity_type"]] == "采石场"
    assert frame.loc["L001", names["area_m2"]] == pytest.approx(2000.0)
    assert frame.loc["L001", names["area_mu"]] == pytest.approx(2000.0 / SQM_PER_MU)
    assert frame.loc["L002", names["deadline"]].date() == date(2025, 6, 30)
    assert frame.loc["L002", names["responsible_unit"]] == "安图县林业局"
    text = {str(v) for column in frame.columns if column != "geometry"
            for v in frame[column].dropna()}
    assert not text & CODES
    assert "台账标识" not in frame.columns and "ledger_id" not in frame.columns


def test_gpkg_time_of_change_is_utc_as_the_format_wants(classified, tmp_path: Path):
    path = _export(classified, tmp_path, "gpkg")["甲保护区"]
    frame = pyogrio.read_dataframe(path)
    stamp = frame["更新时间"].iloc[0]
    assert str(stamp.tzinfo) == "UTC"
    state = classified.read_table("lead_status").set_index("lead_id")
    stored = state.loc[frame["线索编号"].iloc[0], "updated_at"]
    assert abs((stamp - pd.Timestamp(stored)).total_seconds()) < 1


def test_shapefile_is_gbk_with_its_cpg(classified, tmp_path: Path):
    path = _export(classified, tmp_path, "shp")["甲保护区"]
    assert path.with_suffix(".cpg").read_text(encoding="ascii").strip().upper() == "GBK"
    raw = path.with_suffix(".dbf").read_bytes()
    assert "甲保护区".encode("gbk") in raw and "国家级".encode("gbk") in raw
    assert "甲保护区".encode() not in raw
    # field descriptors (32 bytes each after the 32-byte header): name, type
    count = (int.from_bytes(raw[8:10], "little") - 33) // 32
    fields = {}
    for k in range(count):
        descriptor = raw[32 + 32 * k: 64 + 32 * k]
        fields[descriptor[:11].rstrip(b"\x00").decode("gbk")] = chr(descriptor[11])
    assert fields["面积平方米"] in "NF" and fields["面积亩"] in "NF"
    assert fields["监测次数"] == "N" and fields["前时相"] == "D"
    assert fields["保护区级别"] == "C"


def test_shapefile_text_gbk_cannot_hold_is_marked_and_logged(classified, tmp_path: Path,
                                                              caplog):
    set_status(classified, "L001", "问题", by="张三", opinion="熊猫🐼" + "长" * 300)
    with caplog.at_level(logging.WARNING, logger="pipelines.publish.export"):
        path = _export(classified, tmp_path, "shp")["甲保护区"]
    assert "GBK" in caplog.text
    frame = pyogrio.read_dataframe(path).set_index("线索编号")
    opinion = frame.loc["L001", "核查意见"]
    assert opinion.startswith("熊猫?长") and len(opinion.encode("gbk")) <= 254


def test_points_and_patches_go_to_two_shapefiles(classified, tmp_path: Path):
    import geopandas as gpd
    import shapely

    from pipelines.publish.export.formats import ExportContext, write_shp
    from pipelines.publish.views import leads_view

    rows = leads_view(classified, codes=["R01"])
    rows.loc[rows["lead_id"] == "L001", "geometry"] = shapely.box(126.49, 43.49, 126.51, 43.51)
    ctx = ExportContext("", "", datetime(2025, 1, 1), "", {},
                        pd.DataFrame(columns=["lead_id", "kind"]))
    first = write_shp(gpd.GeoDataFrame(rows), tmp_path / "x.shp", "甲", ctx)
    assert first.name == "x_points.shp"
    patches = pyogrio.read_dataframe(tmp_path / "x_patches.shp")
    assert list(patches["线索编号"]) == ["L001"] and patches.geom_type.tolist() == ["Polygon"]
    assert sorted(pyogrio.read_dataframe(first)["线索编号"]) == ["L002", "L006"]


def test_kml_placemarks_carry_chinese_names_and_labels(classified, tmp_path: Path):
    path = _export(classified, tmp_path, "kml")["乙保护区"]
    root = ET.parse(path).getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    marks = root.findall(".//k:Placemark", ns)
    assert sorted(m.findtext("k:name", None, ns) for m in marks) == ["L003", "L004"]
    for mark in marks:
        data = {d.get("name"): d.text for d in mark.iterfind(".//k:SimpleData", ns)}
        assert data["线索编号"] == mark.findtext("k:name", None, ns)
        assert data["保护区级别"] == "省级" and data["核查状态"] == "待核查"
        assert data["功能区"] in {"核心保护区", "一般控制区"}
        assert not set(data.values()) & CODES
    fields = {f.get("name"): f.get("type") for f in root.iterfind(".//k:SimpleField", ns)}
    assert fields["面积(平方米)"] in ("float", "double") and fields["监测次数"] == "int"


_OPEN_SHP = r"""
import json, sys
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
layer = QgsVectorLayer(sys.argv[1], "leads", "ogr")
fields = layer.fields()
out = {"valid": layer.isValid(), "encoding": layer.dataProvider().encoding(),
       "fields": [f.name() for f in fields],
       "types": {f.name(): f.typeName() for f in fields},
       "rows": [{f.name(): (v if isinstance(v, (int, float, str)) or v is None else str(v))
                 for f, v in zip(fields, feature.attributes())}
                for feature in layer.getFeatures()]}
print(json.dumps(out, ensure_ascii=False), flush=True)
del layer, fields
app.exitQgis()
"""


def _qgis_available() -> bool:
    if not SYSTEM_PYTHON.exists():
        return False
    probe = subprocess.run([str(SYSTEM_PYTHON), "-c", "import qgis.core"], capture_output=True,
                           env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, timeout=120,
                           check=False)
    return probe.returncode == 0


@pytest.mark.slow
def test_qgis_opens_the_shapefile_with_chinese_text_intact(classified, tmp_path: Path):
    require_service(_qgis_available(), "QGIS (python3-qgis)")
    path = _export(classified, tmp_path, "shp")["甲保护区"]
    script = tmp_path / "open_shp.py"
    script.write_text(_OPEN_SHP, encoding="utf-8")
    done = subprocess.run([str(SYSTEM_PYTHON), str(script), str(path)], capture_output=True,
                          text=True, timeout=300, check=False,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["valid"] is True
    assert result["fields"] == list(SHP_FIELDS.values())
    rows = {r["线索编号"]: r for r in result["rows"]}
    assert sorted(rows) == ["L001", "L002", "L003", "L006"]
    assert rows["L001"]["保护区名称"] == "甲保护区" and rows["L001"]["保护区级别"] == "国家级"
    assert rows["L001"]["功能区"] == "核心区" and rows["L001"]["核查状态"] == "待核查"
    assert rows["L001"]["活动类型"] == "采石场"
    assert rows["L001"]["面积平方米"] == pytest.approx(2000.0)
    assert result["types"]["面积亩"].lower() in ("real", "double", "numeric")
    assert result["types"]["前时相"].lower() == "date"
