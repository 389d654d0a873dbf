from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from layers.errors import ReadError
from layers.read import read_source


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"线索编号": ["A1", "A2"], "活动类型": ["采石场", "道路"]},
        geometry=[shapely.Point(126.5, 43.5), shapely.Point(126.6, 43.6)], crs="EPSG:4490",
    )


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp"])
def test_vector_formats(tmp_path: Path, suffix: str):
    path = tmp_path / f"leads{suffix}"
    frame = _frame()
    frame.to_file(path, **({"encoding": "GBK"} if suffix == ".shp" else {}))
    src = read_source(path)
    assert list(src.frame["线索编号"]) == ["A1", "A2"]
    assert list(src.frame["活动类型"]) == ["采石场", "道路"]
    assert src.rows.tolist() == [1, 2]
    assert src.crs is not None
    assert src.geometry[0].equals(shapely.Point(126.5, 43.5))


def test_gbk_shapefile_without_cpg_is_not_mojibake(tmp_path: Path):
    path = tmp_path / "mines.shp"
    _frame().to_file(path, encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    src = read_source(path)
    assert list(src.frame["活动类型"]) == ["采石场", "道路"]
    assert any("GB18030" in n for n in src.notes)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_encodings(tmp_path: Path, encoding: str):
    path = tmp_path / "leads.csv"
    path.write_text("线索编号,经度,纬度\nA1,126.5,43.5\nA2,126.6,43.6\n", encoding=encoding)
    src = read_source(path)
    assert list(src.frame.columns) == ["线索编号", "经度", "纬度"]
    assert src.rows.tolist() == [2, 3]


def test_csv_semicolon_with_decimal_commas(tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_text("线索编号;经度;纬度\nA1;126,5;43,5\n", encoding="utf-8")
    src = read_source(path)
    assert src.frame.loc[0, "经度"] == "126,5"


def test_xlsx_with_title_rows_merged_cells_and_trailing_blank_rows(tmp_path: Path):
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws["A1"] = "XX保护区遥感监测点位核查表"
    ws.merge_cells("A1:E1")
    ws.append([])
    ws.append(["线索编号", "保护区名称", "经度", "纬度", "活动类型"])
    ws.append(["A1", "长白山", 128.1, 42.1, "道路"])
    ws.append(["A2", None, 128.2, 42.2, "光伏"])
    ws.merge_cells("B4:B5")
    ws.append([None, None, None, None, None])
    ws.append([None, None, None, None, None])
    path = tmp_path / "sheet.xlsx"
    book.save(path)
    src = read_source(path)
    assert src.header_row == 3
    assert src.rows.tolist() == [4, 5]
    assert list(src.frame["保护区名称"]) == ["长白山", "长白山"]


def test_unknown_format_and_missing_file(tmp_path: Path):
    bad = tmp_path / "x.doc"
    bad.write_text("x")
    with pytest.raises(ReadError, match="不支持的格式"):
        read_source(bad)
    with pytest.raises(ReadError, match="不存在"):
        read_source(tmp_path / "nope.csv")


def test_wrong_encoding_is_refused_not_stored_as_mojibake(tmp_path: Path):
    path = tmp_path / "gbk.shp"
    _frame().to_file(path, encoding="GBK")
    path.with_suffix(".cpg").write_text("ISO-8859-1")  # a lying .cpg
    with pytest.raises(ReadError, match="--encoding GBK"):
        read_source(path)
    assert list(read_source(path, encoding="GBK").frame["活动类型"]) == ["采石场", "道路"]


def test_xlsx_pick_a_sheet(tmp_path: Path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "说明"
    book.active.append(["本表为核查清单"])
    first = book.create_sheet("第一批")
    first.append(["线索编号", "经度", "纬度"])
    first.append(["A1", 126.5, 43.5])
    second = book.create_sheet("第二批")
    second.append(["线索编号", "经度", "纬度"])
    second.append(["B1", 126.6, 43.6])
    second.append(["B2", 126.7, 43.7])
    path = tmp_path / "two.xlsx"
    book.save(path)
    assert read_source(path).sheet == "第一批"
    src = read_source(path, sheet="第二批")
    assert list(src.frame["线索编号"]) == ["B1", "B2"]
    with pytest.raises(ReadError, match="没有工作表 '第三批'"):
        read_source(path, sheet="第三批")
