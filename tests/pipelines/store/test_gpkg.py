from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from pipelines.errors import StoreError
from pipelines.store import open_workspace
from pipelines.store.gpkg import decode_gpkg, encode_gpkg


def test_workspace_is_a_geopackage_gdal_reads(classified):
    path = classified.path
    layers = dict(pyogrio.list_layers(path))
    for name in ("leads", "reserves", "wetlands", "mines", "admin"):
        assert name in layers
    leads = gpd.read_file(path, layer="leads")
    assert len(leads) == 6 and leads.crs.to_epsg() == 4490
    klass = pyogrio.read_dataframe(path, layer="lead_class", read_geometry=False)
    assert len(klass) == 6


def test_blob_round_trip_of_every_geometry_kind():
    geoms = np.array([
        shapely.Point(126.5, 43.5),
        shapely.box(126, 43, 127, 44),
        shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)]),
        shapely.LineString([(0, 0), (1, 1)]),
        shapely.Polygon(),
        None,
    ], dtype=object)
    back = decode_gpkg(encode_gpkg(geoms))
    for a, b in zip(geoms, back, strict=True):
        assert (a is None and b is None) or a.equals(b) or (a.is_empty and b.is_empty)


def test_rollback_leaves_nothing(workspace):
    frame = gpd.GeoDataFrame({"lead_id": ["X"], "batch": ["1"]},
                             geometry=[shapely.Point(126, 43)], crs=4490)
    with pytest.raises(RuntimeError), workspace.transaction():
        workspace.insert_features("leads", frame)
        raise RuntimeError("stop")
    assert workspace.count("leads") == 0


def test_refuses_non_cgcs2000_and_non_sqlite(workspace, tmp_path):
    frame = gpd.GeoDataFrame({"lead_id": ["X"]}, geometry=[shapely.Point(126, 43)], crs=4326)
    with pytest.raises(StoreError, match="EPSG:4490"), workspace.transaction():
        workspace.insert_features("leads", frame)
    bad = tmp_path / "x.gpkg"
    bad.write_text("not sqlite")
    with pytest.raises(StoreError, match="not a GeoPackage"):
        open_workspace(bad).open()
    with pytest.raises(StoreError, match="does not exist"):
        open_workspace(tmp_path / "missing.gpkg", create=False).open()


def test_extent_from_envelopes_includes_blobs_without_one(workspace):
    # a point written by another tool: GeoPackage header without envelope, then the WKB
    import struct

    pts = gpd.GeoDataFrame({"lead_id": ["A", "B"]},
                           geometry=[shapely.Point(126.0, 43.0), shapely.Point(127.0, 44.0)],
                           crs=4490)
    with workspace.transaction():
        workspace.insert_features("leads", pts)
        bare = struct.pack("<2sBBi", b"GP", 0, 0x01, 4490) + shapely.to_wkb(
            shapely.Point(125.5, 44.5), byte_order=1)
        workspace.execute('UPDATE "leads" SET geom = ? WHERE lead_id = ?', (bare, "B"))
        workspace.insert_features("leads", gpd.GeoDataFrame(
            {"lead_id": ["C"]}, geometry=[shapely.box(126.2, 42.5, 126.4, 42.6)], crs=4490))
    got = workspace.extent("leads")
    assert got == pytest.approx((125.5, 42.5, 126.4, 44.5))  # B's blob decoded, C enveloped
    frame = workspace.read_features("leads")
    assert tuple(frame.total_bounds) == pytest.approx(got)


def test_contents_last_change_is_utc_with_z_and_own_tables_are_china_time(classified):
    import re

    stamps = classified.execute("SELECT table_name, last_change FROM gpkg_contents").fetchall()
    assert {"leads", "reserves", "lead_class"} <= {name for name, _ in stamps}
    utc = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
    assert [(n, t) for n, t in stamps if not utc.match(str(t))] == []
    runs = classified.read_table("runs")
    assert runs["started_at"].str.endswith("+08:00").all()
