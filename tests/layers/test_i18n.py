from __future__ import annotations

import ast
import gettext
from datetime import UTC, datetime
from pathlib import Path

import pytest

from layers import i18n
from layers.i18n import LOCALE_DIR, _, label, local_time, set_language
from layers.schema import ACTIVITY_TYPES, LEVEL_LABELS, STATUS_LABELS, ZONE_LABELS

ROOT = Path(__file__).resolve().parents[2]
PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "lvdun.po"
MO = PO.with_suffix(".mo")


def _unquote(line: str) -> str:
    return ast.literal_eval(line)


def read_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file (single-line and continued strings)."""
    entries: dict[str, str] = {}
    key, field, parts = None, None, {"msgid": "", "msgstr": ""}

    def flush() -> None:
        if field is not None and parts["msgid"]:
            entries[parts["msgid"]] = parts["msgstr"]

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("msgid "):
            flush()
            parts = {"msgid": _unquote(line[6:]), "msgstr": ""}
            field = key = "msgid"
        elif line.startswith("msgstr "):
            parts["msgstr"] = _unquote(line[7:])
            field = key = "msgstr"
        elif line.startswith('"') and key:
            parts[key] += _unquote(line)
    flush()
    return entries


def used_msgids() -> set[str]:
    """Every literal passed to ``_()`` in lvdun's packages."""
    found: set[str] = set()
    for package in ("geo", "layers", "pipelines", "webmap"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id == "_" and node.args
                        and isinstance(node.args[0], ast.Constant)
                        and isinstance(node.args[0].value, str)):
                    found.add(node.args[0].value)
    return found


@pytest.fixture
def english():
    set_language("en")
    yield
    set_language("zh")


def test_the_compiled_catalog_matches_the_po():
    with MO.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    po = read_po(PO)
    assert po, "empty catalog"
    assert {k: compiled.gettext(k) for k in po} == po
    assert set(compiled._catalog) - {""} == set(po)  # nothing compiled that the .po lost


def test_every_msgid_in_code_and_every_label_has_an_english_entry():
    po = read_po(PO)
    labels = {*ZONE_LABELS.values(), *STATUS_LABELS.values(), *LEVEL_LABELS.values(),
              *ACTIVITY_TYPES, *(t for kinds in ACTIVITY_TYPES.values() for t in kinds)}
    used = used_msgids()
    assert "已分类 {leads} 条线索（{zones}）；{near} 条距保护区边界 {m} 米以内" in used
    missing = sorted((used | labels) - {k for k, v in po.items() if v})
    assert missing == []


def test_placeholders_survive_translation():
    for msgid, msgstr in read_po(PO).items():
        names = {p.split("}")[0] for p in msgid.split("{")[1:]}
        assert names == {p.split("}")[0] for p in msgstr.split("{")[1:]}, msgid


def test_chinese_by_default_english_on_request(english):
    assert (_("分区"), label("core_protection"), label("rectifying")) == (
        "zone", "core protection zone", "rectifying")
    assert label("长白山") == "长白山" and label("采石场") == "quarry"
    set_language("zh")
    assert (_("分区"), label("core_protection"), label("national")) == (
        "分区", "核心保护区", "国家级")
    assert i18n.language() == "zh"


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="fr"):
        set_language("fr")


def test_old_utc_and_new_local_stamps_read_the_same():
    assert local_time("2026-12-03T12:15:00+00:00") == "2026-12-03T20:15:00+08:00"
    assert local_time("2026-12-03T20:15:00+08:00") == "2026-12-03T20:15:00+08:00"
    assert local_time("2026-12-03T12:15:00") == "2026-12-03T20:15:00+08:00"
    assert local_time(datetime(2026, 12, 31, 20, 0, tzinfo=UTC)) == "2027-01-01T04:00:00+08:00"
    assert local_time("2026-12-03") == "2026-12-03" and local_time(None) == ""
