"""The three classify engines (geos, postgis, dask) give identical ``lead_class`` tables."""

# ruff: noqa: F811 -- fixtures imported from tests/pipelines/store/conftest.py

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from pipelines.classify import engines
from pipelines.classify.engines import reserve_pairs
from pipelines.classify.job import classify
from pipelines.errors import WorkspaceError
from pipelines.ingest.files import ingest
from pipelines.store.base import Workspace

# the fixtures of tests/pipelines/store/conftest.py (fresh PostGIS / GeoPackage workspaces),
# imported so pytest finds them here; test arguments of the same names shadow them (F811)
from tests.pipelines.store.conftest import (  # noqa: F401
    gpkg_workspace,
    pg_database,
    pg_schema_url,
    pg_workspace,
)

VOLATILE = ["run_id", "classified_at"]


def _edge_leads(tmp_path: Path) -> Path:
    """Point leads exactly on zone edges and vertices, plus patches straddling zones."""
    points = [
        ("E01", 126.45, 43.50),  # 甲 core/buffer west edge
        ("E02", 126.45, 43.45),  # core vertex
        ("E03", 126.35, 43.35),  # outer vertex of 甲
        ("E04", 126.65, 43.50),  # 甲 outer east edge, inside 乙 core protection
        ("E05", 126.62, 43.45),  # 乙 core vertex, inside 甲 experimental
        ("E06", 126.80, 43.60),  # 乙 outer vertex
        ("E07", 126.70, 43.55),  # 乙 core vertex
        ("E08", 126.5000000001, 43.45),  # on the core's south edge, off the vertices
        ("E09", 126.3499999999, 43.5),  # just outside 甲
    ]
    patches = [
        ("P01", shapely.box(126.44, 43.44, 126.46, 43.46)),  # core / buffer
        ("P02", shapely.box(126.60, 43.48, 126.66, 43.52)),  # 甲 + 乙
        ("P03", shapely.box(126.79, 43.59, 126.85, 43.65)),  # 乙 and outside
        ("P04", shapely.box(127.0, 44.0, 127.01, 44.01)),  # outside
    ]
    ids = [p[0] for p in points] + [p[0] for p in patches]
    geoms = [shapely.Point(x, y) for _, x, y in points] + [g for _, g in patches]
    frame = gpd.GeoDataFrame(
        {"线索编号": ids, "批次": "2024-H2", "活动类型": "道路", "变化类型": "新增"},
        geometry=geoms, crs="EPSG:4490")
    path = tmp_path / "edge_leads.gpkg"
    frame.to_file(path, layer="leads", driver="GPKG")
    return path


def _lead_class(ws: Workspace) -> pd.DataFrame:
    return ws.read_table("lead_class", order='"lead_id"').drop(columns=VOLATILE)


def _fill(ws: Workspace, zones_file: Path, leads_csv: Path, tmp_path: Path) -> None:
    ingest(ws, "reserves", zones_file)
    ingest(ws, "leads", leads_csv, crs="EPSG:4490")
    ingest(ws, "leads", _edge_leads(tmp_path))


@pytest.fixture
def local_scheduler() -> Iterator[str]:
    """Address of an in-process ``dask.distributed`` cluster."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=None) as cluster:
        yield cluster.scheduler_address


@pytest.mark.postgis
def test_three_engines_identical_on_postgis(
    pg_workspace: Workspace, zones_file: Path, leads_csv: Path, tmp_path: Path
) -> None:
    _fill(pg_workspace, zones_file, leads_csv, tmp_path)
    tables = {}
    for engine in ("geos", "postgis", "dask"):
        classify(pg_workspace, engine=engine)
        tables[engine] = _lead_class(pg_workspace)
    assert len(tables["geos"]) == 6 + 13
    for engine in ("postgis", "dask"):
        pd.testing.assert_frame_equal(tables["geos"], tables[engine], obj=engine)
    zones = dict(zip(tables["geos"]["lead_id"], tables["geos"]["zone"], strict=True))
    assert zones["E01"] == zones["E02"] == "core"
    assert zones["E09"] == "outside"


@pytest.mark.postgis
def test_postgis_pairs_match_geos(
    pg_workspace: Workspace, zones_file: Path, leads_csv: Path, tmp_path: Path
) -> None:
    _fill(pg_workspace, zones_file, leads_csv, tmp_path)
    leads = pg_workspace.read_features("leads")
    reserves = pg_workspace.read_features("reserves")
    geos = reserve_pairs("geos", pg_workspace, leads, reserves)
    pg = reserve_pairs("postgis", pg_workspace, leads, reserves)
    np.testing.assert_array_equal(geos[0], pg[0])
    np.testing.assert_array_equal(geos[1], pg[1])


def test_geos_and_dask_identical_on_gpkg(
    gpkg_workspace: Workspace, zones_file: Path, leads_csv: Path, tmp_path: Path
) -> None:
    _fill(gpkg_workspace, zones_file, leads_csv, tmp_path)
    classify(gpkg_workspace, engine="geos")
    geos = _lead_class(gpkg_workspace)
    classify(gpkg_workspace, engine="dask")
    pd.testing.assert_frame_equal(geos, _lead_class(gpkg_workspace))


def test_dask_on_distributed_scheduler(
    gpkg_workspace: Workspace, zones_file: Path, leads_csv: Path, tmp_path: Path,
    local_scheduler: str,
) -> None:
    _fill(gpkg_workspace, zones_file, leads_csv, tmp_path)
    classify(gpkg_workspace, engine="geos")
    geos = _lead_class(gpkg_workspace)
    classify(gpkg_workspace, engine="dask", scheduler=local_scheduler)
    pd.testing.assert_frame_equal(geos, _lead_class(gpkg_workspace))


def test_dask_partitions_read_from_the_store_match_geos(
    gpkg_workspace: Workspace, zones_file: Path, leads_csv: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fill(gpkg_workspace, zones_file, leads_csv, tmp_path)
    classify(gpkg_workspace, engine="geos")
    geos = _lead_class(gpkg_workspace)
    ranges = engines.fid_ranges(gpkg_workspace, 4)
    assert len(ranges) == 5  # 19 leads, 4 per partition
    assert all(lo < hi for lo, hi in ranges)
    # the client never reads the leads' features: the tasks do, a range each
    reads: list[str] = []
    original = Workspace.read_features

    def spy(self: Workspace, layer: str, **kw: object) -> gpd.GeoDataFrame:
        frame = original(self, layer, **kw)
        if layer == "leads":
            assert kw.get("where"), "leads read without a range"
            reads.append(f"{len(frame)}")
        return frame

    monkeypatch.setattr(Workspace, "read_features", spy)
    result = engines.dask_classify(gpkg_workspace, "run-x", near_m=1000.0,
                                   mine_margin_m=500.0, partition_rows=4)
    assert sorted(reads) == sorted(["4", "4", "4", "4", "3"])
    assert len(result) == 19
    classify(gpkg_workspace, engine="dask")
    pd.testing.assert_frame_equal(geos, _lead_class(gpkg_workspace))


def test_reserve_pairs_refuses_dask(gpkg_workspace: Workspace) -> None:
    with pytest.raises(WorkspaceError, match="pairs come from geos or postgis"):
        reserve_pairs("dask", gpkg_workspace, gpd.GeoDataFrame(), gpd.GeoDataFrame())


def test_postgis_engine_refused_on_gpkg(
    gpkg_workspace: Workspace, zones_file: Path, leads_csv: Path
) -> None:
    ingest(gpkg_workspace, "reserves", zones_file)
    ingest(gpkg_workspace, "leads", leads_csv, crs="EPSG:4490")
    with pytest.raises(WorkspaceError, match="needs a PostGIS workspace"):
        classify(gpkg_workspace, engine="postgis")
    assert gpkg_workspace.read_table("lead_class").empty


def test_cli_engine_option(
    tmp_path: Path, zones_file: Path, leads_csv: Path, local_scheduler: str
) -> None:
    from pipelines.cli import cli as main
    from pipelines.store import open_workspace

    ws_path = tmp_path / "cli.gpkg"
    with open_workspace(ws_path) as ws:
        ingest(ws, "reserves", zones_file)
        ingest(ws, "leads", leads_csv, crs="EPSG:4490")
    runner = CliRunner()
    ok = runner.invoke(main, ["classify", "-w", str(ws_path), "--engine", "dask"],
                       env={"LVDUN_DASK_SCHEDULER": local_scheduler})
    assert ok.exit_code == 0, ok.output
    assert "已分类 6 条线索" in ok.output
    refused = runner.invoke(main, ["classify", "-w", str(ws_path), "--engine", "postgis"],
                            env={"LVDUN_LANG": "en"})
    assert refused.exit_code != 0
    assert "needs a PostGIS workspace" in refused.output


@pytest.mark.postgis
def test_postgis_pairs_on_subdivided_polygons(pg_workspace: Workspace, tmp_path: Path) -> None:
    """Many-vertex zones with holes and parts, cut by ST_Subdivide; points on vertices too."""
    rng = np.random.default_rng(7)
    ring = shapely.Point(126.5, 43.5).buffer(0.3, quad_segs=512)  # 2048 vertices
    hole = shapely.Point(126.5, 43.5).buffer(0.1, quad_segs=256)
    donut = ring.difference(hole)
    islands = shapely.MultiPolygon([
        shapely.Point(126.5, 43.5).buffer(0.05, quad_segs=128),
        shapely.Polygon(shapely.get_coordinates(
            shapely.Point(127.0, 43.5).buffer(0.2, quad_segs=300).exterior)[::-1]),
    ])
    zones = gpd.GeoDataFrame(
        {"保护区编码": ["R11", "R11"], "保护区名称": ["丙保护区", "丙保护区"],
         "级别": ["国家级", "国家级"], "功能区": ["缓冲区", "核心区"]},
        geometry=[donut, islands], crs="EPSG:4490")
    zones_path = tmp_path / "round.gpkg"
    zones.to_file(zones_path, layer="zones", driver="GPKG")
    ingest(pg_workspace, "reserves", zones_path)
    stored = pg_workspace.read_features("reserves")
    vertices = shapely.get_coordinates(np.asarray(stored.geometry.values, dtype=object))
    on_vertex = vertices[rng.choice(len(vertices), 300, replace=False)]
    inside = np.column_stack([rng.uniform(126.1, 127.3, 2000), rng.uniform(43.1, 43.9, 2000)])
    xy = np.vstack([on_vertex, inside])
    leads = gpd.GeoDataFrame(
        {"线索编号": [f"V{k:05d}" for k in range(len(xy))], "批次": "2024-H2"},
        geometry=shapely.points(xy), crs="EPSG:4490")
    leads_path = tmp_path / "round_leads.gpkg"
    leads.to_file(leads_path, layer="leads", driver="GPKG")
    ingest(pg_workspace, "leads", leads_path)
    parts = pg_workspace.execute(
        "SELECT count(*) FROM (SELECT ST_Subdivide(geom, 256) FROM reserves) s").fetchone()[0]
    assert parts > 8
    frame = pg_workspace.read_features("leads")
    geos = reserve_pairs("geos", pg_workspace, frame, stored)
    pg = reserve_pairs("postgis", pg_workspace, frame, stored)
    assert len(geos[0]) > 300
    np.testing.assert_array_equal(geos[0], pg[0])
    np.testing.assert_array_equal(geos[1], pg[1])


@pytest.mark.postgis
def test_postgis_pieces_are_kept_until_a_zone_changes(
    pg_workspace: Workspace, zones_file: Path, leads_csv: Path
) -> None:
    """The subdivided zones are cut once; a zone edited in place (as in QGIS) cuts them
    again, and the pairs follow the edited polygon."""
    from pipelines.store.postgis_overlay import PARTS_TABLE

    ws = pg_workspace
    ingest(ws, "reserves", zones_file)
    ingest(ws, "leads", leads_csv, crs="EPSG:4490")

    def table_oid() -> int:
        return ws.execute("SELECT to_regclass(%s)::oid",
                          (f'"{ws.schema}"."{PARTS_TABLE}"',)).fetchone()[0]

    frame, stored = ws.read_features("leads"), ws.read_features("reserves")
    first = reserve_pairs("postgis", ws, frame, stored)
    oid = table_oid()
    again = reserve_pairs("postgis", ws, frame, stored)
    assert table_oid() == oid  # reused, not cut again
    np.testing.assert_array_equal(first[0], again[0])
    # move one zone far away, in place: its leads leave it
    ws.execute("UPDATE reserves SET geom = ST_Translate(geom, 10, 0) WHERE fid = "
               "(SELECT min(fid) FROM reserves)")
    moved = ws.read_features("reserves")
    after = reserve_pairs("postgis", ws, frame, moved)
    assert table_oid() != oid
    geos = reserve_pairs("geos", ws, frame, moved)
    np.testing.assert_array_equal(after[0], geos[0])
    np.testing.assert_array_equal(after[1], geos[1])
    assert len(after[0]) < len(first[0])


@pytest.mark.parametrize("store", ["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def test_history_holds_every_run_as_written_to_lead_class(
    store: str, request: pytest.FixtureRequest, zones_file: Path, leads_csv: Path,
    tmp_path: Path,
) -> None:
    ws = request.getfixturevalue("gpkg_workspace" if store == "gpkg" else "pg_workspace")
    _fill(ws, zones_file, leads_csv, tmp_path)
    runs = [classify(ws).run_id, classify(ws, near_m=10.0).run_id]
    history = ws.read_table("lead_class_history", order='"snapshot_id"')
    current = ws.read_table("lead_class", order='"lead_id"')
    assert len(history) == 2 * len(current) == 2 * (6 + 13)
    assert sorted(set(history["run_id"])) == sorted(runs)
    assert (history["snapshot_id"] == history["run_id"] + "/" + history["lead_id"]).all()
    last = history[history["run_id"] == runs[1]].sort_values("lead_id").reset_index(drop=True)
    for column in ("lead_id", "batch", "reserve_code", "zone", "mine_flag", "classified_at"):
        pd.testing.assert_series_equal(last[column], current[column], check_names=False,
                                       obj=column)


@pytest.mark.parametrize("store", ["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def test_leads_read_with_the_classify_columns_only(
    store: str, request: pytest.FixtureRequest, zones_file: Path, leads_csv: Path,
    tmp_path: Path,
) -> None:
    from pipelines.classify.frames import LEAD_COLUMNS
    from pipelines.errors import StoreError

    ws = request.getfixturevalue("gpkg_workspace" if store == "gpkg" else "pg_workspace")
    _fill(ws, zones_file, leads_csv, tmp_path)
    full = ws.read_features("leads")
    part = ws.read_features("leads", columns=LEAD_COLUMNS)
    assert list(part.columns) == ["fid", *LEAD_COLUMNS, "geometry"]
    pd.testing.assert_frame_equal(part, full[list(part.columns)])
    with pytest.raises(StoreError, match="no column nope"):
        ws.read_features("leads", columns=["lead_id", "nope"])
