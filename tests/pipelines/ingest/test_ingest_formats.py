"""Real-world files: projected and swapped coordinates, DMS, web-map shifts, KML, zips."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from geo.shift import wgs84_to_gcj02
from layers.errors import InputError
from pipelines.ingest.files import ingest


def _leads(ws):
    return ws.read_features("leads").set_index("lead_id")


def _gk(lon: float, lat: float, epsg: int) -> tuple[float, float]:
    return Transformer.from_crs(4490, epsg, always_xy=True).transform(lon, lat)


def test_gauss_kruger_with_zone_number_detected_and_reported(workspace, tmp_path: Path):
    x, y = _gk(126.5, 43.5, 4530)  # 3° zone 42 with the zone number in the easting
    path = tmp_path / "gk.csv"
    path.write_text(f"线索编号,批次,X,Y\nG1,2024,{x:.3f},{y:.3f}\n", encoding="utf-8")
    report = ingest(workspace, "leads", path)
    assert any("zone 42" in n and "EPSG:4530" in n for n in report.notes)
    assert "EPSG:4530" in report.crs["decision"]
    point = _leads(workspace).loc["G1", "geometry"]
    assert (point.x, point.y) == pytest.approx((126.5, 43.5), abs=1e-7)


def test_gauss_kruger_without_zone_needs_crs_or_workspace_extent(workspace, tmp_path,
                                                                 zones_file):
    x, y = _gk(126.5, 43.5, 4551)  # 3° zone 42 (126°E) without zone number
    path = tmp_path / "gk.csv"
    path.write_text(f"线索编号,批次,X,Y\nG1,2024,{x:.3f},{y:.3f}\n", encoding="utf-8")
    with pytest.raises(InputError, match="--crs"):
        ingest(workspace, "leads", path)
    ingest(workspace, "reserves", zones_file)  # the workspace now says where we are
    report = ingest(workspace, "leads", path)
    assert "EPSG:4551" in report.crs["decision"]
    assert _leads(workspace).loc["G1", "geometry"].x == pytest.approx(126.5, abs=1e-7)
    ingest(workspace, "leads", path, crs="EPSG:4551")  # and --crs overrides


def test_swapped_row_fixed_and_reported(workspace, tmp_path: Path):
    path = tmp_path / "swap.csv"
    path.write_text("线索编号,批次,经度,纬度\nS1,2024,126.5,43.5\nS2,2024,43.6,126.6\n",
                    encoding="utf-8")
    report = ingest(workspace, "leads", path, crs=4490)
    assert report.stored == 2
    assert any(n.startswith("第 3 行：") and "写反" in n for n in report.notes)
    point = _leads(workspace).loc["S2", "geometry"]
    assert (point.x, point.y) == (126.6, 43.6)


def test_dms_and_decimal_commas(workspace, tmp_path: Path):
    path = tmp_path / "dms.csv"
    path.write_text(
        "线索编号;批次;经度;纬度;面积(公顷)\n"
        "D1;2024;126°30'00\"E;43°30'00\"N;1,5\n"
        "D2;2024;126 36 00;43 36 00;0,25\n"
        "D3;2024;东经126度30分36秒;北纬43度30分;2\n",
        encoding="gb18030",
    )
    report = ingest(workspace, "leads", path, crs=4490)
    assert report.stored == 3
    assert any("度分秒" in n for n in report.notes)
    leads = _leads(workspace)
    assert leads.loc["D1", "geometry"].equals(shapely.Point(126.5, 43.5))
    assert leads.loc["D2", "geometry"].x == pytest.approx(126.6)
    assert leads.loc["D3", "geometry"].x == pytest.approx(126.51)
    assert leads.loc["D1", "area_m2"] == pytest.approx(15_000)
    assert leads.loc["D2", "area_m2"] == pytest.approx(2_500)


def test_gcj02_input_converted_back(workspace, tmp_path: Path):
    lon, lat = 126.5, 43.5
    glon, glat = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    path = tmp_path / "amap.csv"
    path.write_text(f"线索编号,批次,lng,lat\nA1,2024,{glon[0]:.8f},{glat[0]:.8f}\n",
                    encoding="utf-8")
    report = ingest(workspace, "leads", path, coords="gcj02")
    point = _leads(workspace).loc["A1", "geometry"]
    assert (point.x, point.y) == pytest.approx((lon, lat), abs=1e-6)
    assert report.crs["shift"].startswith("gcj02")


@pytest.mark.parametrize("suffix", [".kml", ".kmz"])
def test_kml_from_a_field_app_with_folders(workspace, tmp_path: Path, suffix: str):
    path = tmp_path / "ovital.kml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
        "<Document><Folder><name>点位</name>"
        "<Placemark><name>K1</name><description>采石场</description>"
        "<Point><coordinates>126.5,43.5,0</coordinates></Point></Placemark></Folder>"
        "<Folder><name>图斑</name><Placemark><name>K2</name><Polygon><outerBoundaryIs>"
        "<LinearRing><coordinates>126.5,43.5 126.51,43.5 126.51,43.51 126.5,43.5"
        "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></Folder>"
        "</Document></kml>",
        encoding="utf-8",
    )
    if suffix == ".kmz":
        with zipfile.ZipFile(tmp_path / "ovital.kmz", "w") as zf:
            zf.write(path, "doc.kml")
        path = tmp_path / "ovital.kmz"
    report = ingest(workspace, "leads", path, batch="2024")
    assert (report.read, report.stored) == (2, 2)
    leads = _leads(workspace)
    assert leads.loc["K1", "note"] == "采石场"
    assert leads.loc["K2", "geometry"].geom_type == "Polygon"
    assert leads.loc["K2", "area_m2"] > 0


def _shp(tmp_path: Path, name: str, ids: list[str]) -> list[Path]:
    frame = gpd.GeoDataFrame({"图斑编号": ids, "批次": ["2024"] * len(ids)},
                             geometry=[shapely.Point(126.5 + i / 100, 43.5)
                                       for i in range(len(ids))], crs=4490)
    frame.to_file(tmp_path / f"{name}.shp", encoding="GBK")
    (tmp_path / f"{name}.cpg").unlink(missing_ok=True)
    return [tmp_path / f"{name}{s}" for s in (".shp", ".shx", ".dbf", ".prj")]


def test_zipped_shapefiles(workspace, tmp_path: Path):
    one = tmp_path / "one.zip"
    with zipfile.ZipFile(one, "w") as zf:
        for f in _shp(tmp_path, "a", ["Z1", "Z2"]):
            zf.write(f, f.name)
    assert ingest(workspace, "leads", one).stored == 2
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as zf:
        for f in _shp(tmp_path, "b", ["Z3"]) + _shp(tmp_path, "c", ["Z4", "Z5"]):
            zf.write(f, f.name)
    from layers.errors import ReadError

    with pytest.raises(ReadError, match="--layer"):
        ingest(workspace, "leads", two)
    assert ingest(workspace, "leads", two, layer_name="c").stored == 2
    assert sorted(_leads(workspace).index) == ["Z1", "Z2", "Z4", "Z5"]


def test_unnumbered_patch_linked_across_rounds(workspace, tmp_path: Path):
    from pipelines.verify.status import history, set_status

    first = shapely.box(126.50, 43.50, 126.51, 43.51)
    gpd.GeoDataFrame({"批次": ["2023"]}, geometry=[first], crs=4490).to_file(tmp_path / "a.gpkg")
    ingest(workspace, "leads", tmp_path / "a.gpkg")
    lead_id = _leads(workspace).index[0]
    assert lead_id.startswith("AUTO-2023-")
    set_status(workspace, lead_id, "problem", by="张三")
    grown = shapely.box(126.50, 43.50, 126.515, 43.512)
    elsewhere = shapely.box(127.0, 44.0, 127.01, 44.01)
    gpd.GeoDataFrame({"批次": ["2024", "2024"]}, geometry=[grown, elsewhere],
                     crs=4490).to_file(tmp_path / "b.gpkg")
    report = ingest(workspace, "leads", tmp_path / "b.gpkg")
    assert report.linked == 1 and report.inserted == 1
    leads = _leads(workspace)
    assert len(leads) == 2
    assert (leads.loc[lead_id, "batch"], leads.loc[lead_id, "rounds"]) == ("2024", 2)
    assert leads.loc[lead_id, "change_type"] == "扩大"
    assert workspace.read_table("lead_status").set_index("lead_id").loc[lead_id, "status"] \
        == "problem"
    assert "在批次 2024" in history(workspace, lead_id)["note"].iloc[-1]
    assert ingest(workspace, "leads", tmp_path / "b.gpkg").unchanged == 2  # idempotent
