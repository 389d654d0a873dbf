"""Every reserve a lead lies in (``lead_reserves``) and the rule that picks its primary one."""

# ruff: noqa: F811 -- fixtures imported from tests/pipelines/store/conftest.py

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from pipelines.classify.job import classify
from pipelines.classify.members import membership_rows, primary_reserves
from pipelines.ingest.files import ingest
from pipelines.store.base import Workspace
from tests.pipelines.store.conftest import (  # noqa: F401
    any_workspace,
    gpkg_workspace,
    pg_database,
    pg_schema_url,
    pg_workspace,
)


def _members(ws: Workspace) -> pd.DataFrame:
    rows = ws.read_table("lead_reserves", order='"lead_id", "reserve_code"')
    return rows.drop(columns=["run_id"])


def _twins(tmp_path: Path, names: tuple[str, str] = ("东保护区", "西保护区")) -> Path:
    """Two provincial reserves sharing the edge x = 126.2; codes R20 (east) and R10 (west).

    The east reserve's name sorts after the west one's in Unicode order, and it is
    ingested first, so neither name nor file order can decide between them.
    """
    frame = gpd.GeoDataFrame(
        {"保护区编码": ["R20", "R10"], "保护区名称": list(names), "级别": ["省级", "省级"],
         "功能区": ["实验区", "实验区"]},
        geometry=[shapely.box(126.2, 43.0, 126.4, 43.2), shapely.box(126.0, 43.0, 126.2, 43.2)],
        crs=4490)
    path = tmp_path / "twins.gpkg"
    frame.to_file(path)
    return path


def _twin_leads(tmp_path: Path) -> Path:
    frame = gpd.GeoDataFrame(
        {"线索编号": ["EDGE", "MOSTLY_EAST", "MOSTLY_WEST", "EAST_ONLY"], "批次": "2024"},
        geometry=[shapely.Point(126.2, 43.1),                 # on the shared edge
                  shapely.box(126.19, 43.05, 126.23, 43.07),   # 3/4 in R20
                  shapely.box(126.17, 43.05, 126.21, 43.07),   # 3/4 in R10
                  shapely.Point(126.3, 43.1)],
        crs=4490)
    path = tmp_path / "twin_leads.gpkg"
    frame.to_file(path)
    return path


def test_every_reserve_of_a_lead_is_a_row_primary_marked(any_workspace, zones_file, leads_csv):
    ingest(any_workspace, "reserves", zones_file)
    ingest(any_workspace, "leads", leads_csv, crs="EPSG:4490")
    classify(any_workspace)
    rows = _members(any_workspace)
    by_lead = {lead: part.set_index("reserve_code") for lead, part in rows.groupby("lead_id")}
    # L003: 甲 experimental (national) under 乙 core protection (provincial): both hold it
    assert set(by_lead["L003"].index) == {"R01", "R02"}
    assert by_lead["L003"].loc["R02", "is_primary"] == 1
    assert by_lead["L003"].loc["R01", "is_primary"] == 0
    assert by_lead["L003"].loc["R01", "zone"] == "experimental"
    assert by_lead["L003"].loc["R02", "zone"] == "core_protection"
    assert by_lead["L003"]["reserve_name"].to_dict() == {"R01": "甲保护区", "R02": "乙保护区"}
    # L006 on 甲's core/buffer edge: one row for 甲, its strictest zone, share 1 at most
    assert list(by_lead["L006"].index) == ["R01"]
    assert by_lead["L006"].loc["R01", "zone"] == "core"
    assert by_lead["L006"].loc["R01", "share"] == 1.0
    assert "L005" not in by_lead  # outside every reserve: no row
    assert rows["batch"].eq("2024-H1").all()
    # one primary per lead inside a reserve, the reserve lead_class names
    klass = any_workspace.read_table("lead_class").set_index("lead_id")
    primary = rows[rows["is_primary"] == 1].set_index("lead_id")["reserve_code"]
    assert primary.to_dict() == klass["reserve_code"].dropna().to_dict()
    run = any_workspace.runs().iloc[-1]
    assert any_workspace.read_table("lead_reserves")["run_id"].eq(run["run_id"]).all()


def test_reclassification_replaces_a_leads_rows(any_workspace, zones_file, leads_csv,
                                                tmp_path):
    ingest(any_workspace, "reserves", zones_file)
    ingest(any_workspace, "leads", leads_csv, crs="EPSG:4490")
    classify(any_workspace)
    first = len(any_workspace.read_table("lead_reserves"))
    classify(any_workspace)
    assert len(any_workspace.read_table("lead_reserves")) == first  # replaced, not appended
    # 乙's boundary moved 1° east: L003 now lies in 甲 alone
    frame = gpd.read_file(zones_file)
    moved = frame["保护区编码"] == "R02"
    frame.loc[moved, "geometry"] = frame.loc[moved, "geometry"].translate(xoff=1.0)
    frame.to_file(tmp_path / "moved.gpkg")
    ingest(any_workspace, "reserves", tmp_path / "moved.gpkg")
    classify(any_workspace)
    rows = _members(any_workspace)
    l003 = rows[rows["lead_id"] == "L003"]
    assert l003[["reserve_code", "is_primary"]].values.tolist() == [["R01", 1]]
    assert "R02" not in set(rows["reserve_code"])


def test_point_on_a_shared_edge_goes_to_the_lower_code(any_workspace, tmp_path):
    ingest(any_workspace, "reserves", _twins(tmp_path))
    ingest(any_workspace, "leads", _twin_leads(tmp_path))
    classify(any_workspace)
    klass = any_workspace.read_table("lead_class").set_index("lead_id")
    assert klass.loc["EDGE", "reserve_code"] == "R10"
    rows = _members(any_workspace)
    edge = rows[rows["lead_id"] == "EDGE"].set_index("reserve_code")
    assert edge["is_primary"].to_dict() == {"R10": 1, "R20": 0}
    assert edge["share"].to_dict() == {"R10": 1.0, "R20": 1.0}


def test_patch_split_between_equal_reserves_goes_to_the_larger_share(any_workspace, tmp_path):
    ingest(any_workspace, "reserves", _twins(tmp_path))
    ingest(any_workspace, "leads", _twin_leads(tmp_path))
    classify(any_workspace)
    klass = any_workspace.read_table("lead_class").set_index("lead_id")
    assert klass.loc["MOSTLY_EAST", "reserve_code"] == "R20"  # the higher code, more area
    assert klass.loc["MOSTLY_WEST", "reserve_code"] == "R10"
    rows = _members(any_workspace)
    east = rows[rows["lead_id"] == "MOSTLY_EAST"].set_index("reserve_code")
    assert east.loc["R20", "share"] == pytest.approx(0.75, abs=0.01)
    assert east.loc["R10", "share"] == pytest.approx(0.25, abs=0.01)
    assert east["is_primary"].to_dict() == {"R10": 0, "R20": 1}


def test_tie_rule_ignores_names(gpkg_workspace, tmp_path):
    """Names swapped: the same codes win."""
    ingest(gpkg_workspace, "reserves", _twins(tmp_path, names=("西保护区", "东保护区")))
    ingest(gpkg_workspace, "leads", _twin_leads(tmp_path))
    classify(gpkg_workspace)
    klass = gpkg_workspace.read_table("lead_class").set_index("lead_id")
    assert klass["reserve_code"].to_dict() == {
        "EDGE": "R10", "MOSTLY_EAST": "R20", "MOSTLY_WEST": "R10", "EAST_ONLY": "R20"}


def test_stricter_zone_and_higher_level_come_before_share():
    codes = np.array(["R01", "R02", "R03"], dtype=object)
    prio = np.array([51, 52, 31])  # R01 core provincial, R02 core national, R03 experimental
    left, right = np.array([0, 0, 0, 1, 1]), np.array([0, 1, 2, 0, 2])
    share = np.array([0.5, 0.1, 0.4, 0.05, 0.95])
    assert primary_reserves(2, left, right, share, prio, codes).tolist() == [1, 0]
    assert primary_reserves(1, np.array([], dtype=int), np.array([], dtype=int),
                            np.array([]), prio, codes).tolist() == [-1]


def test_share_of_a_reserve_sums_its_polygons_of_one_zone():
    # R02 holds 0.3 + 0.3 of the patch in two polygons of the same zone, R01 0.4 in one
    codes = np.array(["R01", "R02", "R02"], dtype=object)
    prio = np.array([31, 31, 31])
    win = primary_reserves(1, np.array([0, 0, 0]), np.array([0, 1, 2]),
                           np.array([0.4, 0.3, 0.3]), prio, codes)
    assert codes[win[0]] == "R02"


@pytest.mark.parametrize("engine", ["geos", "dask"])
def test_engines_write_the_same_memberships(gpkg_workspace, zones_file, leads_csv, engine):
    ingest(gpkg_workspace, "reserves", zones_file)
    ingest(gpkg_workspace, "leads", leads_csv, crs="EPSG:4490")
    classify(gpkg_workspace, engine="geos")
    expected = _members(gpkg_workspace)
    classify(gpkg_workspace, engine=engine)
    pd.testing.assert_frame_equal(_members(gpkg_workspace), expected)
    assert len(expected) == 6  # L001, L002, L004, L006 one each; L003 two; L005 none


@pytest.mark.postgis
def test_postgis_engine_writes_the_same_memberships(pg_workspace, zones_file, leads_csv):
    ingest(pg_workspace, "reserves", zones_file)
    ingest(pg_workspace, "leads", leads_csv, crs="EPSG:4490")
    classify(pg_workspace, engine="geos")
    expected = _members(pg_workspace)
    for engine in ("postgis", "dask"):
        classify(pg_workspace, engine=engine)
        pd.testing.assert_frame_equal(_members(pg_workspace), expected, obj=engine)


def test_membership_rows_of_leads_outside_and_unclassified():
    klass = pd.DataFrame({"lead_id": ["A", "B"], "batch": ["1", "1"],
                          "reserve_code": [None, None], "overlaps": ["[]", None],
                          "run_id": ["r", "r"]})
    assert membership_rows(klass).empty


def test_store_reads_winners_of_a_workspace_classified_before_memberships(
        any_workspace, zones_file, leads_csv):
    ingest(any_workspace, "reserves", zones_file)
    ingest(any_workspace, "leads", leads_csv, crs="EPSG:4490")
    classify(any_workspace)
    with any_workspace.transaction():  # as a workspace upgraded from schema version 3
        any_workspace.execute('DELETE FROM "lead_reserves"')
    rows = any_workspace.lead_memberships()
    assert len(rows) == 5 and rows["is_primary"].eq(1).all() and rows["share"].isna().all()
    assert any_workspace.lead_reserve_codes("L003") == ["R02"]


def test_store_reads_memberships_by_lead_and_reserve(any_workspace, zones_file, leads_csv):
    ingest(any_workspace, "reserves", zones_file)
    ingest(any_workspace, "leads", leads_csv, crs="EPSG:4490")
    classify(any_workspace)
    assert any_workspace.lead_reserve_codes("L003") == ["R02", "R01"]  # primary first
    assert any_workspace.lead_reserve_codes("L005") == []
    r01 = any_workspace.lead_memberships(reserve_codes=["R01"])
    assert sorted(r01["lead_id"]) == ["L001", "L002", "L003", "L006"]
    assert any_workspace.lead_memberships(reserve_codes=[]).empty
    leads, klass, _ = any_workspace.read_member_lead_tables(["R01"])
    assert sorted(leads["lead_id"]) == ["L001", "L002", "L003", "L006"]
    assert sorted(klass["lead_id"]) == sorted(leads["lead_id"])
    outside, _, _ = any_workspace.read_member_lead_tables([None])
    assert outside["lead_id"].tolist() == ["L005"]
    assert any_workspace.reserve_levels() == {"R01": "national", "R02": "provincial"}
