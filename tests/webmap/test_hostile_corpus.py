"""A hostile-input corpus through the whole chain: ingest, classify, map, export, import, API.

Names, codes, ids, batches, activity types and notes are drawn from template syntax,
spreadsheet formulas, control characters, RTL marks, ``/``, ``..``, quotes, markup and long
strings. Every value must come back as the same text wherever it is shown as text (less
the control characters, which are removed on the way in), and nothing may execute or crash.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from layers.text import strip_control
from pipelines.classify.job import classify
from pipelines.escape import html_text, script_json
from pipelines.ingest.files import ingest
from pipelines.publish.export import export
from pipelines.store import open_workspace
from pipelines.users import add_user
from pipelines.verify.ledger_import import import_ledger
from pipelines.verify.status import current_state, set_status
from tests.webmap.conftest import TestClient, auth
from webmap.app.factory import create_app
from webmap.app.settings import Settings
from webmap.map.publish import publish_map

PIECES = [
    "{{ lipsum.__globals__.os.mkdir(dict(PWNED=1)|list|first) }}",
    "{{ 7*7 }}", "{% raw %}", "{#", "${7*7}", "=1+1", '=HYPERLINK("http://e.x/","详情")',
    "+SUM(A1)", "-2+3", "@A1", "\x0b", "\x00", "\x1b[31m", "\u202e", "\u200f", "/", "..",
    "../..", '"', "'", "\\", "<script>alert(1)</script>", "</script>", "&amp;", "<b>",
    "长白山", "保护区外", "outside", "%2F", "?#", ";", ",", " ", "🐼",
]
hostile = st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map("".join)
#: Reserves come as a GeoPackage, whose text GDAL reads as C strings (up to a NUL).
no_nul = hostile.map(lambda text: text.replace("\x00", ""))
long_text = st.just("长" * 5000 + "=x")


def shown(value: str) -> str:
    """The text a value is shown as: control characters removed, ends trimmed."""
    return strip_control(value)[0].strip()


def _usable(value: str) -> bool:
    return bool(shown(value))


def _reserves(path: Path, code: str, name: str) -> Path:
    frame = gpd.GeoDataFrame(
        {"保护区编码": [code], "保护区名称": [name], "级别": ["国家级"], "功能区": ["核心区"]},
        geometry=[shapely.box(126.3, 43.3, 126.7, 43.7)], crs="EPSG:4490")
    frame.to_file(path, driver="GPKG", layer="zones")
    return path


def _leads(path: Path, lead_id: str, batch: str, activity: str) -> Path:
    """Point leads as a bureau's CSV (read by lvdun itself, so NUL and all reach it)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["线索编号", "批次", "经度", "纬度", "活动类型"])
        writer.writerow([lead_id, batch, "126.5", "43.5", activity])
        writer.writerow(["PLAIN1", batch, "126.6", "43.6", "道路"])
    return path


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(code=no_nul.filter(_usable), name=no_nul.filter(_usable),
       lead_id=hostile.filter(_usable), batch=hostile.filter(_usable),
       activity=st.one_of(hostile, long_text).filter(_usable), note=st.one_of(hostile, long_text))
def test_hostile_text_through_the_whole_chain(monkeypatch, code, name, lead_id, batch,
                                              activity, note):
    tmp = Path(tempfile.mkdtemp(prefix="lvdun-hostile-"))
    monkeypatch.chdir(tmp)
    try:
        _chain(tmp, code, name, lead_id, batch, activity, note)
        assert not (tmp / "PWNED").exists(), "template code ran"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _chain(tmp: Path, code: str, name: str, lead_id: str, batch: str, activity: str,
           note: str) -> None:
    with open_workspace(tmp / "ws.gpkg") as ws:
        ingest(ws, "reserves", _reserves(tmp / "zones.gpkg", code, name))
        ingest(ws, "leads", _leads(tmp / "leads.csv", lead_id, batch, activity),
               crs="EPSG:4490")
        classify(ws)
        lid = shown(lead_id)
        state = current_state(ws, lid)
        set_status(ws, lid, "问题", by="张三", note=note, opinion=note,
                   expected_version=int(state["version"]))

        html = publish_map(ws, tmp / "map.html").read_text(encoding="utf-8")
        for value in (lid, shown(batch), shown(activity)):  # as text or as escaped HTML
            assert script_json(value)[1:-1] in html \
                or script_json(html_text(value))[1:-1] in html, value

        report = export(ws, tmp / "out", formats=("xlsx", "csv", "kml", "gpkg", "shp"))
        folders = [p for p in (tmp / "out").iterdir()]
        assert all(p.resolve().parent == (tmp / "out").resolve() for p in folders)
        xlsx = next(p for files in report.files.values() for p in files
                    if p.suffix == ".xlsx" and lid in _cells(p))
        cells = _cells(xlsx)
        assert shown(name) in cells and shown(activity) in cells
        if shown(note):
            assert shown(note) in cells
        for ledger in (xlsx, xlsx.with_suffix(".csv")):
            result = import_ledger(ws, ledger, by="李四")
            assert result.count("applied") == 0 and result.count("refused") == 0, \
                result.summary()
        token = add_user(ws, "查看", "viewer")[1]

    with TestClient(create_app(Settings(workspace=str(tmp / "ws.gpkg")))) as client:
        assert client.get("/").status_code == 200
        # Starlette's TestClient decodes a path twice, so ids holding "%" are opened through
        # a real server in tests/webmap/app/test_odd_ids.py instead
        if "%" not in lid:
            one = client.get(f"/api/leads/{quote(lid, safe='')}", headers=auth(token))
            assert one.status_code == 200, one.text
            assert one.json()["id"] == lid
            history = client.get(f"/api/leads/{quote(lid, safe='')}/history",
                                 headers=auth(token))
            assert history.status_code == 200
        # filters take several values separated by commas, so a batch holding one is listed
        # through the page of all leads instead
        params = {"batch": shown(batch)} if "," not in batch else {}
        listed = client.get("/api/leads", params=params, headers=auth(token))
        assert listed.status_code == 200
        assert lid in {f["properties"]["lead_id"] for f in listed.json()["features"]}


def _cells(path: Path) -> set[str]:
    sheet = load_workbook(path)["台账"]
    return {c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}


@pytest.mark.parametrize("text", PIECES)
def test_every_piece_alone_is_escaped_for_each_medium(text):
    from pipelines.escape import (
        content_disposition,
        csv_cell,
        csv_unescape,
        dbf_text,
        file_name,
        script_json,
        sql_identifier,
        xml_text,
    )

    assert "</" not in script_json(text) and json.loads(script_json(text)) == text
    assert csv_unescape(csv_cell(text)) == strip_control(text)[0]
    assert not str(csv_cell(text)).startswith(("=", "+", "-", "@"))
    name = file_name(text)
    assert name and "/" not in name and "\\" not in name and name not in (".", "..")
    header = content_disposition(text + ".zip")
    assert header.isascii() and "\n" not in header and "\r" not in header
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", xml_text(text))
    dbf = dbf_text(text * 200)
    assert len(dbf.encode("gbk")) <= 254 and not re.search(r"[\x00-\x1f]", dbf)
    if "\x00" not in text:
        assert sql_identifier(text[:60]).startswith('"')
