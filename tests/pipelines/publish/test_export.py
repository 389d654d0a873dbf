from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook

from pipelines.publish.export import export, safe_name


def test_one_list_per_reserve_with_the_right_rows(classified, tmp_path: Path):
    report = export(classified, tmp_path / "out", formats=("xlsx", "csv", "gpkg"))
    # L003 lies in 甲 (experimental) and 乙 (core protection, the winner): in both lists
    assert report.rows == {"甲保护区": 4, "乙保护区": 2, "保护区外": 1}
    folder = tmp_path / "out" / "甲保护区"
    table = pd.read_csv(folder / "甲保护区_核查清单.csv", encoding="utf-8-sig", dtype=str)
    assert sorted(table["线索编号"]) == ["L001", "L002", "L003", "L006"]
    assert set(table["功能区"]) == {"核心区", "缓冲区", "实验区"}
    l003 = table.set_index("线索编号").loc["L003"]
    assert (l003["保护区名称"], l003["保护区编码"], l003["功能区"]) == ("甲保护区", "R01", "实验区")
    assert (l003["主归属保护区"], l003["主归属功能区"]) == ("乙保护区", "核心保护区")
    l001 = table.set_index("线索编号").loc["L001"]
    assert (l001["主归属保护区"], l001["主归属功能区"]) == ("甲保护区", "核心区")
    assert (folder / "甲保护区_核查清单.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    book = load_workbook(folder / "甲保护区_核查清单.xlsx")
    sheet = book["台账"]
    assert sheet["A1"].value.startswith("甲保护区（R01）核查台账")
    assert sheet["A2"].value == "线索编号" and sheet.freeze_panes == "B3"
    assert sheet.max_row == 6
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
    assert total == 7  # L003 in the files of both its reserves


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
    from pipelines.publish.export import workspace_id

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
    from pipelines.publish.export import workspace_id

    report = export(classified, tmp_path, formats=("gpkg",))
    assert report.workspace_id == "" and workspace_id(classified) is None


# -- groups by code: reserves named alike, the outside marker -------------------------------
@pytest.fixture
def twins(workspace, tmp_path: Path):
    """Reserves named alike, coded `outside`, named 保护区外 (tests/pipelines/twins.py)."""
    from tests.pipelines.twins import twin_workspace

    return twin_workspace(workspace, tmp_path)


def _csv_leads(path: Path) -> list[str]:
    return sorted(pd.read_csv(path, encoding="utf-8-sig", dtype=str)["线索编号"])


def test_reserves_named_alike_are_two_groups_named_with_their_codes(twins, tmp_path: Path):
    from tests.pipelines.twins import BY_RESERVE, LABELS

    report = export(twins, tmp_path / "out", formats=("xlsx", "csv"))
    assert report.rows == {LABELS[c]: len(leads) for c, leads in BY_RESERVE.items()}
    for code, leads in BY_RESERVE.items():
        group = report.group(code)
        assert group is not None and group.label == LABELS[code]
        folder = tmp_path / "out" / LABELS[code]
        assert [p.parent for p in group.files] == [folder, folder]
        assert _csv_leads(folder / f"{LABELS[code]}_核查清单.csv") == leads
    meta = dict(row for row in load_workbook(report.group("R01").files[0])["_lvdun"]
                .iter_rows(values_only=True))
    assert meta["scope"] == '{"by": "reserve", "code": "R01"}'
    assert meta["group"] == "甲保护区（R01）"


def test_leads_outside_every_reserve_are_a_group_of_their_own(twins, tmp_path: Path):
    report = export(twins, tmp_path, formats=("csv",))
    outside = report.group(None)
    assert (outside.label, outside.name, outside.rows) == ("保护区外", "保护区外", 1)
    assert _csv_leads(outside.files[0]) == ["T06"]  # not T05 of the reserve named 保护区外
    named = report.group("R04")
    assert (named.label, _csv_leads(named.files[0])) == ("保护区外_R04", ["T05"])
    coded = report.group("outside")  # a reserve coded like the web app's marker
    assert (coded.label, _csv_leads(coded.files[0])) == ("外码保护区", ["T04"])
    meta = dict(row for row in load_workbook(
        export(twins, tmp_path / "x", codes=[None]).group(None).files[0])["_lvdun"]
        .iter_rows(values_only=True))
    assert meta["scope"] == '{"by": "reserve", "code": null}'


def test_export_by_county_groups_by_adcode(twins, tmp_path: Path):
    report = export(twins, tmp_path, by="county", formats=("csv",))
    assert report.rows == {"朝阳区_220104": 3, "朝阳区_110105": 2, "县界外": 4}
    assert _csv_leads(report.group("110105").files[0]) == ["T04", "T05"]


def test_export_of_chosen_reserves_only(twins, tmp_path: Path):
    from click.testing import CliRunner

    from pipelines.cli import cli
    from pipelines.errors import NotFoundError
    from pipelines.publish.export import export_record

    report = export(twins, tmp_path / "a", formats=("csv",), codes=["R02", None])
    assert report.rows == {"甲保护区_R02": 1, "保护区外": 1}  # folders as in a full export
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["保护区外", "甲保护区_R02"]
    record = export_record(twins, report.run_id)
    assert set(record.leads) == {"T03", "T06"}
    with pytest.raises(NotFoundError, match="以下保护区编码没有线索：'R99'；") as caught:
        export(twins, tmp_path / "b", codes=["R99"])
    assert "R01（甲保护区）" in str(caught.value) and "R02（甲保护区）" in str(caught.value)
    with pytest.raises(NotFoundError, match="没有线索：'R98', 'R99'；有线索的保护区（"):
        export(twins, tmp_path / "b", codes=["R01", "R98", "R99"])
    assert not (tmp_path / "b").exists()  # nothing written before the codes are checked
    where = ["-w", str(twins.location)]
    result = CliRunner().invoke(cli, ["export", *where, "--reserve", "R01", "--reserve",
                                      "甲/1", "--format", "csv", "--out", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["斜杠保护区", "甲保护区_R01"]
    assert "甲保护区_R01 [R01]: 2 leads" in result.output
    result = CliRunner().invoke(cli, ["export", *where, "--reserve", "R99"])
    assert result.exit_code == 1 and "没有线索：'R99'" in result.output
    assert "R01（甲保护区）" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["export", *where, "--reserve", "R02", "--format",
                                      "packet", "--format", "csv", "--no-pdf", "--out",
                                      str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["甲保护区_R02",
                                                                 "甲保护区_R02.zip"]
    assert (tmp_path / "d" / "甲保护区_R02" / "甲保护区_R02_核查清单.csv").is_file()
    assert "甲保护区_R02: packet →" in result.output
    result = CliRunner().invoke(cli, ["export", *where, "--reserve", "R99", "--format",
                                      "packet", "--no-pdf", "--out", str(tmp_path / "e")])
    assert result.exit_code == 1 and "没有线索：'R99'" in result.output


@pytest.mark.parametrize(
    ("names", "labels"),
    [({"R1": "甲", "R2": "乙"}, {None: "保护区外", "R1": "甲", "R2": "乙"}),
     ({"R1": "a/b", "R2": "a_b"}, {None: "保护区外", "R1": "a_b_R1", "R2": "a_b_R2"}),
     ({"x": "Lake", "y": "lake"}, {None: "保护区外", "x": "Lake_x", "y": "lake_y"}),
     ({"R9": "保护区外 "}, {None: "保护区外", "R9": "保护区外_R9"}),
     ({"a/b": "甲", "a_b": "甲"}, {None: "保护区外", "a/b": "甲_a_b", "a_b": "甲_a_b_2"})],
)
def test_group_labels_are_unique(names, labels):
    from pipelines.publish.export import group_labels

    assert group_labels(names) == labels
