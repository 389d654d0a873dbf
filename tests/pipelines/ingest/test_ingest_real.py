"""Real third-party files from ../shared/data (skipped when absent)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipelines.classify.job import classify
from pipelines.ingest.files import ingest

pytestmark = pytest.mark.shared


def _rejects(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_gem_closed_mines_with_decimal_commas_and_a_swapped_row(workspace, shared_data):
    path = shared_data / "gem-coal-mines" / "closed_mines.csv"
    report = ingest(workspace, "mines", path, crs="EPSG:4326")
    assert report.read == 1754
    assert report.read == report.stored + report.rejected
    # the Anglesea row has latitude and longitude swapped: fixed, reported, then refused
    # because the mine is in Australia, not China
    assert any(n.startswith("第 2 行：") and "写反" in n for n in report.notes)
    reasons = {r["row"]: r["reason"] for r in _rejects(report.rejects_path)}
    assert "中国境外" in reasons["2"]
    mines = workspace.read_features("mines").set_index("mine_id")
    assert 100 <= len(mines) <= 400
    baishan = mines.loc["M5460"]  # 33,785716 / 116,680522 written with decimal commas
    assert baishan["mine_name"] == "皖北煤电集团百善煤矿"
    assert (baishan.geometry.x, baishan.geometry.y) == pytest.approx((116.680522, 33.785716),
                                                                     abs=1e-6)
    assert baishan["closed_year"] == 2016


def test_gem_mines_as_leads(workspace, shared_data):
    path = shared_data / "gem-coal-mines" / "non_closed_mines.csv"
    report = ingest(workspace, "leads", path, crs="EPSG:4326", batch="GEM-2024",
                    fields={"lead_id": "GEM Mine ID"})
    assert report.read == 7136 == report.stored + report.rejected
    reasons = [r["reason"] for r in _rejects(report.rejects_path)]
    assert any(r.startswith("lead_id 重复：首次出现在第") for r in reasons)
    assert any(r.startswith("缺少坐标") for r in reasons)
    assert report.stored > 2000


def test_jilin_admin_with_province_city_and_county_rows(workspace, shared_data, leads_csv,
                                                        zones_file):
    report = ingest(workspace, "admin", shared_data / "jilin-admin" / "jilin-admin.gpkg")
    assert (report.read, report.stored, report.rejected) == (70, 70, 0)
    admin = workspace.read_features("admin")
    assert (admin["admin_level"] == "county").sum() == 60
    assert set(admin.loc[admin["admin_level"] == "province", "admin_name"]) == {"吉林省"}
    ingest(workspace, "reserves", zones_file)
    ingest(workspace, "leads", leads_csv, crs=4490)
    classify(workspace)
    klass = workspace.read_table("lead_class").set_index("lead_id")
    assert klass["county_name"].notna().all()
    assert klass.loc["L001", "county_adcode"].startswith("22")
