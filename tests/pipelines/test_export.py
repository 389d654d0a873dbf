from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook

from pipelines.export import export, safe_name


def test_one_list_per_reserve_with_the_right_rows(classified, tmp_path: Path):
    report = export(classified, tmp_path / "out", formats=("xlsx", "csv", "gpkg"))
    assert report.rows == {"甲保护区": 3, "乙保护区": 2, "保护区外": 1}
    folder = tmp_path / "out" / "甲保护区"
    table = pd.read_csv(folder / "甲保护区_核查清单.csv", encoding="utf-8-sig", dtype=str)
    assert sorted(table["线索编号"]) == ["L001", "L002", "L006"]
    assert set(table["功能区"]) == {"核心区", "缓冲区"}
    assert (folder / "甲保护区_核查清单.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    book = load_workbook(folder / "甲保护区_核查清单.xlsx")
    sheet = book["台账"]
    assert sheet["A1"].value == "线索编号" and sheet.freeze_panes == "B2"
    assert sheet.max_row == 4
    assert sheet.auto_filter.ref
    assert "汇总" in book.sheetnames
    gpkg = gpd.read_file(tmp_path / "out" / "乙保护区" / "乙保护区_核查清单.gpkg")
    assert sorted(gpkg["线索编号"]) == ["L003", "L004"]
    outside = pd.read_csv(tmp_path / "out" / "保护区外" / "保护区外_核查清单.csv",
                          encoding="utf-8-sig")
    assert list(outside["线索编号"]) == ["L005"]


@pytest.mark.parametrize("fmt", ["shp", "kml", "geojson"])
def test_gis_formats_hold_every_lead(classified, tmp_path: Path, fmt: str):
    report = export(classified, tmp_path, formats=(fmt,))
    total = sum(len(gpd.read_file(files[0])) for files in report.files.values())
    assert total == 6


@pytest.mark.parametrize(
    ("name", "safe"),
    [("长白山", "长白山"), ("a/b\\c:d*e?f", "a_b_c_d_e_f"), ("..", "_"),
     ("  空 格  ", "空_格"), ("<script>", "script"), ("x" * 100, "x" * 60)],
)
def test_safe_file_names(name: str, safe: str):
    assert safe_name(name) == safe


def test_export_by_county(classified, tmp_path: Path):
    report = export(classified, tmp_path, by="county", formats=("csv",))
    assert report.rows == {"县界外": 6}


def test_ledger_exports_carry_versions_and_the_workspace_identity(classified, tmp_path: Path):
    from pipelines.export import workspace_id

    first = export(classified, tmp_path / "a", formats=("csv",))
    second = export(classified, tmp_path / "b", formats=("xlsx", "csv"))
    assert first.workspace_id == second.workspace_id == workspace_id(classified)
    assert first.run_id != second.run_id
    runs = classified.runs().set_index("run_id")
    assert runs.loc[second.run_id, "command"] == "export"
    table = pd.read_csv(tmp_path / "b" / "乙保护区" / "乙保护区_核查清单.csv",
                        encoding="utf-8-sig", dtype=str)
    assert list(table["版本"]) == ["1", "1"]
    assert all(v.startswith(f"lvdun:{second.workspace_id}:{second.run_id}:")
               for v in table["台账标识"])
    assert table.columns[-2:].tolist() == ["版本", "台账标识"]


def test_gis_exports_do_not_need_a_workspace_id(classified, tmp_path: Path):
    from pipelines.export import workspace_id

    report = export(classified, tmp_path, formats=("gpkg",))
    assert report.workspace_id == "" and workspace_id(classified) is None
