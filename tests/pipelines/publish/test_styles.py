"""QGIS styles in the workspace (pipelines/publish/styles.py), checked in real QGIS
(Debian's python3-qgis, a subprocess of /usr/bin/python3 with QT_QPA_PLATFORM=offscreen)."""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pyogrio
import pytest

from layers.schema import STATUS_COLOURS, STATUS_LABELS, Status
from pipelines.publish.styles import layer_styles, write_styles
from pipelines.store.layer_styles import VIEW_COLUMNS
from pipelines.verify.status import set_status
from tests.conftest import require_service

SYSTEM_PYTHON = Path("/usr/bin/python3")

OPEN_IN_QGIS = r"""
import json, sys
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
out = {}
for name in sys.argv[2:]:
    layer = QgsVectorLayer(f"{sys.argv[1]}|layername={name}", name, "ogr")
    renderer = layer.renderer()
    info = {"valid": layer.isValid(), "features": layer.featureCount(),
            "crs": layer.crs().authid(), "fields": [f.name() for f in layer.fields()],
            "renderer": renderer.type() if renderer else None,
            "labels": layer.labelsEnabled()}
    if info["renderer"] == "categorizedSymbol":
        info["attr"] = renderer.classAttribute()
        info["categories"] = [[c.value(), c.label(), c.symbol().color().name()]
                              for c in renderer.categories()]
    if name == "lead_status_view":
        info["states"] = sorted(f["status"] for f in layer.getFeatures())
    out[name] = info
    del renderer, layer  # before exitQgis, or QGIS crashes on the way out
print(json.dumps(out, ensure_ascii=False), flush=True)
app.exitQgis()
"""


def _qgis_available() -> bool:
    if not SYSTEM_PYTHON.exists():
        return False
    probe = subprocess.run([str(SYSTEM_PYTHON), "-c", "import qgis.core"],
                           capture_output=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                           timeout=120, check=False)
    return probe.returncode == 0


def test_documents_parse_and_carry_the_classes():
    styles = {(s.layer, s.name): s for s in layer_styles()}
    view = styles[("lead_status_view", "线索核查状态")]
    qml = ET.fromstring(view.qml)
    categories = qml.findall("./renderer-v2/categories/category")
    assert [c.get("label") for c in categories] == list(STATUS_LABELS.values())
    assert [c.get("value") for c in categories] == [s.value for s in Status]
    sld = ET.fromstring(view.sld)
    ns = {"se": "http://www.opengis.net/se"}
    fills = [p.text for p in sld.iter("{http://www.opengis.net/se}SvgParameter")
             if p.get("name") == "fill"]
    assert fills == list(STATUS_COLOURS.values())
    assert [r.findtext("se:Name", namespaces=ns) for r in sld.iter(
        "{http://www.opengis.net/se}Rule")][:7] == list(STATUS_LABELS.values())
    zones = ET.fromstring(styles[("reserves", "保护区功能区")].qml)
    assert "核心区" in [c.get("label") for c in zones.iter("category")]
    levels = ET.fromstring(styles[("reserves", "保护区级别")].qml)
    widths = [p.get("v") for p in levels.iter("prop") if p.get("k") == "outline_width"]
    assert widths == sorted(widths, key=float, reverse=True)  # national widest


def test_styles_command(classified):
    from click.testing import CliRunner

    from pipelines.cli import cli

    classified.close()
    done = CliRunner().invoke(cli, ["styles", "-w", str(classified.path)])
    assert done.exit_code == 0, done.output
    assert "已将 7 个图层样式" in done.output
    classified.open()
    assert [n for n, *_ in classified.layer_styles("lead_status_view")] == ["线索核查状态"]


def test_classify_command_writes_the_styles(workspace, zones_file, leads_csv):
    from click.testing import CliRunner

    from pipelines.cli import cli
    from pipelines.ingest.files import ingest

    ingest(workspace, "reserves", zones_file)
    ingest(workspace, "leads", leads_csv, crs="EPSG:4490")
    workspace.close()
    done = CliRunner().invoke(cli, ["classify", "-w", str(workspace.path)])
    assert done.exit_code == 0, done.output
    workspace.open()
    assert workspace.layer_styles("reserves")[0][:2] == ("保护区功能区", True)
    assert len(workspace.read_lead_status_view()) == 6


def test_view_is_a_layer_gdal_reads(classified):
    write_styles(classified)
    layers = dict(pyogrio.list_layers(classified.path))
    assert "lead_status_view" in layers and "layer_styles" in layers
    view = pyogrio.read_dataframe(classified.path, layer="lead_status_view")
    assert len(view) == 6 and {*VIEW_COLUMNS} - {"fid"} <= set(view.columns)
    assert view.crs.to_epsg() == 4490


@pytest.mark.slow
def test_workspace_styled_in_qgis(classified, tmp_path):
    require_service(_qgis_available(), "QGIS (python3-qgis)")
    write_styles(classified)
    set_status(classified, "L001", "核查中", by="张三")
    set_status(classified, "L002", "问题", by="张三")
    classified.close()
    script = tmp_path / "open_in_qgis.py"
    script.write_text(OPEN_IN_QGIS, encoding="utf-8")
    done = subprocess.run(
        [str(SYSTEM_PYTHON), str(script), str(classified.path), "lead_status_view", "leads",
         "reserves"], capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(layer["valid"] for layer in result.values()), result
    assert {layer["crs"] for layer in result.values()} == {"EPSG:4490"}
    view = result["lead_status_view"]
    assert view["features"] == 6
    assert {"线索编号", "保护区", "功能区", "县区", "核查状态", "status"} <= set(view["fields"])
    assert view["states"] == ["in_field", "pending", "pending", "pending", "pending", "problem"]
    assert view["renderer"] == "categorizedSymbol" and view["attr"] == "status"
    assert view["categories"] == [[s.value, STATUS_LABELS[s], STATUS_COLOURS[s]]
                                  for s in Status]
    assert view["labels"] is True
    reserves = result["reserves"]
    assert reserves["renderer"] == "categorizedSymbol" and reserves["attr"] == "zone"
    assert result["leads"]["renderer"] == "singleSymbol"
