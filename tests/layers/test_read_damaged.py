"""Damaged input files are refused whole, with the file and the reason; ragged CSV rows."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from layers.errors import ReadError
from layers.read import read_source

SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def write_mines(folder: Path, n: int = 12, name: str = "mines") -> Path:
    """Write ``n`` mine polygons as a shapefile (GBK .dbf) and return the .shp path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.shp"
    gpd.GeoDataFrame(
        {"许可证号": [f"C{i:03d}" for i in range(n)], "矿山名称": [f"矿{i}" for i in range(n)],
         "矿山状态": ["关闭"] * n},
        geometry=[shapely.box(126 + i / 100, 43, 126.005 + i / 100, 43.005).buffer(0.001)
                  for i in range(n)],
        crs="EPSG:4490",
    ).to_file(path, encoding="GBK")
    return path


def truncate_half(path: Path) -> tuple[int, int]:
    """Cut ``path`` in half; return the size it had and the size it has."""
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.truncate(size // 2)
    return size, size // 2


def test_truncated_shp_is_refused_with_name_sizes_and_fix(tmp_path: Path):
    path = write_mines(tmp_path)
    full, half = truncate_half(path)
    with pytest.raises(ReadError) as err:
        read_source(path)
    message = str(err.value)
    assert message.startswith("mines.shp 不完整：它的 .shx 列出 12 条记录")
    assert f"直到第 {full:,} 字节，但文件只有 {half:,} 字节" in message
    assert "请重新复制完整的 .shp" in message
    assert type(err.value).__name__ == "DamagedFileError"


def test_shp_shorter_than_its_own_header_says_is_refused(tmp_path: Path):
    path = write_mines(tmp_path, n=3)
    data = path.read_bytes()
    path.write_bytes(data[:-10])  # ten bytes short: only the last record is cut
    with pytest.raises(ReadError, match=r"mines\.shp 不完整"):
        read_source(path)


@pytest.mark.parametrize("missing", [".shx", ".dbf"])
def test_shapefile_without_shx_or_dbf_is_refused(tmp_path: Path, missing: str):
    path = write_mines(tmp_path, n=2)
    path.with_suffix(missing).unlink()
    with pytest.raises(ReadError,
                       match=rf"mines\.shp：缺少它的 {missing}（mines{missing}）"):
        read_source(path)


def test_truncated_dbf_is_refused(tmp_path: Path):
    path = write_mines(tmp_path)
    truncate_half(path.with_suffix(".dbf"))
    with pytest.raises(ReadError, match=r"mines\.dbf 不完整"):
        read_source(path)


def test_record_that_cannot_be_decoded_is_refused(tmp_path: Path):
    path = write_mines(tmp_path, n=4)
    shx = np.frombuffer(path.with_suffix(".shx").read_bytes()[100:], dtype=">i4").reshape(-1, 2)
    data = bytearray(path.read_bytes())
    at = int(shx[1, 0]) * 2 + 8  # record 2: a polygon whose counts point past its content
    assert struct.unpack("<i", data[at : at + 4]) == (5,)
    data[at + 36 : at + 44] = struct.pack("<ii", 1000, 10**6)
    path.write_bytes(bytes(data))
    with pytest.raises(ReadError, match=r"mines\.shp 已损坏：第 2 条记录.*Polygon"):
        read_source(path)


def test_null_shapes_are_not_damage(tmp_path: Path):
    path = tmp_path / "mines.shp"
    gpd.GeoDataFrame({"许可证号": ["C1", "C2"]},
                     geometry=[shapely.box(126, 43, 126.1, 43.1), None],
                     crs="EPSG:4490").to_file(path, encoding="GBK")
    src = read_source(path)
    assert src.geometry[0] is not None and src.geometry[1] is None


def _zip(folder: Path, shp: Path, out: Path, *, skip: str | None = None) -> Path:
    with zipfile.ZipFile(out, "w") as zf:
        for suffix in SIDECARS:
            part = shp.with_suffix(suffix)
            if part.exists() and suffix != skip:
                zf.write(part, f"矿山/{part.name}")
    return out


def test_zipped_truncated_shapefile_is_refused(tmp_path: Path):
    shp = write_mines(tmp_path / "src")
    truncate_half(shp)
    out = _zip(tmp_path, shp, tmp_path / "mines.zip")
    with pytest.raises(ReadError,
                       match=r"mines\.zip: 矿山/mines\.shp 不完整：它的 \.shx 列出 12"):
        read_source(out)
    good = write_mines(tmp_path / "good", name="good")
    out = _zip(tmp_path, good, tmp_path / "good.zip", skip=".dbf")
    with pytest.raises(ReadError, match=r"good\.shp：缺少它的 \.dbf"):
        read_source(out)


def test_zip_with_a_good_and_a_damaged_shapefile_reads_the_good_one(tmp_path: Path):
    good, bad = write_mines(tmp_path, name="good", n=2), write_mines(tmp_path, name="bad")
    truncate_half(bad)
    out = tmp_path / "both.zip"
    with zipfile.ZipFile(out, "w") as zf:
        for shp in (good, bad):
            for suffix in SIDECARS:
                if shp.with_suffix(suffix).exists():
                    zf.write(shp.with_suffix(suffix), shp.with_suffix(suffix).name)
    assert len(read_source(out, layer="good")) == 2
    with pytest.raises(ReadError, match=r"bad\.shp 不完整"):
        read_source(out, layer="bad")


# -- CSV rows with more or fewer fields than the header --------------------------------------
HEADER = "线索编号,批次,经度,纬度,活动类型,变化类型"


def test_row_with_a_field_too_many_is_kept_for_rejection(tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_text(f"{HEADER}\nG1,2025,126.5,43.5,工业,开发\nG2,2025,126.6,43.6,工业,开发,x\n"
                    "G3,2025,126.7,43.7,工业\n", encoding="utf-8")
    src = read_source(path)
    assert src.rows.tolist() == [2, 3, 4]
    assert src.frame["线索编号"].tolist() == ["G1", "G2", "G3"]
    assert [(p.row, p.value) for p in src.problems] == [(3, "x")]
    assert "该行有 7 个字段，但表头只有 6 个" in src.problems[0].reason
    assert src.frame.loc[2, "变化类型"] == ""  # a short row: its missing fields are empty


def test_trailing_empty_fields_shift_nothing(tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_text(f"{HEADER}\nG1,2025,126.5,43.5,工业,开发,\nG2,2025,126.6,43.6,工业,开发,,\n",
                    encoding="utf-8")
    src = read_source(path)
    assert src.frame["线索编号"].tolist() == ["G1", "G2"]
    assert src.frame["变化类型"].tolist() == ["开发", "开发"]
    assert not src.problems
    assert any("在表头之外还有空字段" in n for n in src.notes)


def test_csv_rows_are_counted_as_a_spreadsheet_shows_them(tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_text(f"{HEADER}\nG1,2025,126.5,43.5,工业,开发\n\n"
                    'G2,2025,126.6,43.6,"工业\n道路",开发\nG3,2025,126.7,43.7,工业,开发\n',
                    encoding="utf-8")
    src = read_source(path)
    assert src.rows.tolist() == [2, 4, 5]


def test_unclosed_quote_refuses_the_file_naming_the_row(tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_text(f'{HEADER}\nG1,2025,126.5,43.5,工业,开发\nG2,2025,"126.6,43.6,工业,开发\n'
                    "G3,2025,126.7,43.7,工业,开发\n", encoding="utf-8")
    with pytest.raises(ReadError, match=r"leads\.csv：第 3 行：一个带引号的值.*没有结束"):
        read_source(path)


# -- control characters --------------------------------------------------------------------
def test_control_characters_are_removed_and_counted_per_column(tmp_path: Path, caplog):
    path = tmp_path / "leads.csv"
    path.write_text(f"{HEADER},备注\nG1,2025,126.5,43.5,工业\x0b,开发,a\x00b\x01\n"
                    'G2,2025,126.6,43.6,工业,开发,"多行\r\n备注\t"\n', encoding="utf-8")
    with caplog.at_level("WARNING", logger="layers.read"):
        src = read_source(path)
    assert src.frame["活动类型"].tolist() == ["工业", "工业"]
    assert src.frame["备注"].tolist() == ["ab", "多行\r\n备注\t"]
    assert src.control_chars == {"活动类型": 1, "备注": 1}
    warning = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert "leads.csv" in warning and "活动类型" in warning and "备注" in warning


def test_control_characters_in_column_names_are_removed(tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_text("线索\x01编号,经度,纬度\nG1,126.5,43.5\n", encoding="utf-8")
    src = read_source(path)
    assert list(src.frame.columns) == ["线索编号", "经度", "纬度"]
    assert src.control_chars == {"(column names)": 1}
