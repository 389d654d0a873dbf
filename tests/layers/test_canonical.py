from __future__ import annotations

from pathlib import Path

from layers.canonical import canonicalize
from layers.errors import InputError
from layers.read import read_source


def _leads(tmp_path: Path) -> Path:
    path = tmp_path / "leads.csv"
    path.write_text("线索编号,批次,经度,纬度,面积,发现日期\n"
                    "A1,2024,126.5,43.5,十,2024-05-01\n"
                    "A2,2024,,43.6,10,昨天\n", encoding="utf-8")
    return path


def _reasons(tmp_path: Path) -> list[tuple[int, str, str]]:
    prep = canonicalize(read_source(_leads(tmp_path)), "leads", crs="EPSG:4490")
    return sorted([(r.row, r.field, r.reason) for r in [*prep.rejects, *prep.warnings]])


def test_reasons_are_chinese_by_default(tmp_path: Path):
    assert _reasons(tmp_path) == [
        (2, "面积", "不是数字：请写成 126.5 这样的形式；该值留空"),
        (3, "经度", "缺少坐标：请填写"),
    ]


def test_reasons_in_english_on_request(tmp_path: Path, english):
    assert _reasons(tmp_path) == [
        (2, "面积", "not a number: write it like 126.5; the value was left empty"),
        (3, "经度", "no coordinate: fill it in"),
    ]


def test_where_an_input_error_is_said_in_either_language(english):
    message = "--crs: unknown"
    assert str(InputError(message, file="a.csv", row=3, field="经度", value="x")) == (
        "file a.csv, row 3, field '经度', value 'x': --crs: unknown")


def test_where_an_input_error_is_said_in_chinese_by_default():
    assert str(InputError("请检查", file="a.csv", row=3, field="经度", value="x")) == (
        "文件 a.csv，第 3 行，字段 '经度'，值 'x'：请检查")
