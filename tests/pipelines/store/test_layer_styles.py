"""layer_styles and lead_status_view on both backends (pipelines/store/layer_styles.py)."""

from __future__ import annotations

from pipelines.publish.styles import write_styles
from pipelines.store.copy import copy_workspace
from pipelines.store.layer_styles import VIEW_COLUMNS
from pipelines.verify.status import set_status


def test_view_joins_class_and_current_status(any_classified):
    write_styles(any_classified)
    rows = {r["线索编号"]: r for r in any_classified.read_lead_status_view()}
    assert set(rows) == {"L001", "L002", "L003", "L004", "L005", "L006"}
    assert set(rows["L001"]) == {"fid", *VIEW_COLUMNS}
    assert (rows["L001"]["保护区"], rows["L001"]["功能区"]) == ("甲保护区", "核心区")
    assert rows["L003"]["功能区"] == "核心保护区"  # the stricter zone of 乙 wins
    assert (rows["L005"]["保护区"], rows["L005"]["功能区"]) == (None, "保护区外")
    assert {r["核查状态"] for r in rows.values()} == {"待核查"}
    set_status(any_classified, "L001", "核查中", by="张三")
    after = {r["线索编号"]: r for r in any_classified.read_lead_status_view()}
    assert (after["L001"]["status"], after["L001"]["核查状态"]) == ("in_field", "核查中")


def test_styles_replaced_not_duplicated_and_others_kept(any_classified):
    assert write_styles(any_classified) == write_styles(any_classified)
    styles = any_classified.layer_styles("lead_status_view")
    assert len(styles) == 1
    name, default, qml, sld = styles[0]
    assert default and name == "线索核查状态"
    assert 'type="categorizedSymbol"' in qml and "已销号" in qml and "StyledLayerDescriptor" in sld
    reserves = any_classified.layer_styles("reserves")
    assert [(n, d) for n, d, _, _ in reserves] == [("保护区功能区", True), ("保护区级别", False)]
    # a user's own style of a layer survives lvdun rewriting its styles, not as default
    any_classified.write_layer_styles([("wetlands", "我的", "<qgis/>", "<sld/>", True, "mine")])
    write_styles(any_classified)
    wetlands = any_classified.layer_styles("wetlands")
    assert [(n, d) for n, d, _, _ in wetlands] == [("湿地", True), ("我的", False)]


def test_copy_leaves_styles_and_view_out(any_classified, tmp_path):
    from pipelines.store import open_workspace

    write_styles(any_classified)
    with open_workspace(tmp_path / "copy.gpkg") as target:
        report = copy_workspace(any_classified, target)
        assert "layer_styles" not in report.counts and "lead_status_view" not in report.counts
        assert report.counts["leads"] == 6


def test_features_in_box_pages_by_fid(any_classified):
    zones, total = any_classified.features_in_box("reserves", (126.75, 43.41, 126.76, 43.43),
                                                   limit=10)
    assert (total, list(zones["zone"])) == (1, ["general_control"])
    # 甲's three rings and 乙's core protection zone meet this box; 乙's general control not
    box = (126.5, 43.5, 126.625, 43.51)
    first, total = any_classified.features_in_box("reserves", box, limit=2)
    rest, again = any_classified.features_in_box("reserves", box, limit=2, offset=2)
    assert total == again == 4 and len(first) == 2 and len(rest) == 2
    assert list(first["fid"]) + list(rest["fid"]) == sorted([*first["fid"], *rest["fid"]])
    assert set(rest["zone"]) | set(first["zone"]) == {"core", "buffer", "experimental",
                                                      "core_protection"}
    everything, count = any_classified.features_in_box("reserves", None, limit=100)
    assert count == len(everything) == 5
    empty, none = any_classified.features_in_box("reserves", (0.0, 0.0, 1.0, 1.0), limit=5)
    assert (len(empty), none) == (0, 0)


OPEN_PG_IN_QGIS = r"""
import json, sys
from qgis.core import QgsApplication, QgsDataSourceUri, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
params = json.loads(sys.argv[1])
uri = QgsDataSourceUri()
uri.setConnection(params.get("host", "localhost"), params.get("port", "5432"), params["dbname"],
                  params.get("user", ""), params.get("password", ""))
uri.setDataSource(params["schema"], "lead_status_view", "geom", "", "fid")
layer = QgsVectorLayer(uri.uri(False), "view", "postgres")
renderer = layer.renderer()
out = {"valid": layer.isValid(), "features": layer.featureCount(), "crs": layer.crs().authid(),
       "renderer": renderer.type() if renderer else None,
       "labels": [c.label() for c in renderer.categories()]
       if renderer and renderer.type() == "categorizedSymbol" else []}
del renderer, layer
print(json.dumps(out, ensure_ascii=False), flush=True)
app.exitQgis()
"""


def test_postgis_view_styled_in_qgis(any_classified, tmp_path):
    import json
    import os
    import subprocess

    import pytest
    from psycopg.conninfo import conninfo_to_dict

    from layers.schema import STATUS_LABELS
    from tests.conftest import require_service
    from tests.pipelines.publish.test_styles import SYSTEM_PYTHON, _qgis_available

    if any_classified.kind != "postgis":
        pytest.skip("the GeoPackage in QGIS: tests/pipelines/publish/test_styles.py")
    require_service(_qgis_available(), "QGIS (python3-qgis)")
    write_styles(any_classified)
    params = {k: str(v) for k, v in conninfo_to_dict(any_classified.conninfo).items()}
    params["schema"] = any_classified.schema
    script = tmp_path / "open_pg.py"
    script.write_text(OPEN_PG_IN_QGIS, encoding="utf-8")
    done = subprocess.run([str(SYSTEM_PYTHON), str(script), json.dumps(params)],
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["valid"] and result["features"] == 6 and result["crs"] == "EPSG:4490", result
    assert result["renderer"] == "categorizedSymbol"
    assert result["labels"] == list(STATUS_LABELS.values())
