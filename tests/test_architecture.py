"""The house rules, checked on the source: import direction, settings, and where text leaves.

Each rule names the one place that may do a thing, so that a new module that does it
elsewhere fails here instead of in a user's hands.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geo", "layers", "pipelines", "webmap")
#: A package may import only those to its right: webmap -> pipelines -> layers -> geo.
BELOW = {"webmap": {"webmap", "pipelines", "layers", "geo"},
         "pipelines": {"pipelines", "layers", "geo"},
         "layers": {"layers", "geo"}, "geo": {"geo"}}


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _imports(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", _modules(), ids=_rel)
def test_imports_run_one_way(path):
    package = _rel(path).split("/")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    upward = [m for m in _imports(tree)
              if m.split(".")[0] in PACKAGES and m.split(".")[0] not in BELOW[package]]
    assert not upward, f"{_rel(path)} imports {upward}: imports run webmap → pipelines → " \
                       "layers → geo"


#: The modules that read ``LVDUN_`` settings from the environment.
SETTINGS = {"pipelines/settings.py", "webmap/app/settings.py"}


@pytest.mark.parametrize("path", _modules(), ids=_rel)
def test_library_code_reads_no_environment(path):
    if _rel(path) in SETTINGS:
        return
    text = path.read_text(encoding="utf-8")
    # handing the environment on, unread, to a child process (Chromium printing PDFs)
    text = re.sub(r"os\.posix_spawn\((\w+), (\w+), os\.environ,", "", text)
    assert not re.search(r"os\.environ|os\.getenv|getenv\(", text), \
        f"{_rel(path)} reads the environment: read it in pipelines.settings and pass it down"


#: Each medium's one escaping function (pipelines/escape.py) and who may bypass it.
RULES = [
    # (pattern of a raw write, the function to use, modules allowed to write raw)
    (r"\bTemplate\(|jinja2", "webmap.map.elements.RawHtml / script_json (no templates)", set()),
    (r"(?<![\w.])Element\(", "webmap.map.elements.RawHtml", set()),
    (r"\.to_csv\(|csv\.writer\(", "pipelines.escape.csv_cell", {"csv_cell"}),
    (r"Content-Disposition", "pipelines.escape.content_disposition", {"content_disposition"}),
    (r"\.cell\([^)]*value=(?!None)", "pipelines.escape.xlsx_put", set()),
    (r"\bsheet\.append\(\[[^\]]", "pipelines.escape.xlsx_row", set()),
    (r"\bhtml\.escape\(|from html import escape", "pipelines.escape.html_text", set()),
]


#: Modules that write only text of their own: the escaping functions, the synthetic demo.
OWN_TEXT = {"pipelines/escape.py", "pipelines/demo/data.py"}


@pytest.mark.parametrize("path", _modules(), ids=_rel)
def test_every_writer_goes_through_its_escaping(path):
    if _rel(path) in OWN_TEXT:
        return
    text = path.read_text(encoding="utf-8")
    for pattern, use, needs in RULES:
        for match in re.finditer(pattern, text):
            line = text[:match.start()].count("\n") + 1
            if needs and all(re.search(rf"\b{n}\b", text) for n in needs):
                continue  # the module writes through the escaping function
            pytest.fail(f"{_rel(path)}:{line} writes {match.group(0)!r} itself: use {use}")


#: The one module outside the store that still writes SQL: the PostGIS vector-tile query.
SQL_OUTSIDE_STORE = {"webmap/app/tiles.py"}


@pytest.mark.parametrize("path", _modules(), ids=_rel)
def test_the_store_owns_its_sql(path):
    rel = _rel(path)
    if rel.startswith("pipelines/store/") or rel in SQL_OUTSIDE_STORE:
        return
    text = path.read_text(encoding="utf-8")
    found = re.search(r"\bSELECT\b|INSERT INTO|DELETE FROM|\bUPDATE \"|where=", text)
    assert not found, f"{rel} writes SQL ({found.group(0)!r}): give Workspace a method for it"

