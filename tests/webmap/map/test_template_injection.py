"""Text from input files reaches the map page as JSON only, never through Jinja."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from branca.element import Element
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.store import open_workspace
from tests.webmap.conftest import auth
from webmap.app.factory import create_app
from webmap.app.settings import Settings
from webmap.map.build import build_app_map, build_map
from webmap.map.elements import RawHtml
from webmap.map.offline import InlineAssets

#: Runs Python when compiled and rendered as a Jinja template (the reported exploit).
EXPLOIT = "{{ lipsum.__globals__.os.mkdir(dict(PWNED=1)|list|first) }}"
#: Crashes the Jinja compiler (a quote inside an expression).
BROKEN = "{{ 'x }} {% if %}"


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _leads_csv(path: Path, activity: str) -> Path:
    body = "线索编号,批次,经度,纬度,活动类型\n" + f'Z1,2024,126.5,43.5,"{activity}"\n'
    path.write_text(body, encoding="utf-8")
    return path


def _walk(element: Element):
    yield element
    for child in element._children.values():
        yield from _walk(child)


def _compiled_sources(figure: Element) -> list[str]:
    """The template sources of every element that branca compiles when rendering."""
    sources = []
    for element in _walk(figure):
        if isinstance(element, RawHtml | InlineAssets):
            continue
        template = getattr(element, "_template_str", None)
        if template:
            sources.append(template)
    return sources


def test_the_reported_exploit_does_not_run_from_lvdun_map(tmp_path, monkeypatch, zones_file):
    monkeypatch.chdir(tmp_path)
    ws = str(tmp_path / "ws.gpkg")
    assert run("ingest", "reserves", str(zones_file), "-w", ws).exit_code == 0
    csv = _leads_csv(tmp_path / "t.csv", EXPLOIT)
    assert run("ingest", "leads", str(csv), "-w", ws, "--crs", "EPSG:4490").exit_code == 0
    assert run("classify", "-w", ws).exit_code == 0
    result = run("map", "-w", ws, "--out", str(tmp_path / "map.html"))
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "PWNED").exists()
    html = (tmp_path / "map.html").read_text(encoding="utf-8")
    blocks = re.findall(r'<script type="application/json" id="[\w-]+">(.*?)</script>', html)
    texts = json.dumps([json.loads(b) for b in blocks], ensure_ascii=False)
    assert EXPLOIT.replace('"', '\\"') in texts  # shown as the text it is


@pytest.mark.parametrize("text", [EXPLOIT, BROKEN, "</script><script>alert(1)</script>"])
def test_names_batches_and_activities_with_template_syntax_render(frames, tmp_path, monkeypatch,
                                                                  text):
    monkeypatch.chdir(tmp_path)
    frames["leads"]["activity_type"] = text
    frames["leads"]["batch"] = text
    frames["leads"]["reserve_name"] = text
    frames["reserves"]["reserve_name"] = text
    frames["wetlands"]["wetland_name"] = text
    m = build_map(**frames, title=text)
    figure = m.get_root()
    html = figure.render()
    assert not (tmp_path / "PWNED").exists()
    assert "<script>alert(1)</script>" not in html
    # the defence: nothing that branca compiles holds a text of the data
    for source in _compiled_sources(figure):
        assert text not in source and "lipsum" not in source


def test_the_app_page_never_compiles_activity_types(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    m = build_app_map(layers=["leads", "reserves"], bounds=None, title=BROKEN,
                      activities=[EXPLOIT, BROKEN])
    figure = m.get_root()
    figure.render()
    assert not (tmp_path / "PWNED").exists()
    for source in _compiled_sources(figure):
        assert "lipsum" not in source and BROKEN not in source


def test_get_index_of_lvdun_serve_with_a_hostile_activity(tmp_path, monkeypatch, zones_file):
    from fastapi.testclient import TestClient

    from pipelines.users import add_user

    monkeypatch.chdir(tmp_path)
    ws = str(tmp_path / "ws.gpkg")
    run("ingest", "reserves", str(zones_file), "-w", ws)
    run("ingest", "leads", str(_leads_csv(tmp_path / "t.csv", EXPLOIT)), "-w", ws,
        "--crs", "EPSG:4490")
    run("classify", "-w", ws)
    with open_workspace(ws) as workspace:
        token = add_user(workspace, "查看", "viewer")[1]
    with TestClient(create_app(Settings(workspace=ws, title=BROKEN))) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert not (tmp_path / "PWNED").exists()
        leads = client.get("/api/map/leads", headers=auth(token))
        assert leads.status_code == 200
        assert EXPLOIT in leads.text.encode().decode("unicode_escape", "ignore") \
            or EXPLOIT in json.dumps(leads.json(), ensure_ascii=False)
