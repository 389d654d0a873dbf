"""The named statements of :class:`~pipelines.store.queries.JobQueries`, on every backend."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from pipelines.errors import StoreError, WorkspaceError
from pipelines.store import Workspace
from pipelines.verify.status import set_status


def test_kind(any_workspace: Workspace):
    assert any_workspace.kind == type(any_workspace).__module__.rsplit(".", 1)[-1]
    assert any_workspace.kind in ("gpkg", "postgis")


def test_replace_lead_class(any_classified: Workspace):
    ws = any_classified
    old = ws.read_table("lead_class")
    with ws.transaction():
        assert ws.replace_lead_class(old.head(2)) == 2
    assert sorted(ws.read_table("lead_class")["lead_id"]) == sorted(old["lead_id"].head(2))
    with ws.transaction():
        ws.replace_lead_class(old)
    assert len(ws.read_table("lead_class")) == len(old)


def test_lead_groups_and_counts(any_classified: Workspace):
    ws = any_classified
    groups = ws.lead_groups("reserve_code", "reserve_name")
    assert list(groups.columns) == ["lead_id", "code", "name"]
    assert len(groups) == 6
    counts = ws.lead_group_counts("reserve_code", "reserve_name")
    assert list(counts.columns) == ["code", "name", "n"]
    expected = groups.dropna(subset=["code"]).groupby(["code", "name"]).size()
    got = counts.set_index(["code", "name"])["n"].astype(int)
    assert got.sort_index().to_dict() == expected.sort_index().to_dict()
    assert int(counts["n"].sum()) == 5  # L005 lies outside every reserve
    with pytest.raises(StoreError, match="no column"):
        ws.lead_group_counts('reserve_code" --', "reserve_name")


def test_last_history_id(any_classified: Workspace):
    ws = any_classified
    history = ws.read_table("lead_history")
    assert ws.last_history_id() == int(history["id"].max())
    run_id = str(history["run_id"].iloc[0])
    assert ws.last_history_id(run_id=run_id) == int(
        history.loc[history["run_id"] == run_id, "id"].max())
    assert ws.last_history_id(run_id="no such run") is None
    assert ws.last_history_id(at_or_before="1970-01-01") is None
    assert ws.last_history_id(at_or_before="9999-12-31") == ws.last_history_id()


def test_last_history_id_of_an_empty_workspace(any_workspace: Workspace):
    assert any_workspace.last_history_id() is None


def test_change_counters(any_classified: Workspace):
    ws = any_classified
    before = ws.change_counters()
    assert len(before) == 4
    assert before[1][0] == 6
    set_status(ws, "L001", "in_field", by="张三")
    after = ws.change_counters()
    assert after[2][0] > before[2][0]
    assert after[1] == before[1]


def test_lead_fids(any_classified: Workspace):
    ws = any_classified
    fids = ws.lead_fids()
    assert fids.dtype == "int64"
    assert fids.tolist() == sorted(ws.read_features("leads")["fid"].tolist())


def test_batches(any_classified: Workspace):
    ws = any_classified
    assert ws.lead_batches() == ["2024-H1"]
    counts = ws.batch_lead_counts(["pending", "in_field"])
    assert counts[["batch", "leads", "open"]].astype({"leads": int, "open": int}).to_dict(
        "records") == [{"batch": "2024-H1", "leads": 6, "open": 6}]
    set_status(ws, "L001", "in_field", by="张三")
    set_status(ws, "L001", "问题", by="张三", note="新建采石场")
    assert int(ws.batch_lead_counts(["pending", "in_field"])["open"].iloc[0]) == 5
    with pytest.raises(StoreError):
        ws.batch_lead_counts([])


def test_read_features_in(any_classified: Workspace):
    ws = any_classified
    frame = ws.read_features_in("leads", "lead_id", ["L002", "L001", "X"])
    assert sorted(frame["lead_id"]) == ["L001", "L002"]
    assert frame.crs.to_epsg() == 4490
    empty = ws.read_features_in("leads", "lead_id", [])
    assert empty.empty
    assert list(empty.columns) == list(frame.columns)


def test_set_mine_progress(any_workspace: Workspace):
    ws = any_workspace
    mines = gpd.GeoDataFrame({"mine_id": ["M1", "M2"]},
                             geometry=[shapely.box(126.4, 43.4, 126.5, 43.5)] * 2,
                             crs="EPSG:4490")
    with ws.transaction():
        ws.insert_features("mines", mines)
        assert ws.set_mine_progress("M1", "治理中") == 1
        assert ws.set_mine_progress("nope", "治理中") == 0
    progress = ws.read_features("mines").set_index("mine_id")["restoration_progress"]
    assert progress["M1"] == "治理中"
    assert progress["M2"] is None or pd.isna(progress["M2"])


def test_lead_zone_fids(any_classified: Workspace):
    ws = any_classified
    if ws.kind != "postgis":
        with pytest.raises(WorkspaceError, match="PostGIS"):
            ws.lead_zone_fids(256)
        return
    pairs = ws.lead_zone_fids(256)
    leads = ws.read_features("leads").set_index("fid")
    zones = ws.read_features("reserves").set_index("fid")
    expected = {(int(a), int(b)) for a, la in leads.geometry.items()
                for b, zb in zones.geometry.items()
                if not la.is_empty and zb.intersects(la)}
    assert set(pairs) == expected
    assert len(pairs) == len(set(pairs))
    assert pairs


def test_rows_by_one_column(any_classified: Workspace):
    ws = any_classified
    assert ws.count_equal("leads", "batch", "2024-H1") == 6
    assert ws.count_equal("leads", "batch", "2099") == 0
    set_status(ws, "L001", "in_field", by="张三")
    rows = ws.read_table_equal("lead_history", "lead_id", "L001", order_by="id")
    assert list(rows["to_status"]) == ["pending", "in_field"]
    assert list(rows["id"]) == sorted(rows["id"])
    assert ws.read_table_equal("lead_history", "lead_id", "X").empty
    ordered = ws.read_table_ordered("lead_history", "id")
    assert list(ordered["id"]) == sorted(ordered["id"]) and len(ordered) == 7
    with pytest.raises(StoreError, match="bad identifier"):
        ws.count_equal("leads", 'batch" OR 1=1 --', "x")


def test_read_features_fid_range(any_classified: Workspace):
    ws = any_classified
    fids = ws.lead_fids()
    part = ws.read_features_fid_range("leads", fids[1], fids[3])
    assert part["fid"].tolist() == fids[1:3].tolist()
    assert ws.read_features_fid_range("leads", fids[-1] + 1, fids[-1] + 9).empty


def test_read_features_equal(any_classified: Workspace):
    ws = any_classified
    frame = ws.read_features_equal("leads", "lead_id", "L003")
    assert frame["lead_id"].tolist() == ["L003"]
    assert frame.crs.to_epsg() == 4490
    assert ws.read_features_equal("leads", "lead_id", "X").empty
