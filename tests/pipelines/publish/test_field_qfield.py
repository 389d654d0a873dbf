"""The QField / QGIS package: opened in real QGIS (Debian's python3-qgis, a subprocess of
/usr/bin/python3 with QT_QPA_PLATFORM=offscreen), every layer valid, styled and with forms."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pyogrio
import pytest

from layers.schema import STATUS_LABELS
from pipelines.publish.field import field_package
from tests.conftest import require_service

SYSTEM_PYTHON = Path("/usr/bin/python3")

OPEN_IN_QGIS = r"""
import json, sys
from qgis.core import QgsApplication, QgsProject
app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
out = {"read": project.read(sys.argv[1]), "layers": {}}
for layer in project.mapLayers().values():
    renderer = layer.renderer()
    info = {"valid": layer.isValid(), "features": layer.featureCount(),
            "crs": layer.crs().authid(), "renderer": renderer.type() if renderer else None,
            "source": layer.source(),
            "widgets": {f.name(): layer.editorWidgetSetup(i).type()
                        for i, f in enumerate(layer.fields())},
            "aliases": {f.name(): f.alias() for f in layer.fields()}}
    if info["renderer"] == "categorizedSymbol":
        info["categories"] = [c.value() for c in renderer.categories()]
    status = layer.fields().indexOf("status")
    if status >= 0:
        config = layer.editorWidgetSetup(status).config()
        info["status_map"] = [list(m)[0] for m in config.get("map", [])]
    out["layers"][layer.name()] = info
out["basemaps"] = [l.name() for l in project.mapLayers().values() if l.type() != 0]
print(json.dumps(out, ensure_ascii=False))
app.exitQgis()
"""


def _qgis_available() -> bool:
    if not SYSTEM_PYTHON.exists():
        return False
    probe = subprocess.run([str(SYSTEM_PYTHON), "-c", "import qgis.core"],
                           capture_output=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                           timeout=120, check=False)
    return probe.returncode == 0


@pytest.fixture
def package(classified, tmp_path):
    return field_package(classified, "R01", app="qfield", out_dir=tmp_path / "qf")


def test_files_and_geopackage(package):
    project, gpkg = package.files
    assert (project.name, gpkg.name) == ("甲保护区_R01.qgz", "甲保护区_R01.gpkg")
    layers = dict(pyogrio.list_layers(gpkg))
    assert set(layers) == {"leads", "zones", "outline"}
    leads = pyogrio.read_dataframe(gpkg, layer="leads")
    assert {"lead_id", "status", "version", "note", "reason", "photo", "ledger_id"} <= \
        set(leads.columns)
    assert set(leads["status"]) == {"待核查"} and len(leads) == package.leads
    with zipfile.ZipFile(project) as archive:
        qgs = archive.read("甲保护区_R01.qgs").decode("utf-8")
    assert "./甲保护区_R01.gpkg|layername=leads" in qgs  # relative: the folder can move
    assert "http" not in qgs.replace("http://mrcc.com/qgis.dtd", "")  # no online basemap


@pytest.mark.slow
def test_project_opens_in_qgis(package):
    require_service(_qgis_available(), "QGIS (python3-qgis)")
    project = package.files[0]
    script = project.parent / "open_in_qgis.py"
    script.write_text(OPEN_IN_QGIS, encoding="utf-8")
    done = subprocess.run([str(SYSTEM_PYTHON), str(script), str(project)], capture_output=True,
                          text=True, timeout=300, check=False,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["read"] is True
    layers = result["layers"]
    assert set(layers) == {"线索", "功能区", "保护区边界"}
    assert all(layer["valid"] for layer in layers.values()), layers
    assert result["basemaps"] == []
    leads = layers["线索"]
    assert leads["features"] == package.leads and leads["crs"] == "EPSG:4490"
    assert leads["renderer"] == "categorizedSymbol"
    assert leads["categories"] == list(STATUS_LABELS.values())
    assert leads["widgets"]["status"] == "ValueMap"
    assert leads["status_map"] == list(STATUS_LABELS.values())
    assert leads["widgets"]["reason"] == "ValueMap"
    assert leads["widgets"]["photo"] == "ExternalResource"
    assert leads["aliases"]["status"] == "核查状态"
    assert layers["功能区"]["features"] == 3 and layers["保护区边界"]["features"] == 1
