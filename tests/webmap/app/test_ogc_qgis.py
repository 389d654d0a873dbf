"""QGIS adds the live layers of a running ``lvdun serve`` through its OAPIF provider
(Debian's python3-qgis, a subprocess of /usr/bin/python3 with QT_QPA_PLATFORM=offscreen)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pipelines.users import add_user
from tests.conftest import require_service

SYSTEM_PYTHON = Path("/usr/bin/python3")

ADD_IN_QGIS = r"""
import json, sys
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
base, token = sys.argv[1], sys.argv[2]
out = {}
for name in ("leads", "reserves"):
    uri = f"url='{base}' typename='{name}' username='qgis' password='{token}'"
    layer = QgsVectorLayer(uri, name, "OAPIF")
    features = list(layer.getFeatures()) if layer.isValid() else []
    out[name] = {"valid": layer.isValid(), "count": len(features),
                 "crs": layer.crs().authid(),
                 "fields": [f.name() for f in layer.fields()],
                 "ids": sorted(str(f["lead_id"]) for f in features) if name == "leads" else []}
    del features, layer
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            err = server.stderr.read().decode() if server.stderr else ""
            pytest.fail(f"lvdun serve exited: {err}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError as exc:
            exc.close()
            return  # 401: up, and wants a token
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"lvdun serve did not answer at {url}")


@pytest.mark.slow
def test_qgis_adds_the_live_layers(classified, tmp_path):
    require_service(_qgis_available(), "QGIS (python3-qgis)")
    token = add_user(classified, "甲保护区管理局", "editor", reserves=("R01",))[1]
    viewer = add_user(classified, "省厅查看", "viewer")[1]
    classified.close()
    port = _free_port()
    lvdun = Path(sys.executable).with_name("lvdun")
    server = subprocess.Popen(
        [str(lvdun), "serve", "-w", str(classified.path), "--host", "127.0.0.1",
         "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}/ogc"
        _wait_up(base, server)
        script = tmp_path / "add_in_qgis.py"
        script.write_text(ADD_IN_QGIS, encoding="utf-8")
        results = {}
        for who, key in (("editor", token), ("viewer", viewer)):
            done = subprocess.run([str(SYSTEM_PYTHON), str(script), base, key],
                                  capture_output=True, text=True, timeout=300, check=False,
                                  env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
            assert done.returncode == 0, done.stderr
            results[who] = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr:
            server.stderr.close()
    viewer_leads, editor_leads = results["viewer"]["leads"], results["editor"]["leads"]
    assert viewer_leads["valid"] and viewer_leads["count"] == 6, results
    assert viewer_leads["crs"] in ("OGC:CRS84", "EPSG:4326", "EPSG:4490")
    assert {"lead_id", "status"} <= set(viewer_leads["fields"])
    assert editor_leads["valid"] and set(editor_leads["ids"]) < set(viewer_leads["ids"])
    assert "L004" not in editor_leads["ids"] and "L001" in editor_leads["ids"]
    assert results["viewer"]["reserves"]["valid"] and results["viewer"]["reserves"]["count"] == 5
