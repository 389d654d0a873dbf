"""Shared fixtures: small layers built in code, a fresh workspace, service requirements."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def require_service(available: bool, what: str) -> None:
    """Skip when a service is missing, or fail when ``LVDUN_REQUIRE_SERVICES=1`` (CI)."""
    if available:
        return
    if os.environ.get("LVDUN_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} is required (LVDUN_REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} not available")


@pytest.fixture(autouse=True)
def _chinese_again_after_each_test():
    """A command run with ``LVDUN_LANG=en`` sets the process's language: back to Chinese,
    the default, so that no test sees the language an earlier one chose."""
    yield
    from layers.i18n import set_language

    set_language("zh")


@pytest.fixture
def english():
    """Messages in English (``LVDUN_LANG=en``) for the test, Chinese again after it."""
    from layers.i18n import set_language

    set_language("en")
    yield
    set_language("zh")


@pytest.fixture
def shared_data() -> Path:
    """The real data folder ``../shared/data``; skips when absent."""
    data = SHARED / "data"
    if not data.exists():
        pytest.skip("../shared/data is not present")
    return data


def zone_frame() -> gpd.GeoDataFrame:
    """Two reserves in CGCS2000 with headers as bureaus write them.

    Reserve 甲 (national, three zones) is a 0.3° square around (126.5, 43.5): core in the
    middle, buffer ring, experimental ring. Reserve 乙 (provincial, two zones) overlaps
    甲's east side: its core protection zone covers part of 甲's experimental ring.
    """
    outer = shapely.box(126.35, 43.35, 126.65, 43.65)
    mid = shapely.box(126.40, 43.40, 126.60, 43.60)
    core = shapely.box(126.45, 43.45, 126.55, 43.55)
    b_outer = shapely.box(126.62, 43.40, 126.80, 43.60)
    b_core = shapely.box(126.62, 43.45, 126.70, 43.55)
    rows = [
        ("R01", "甲保护区", "国家级", "核心区", core),
        ("R01", "甲保护区", "国家级", "缓冲区", mid.difference(core)),
        ("R01", "甲保护区", "国家级", "实验区", outer.difference(mid)),
        ("R02", "乙保护区", "省级", "核心保护区", b_core),
        ("R02", "乙保护区", "省级", "一般控制区", b_outer.difference(b_core)),
    ]
    return gpd.GeoDataFrame(
        {"保护区编码": [r[0] for r in rows], "保护区名称": [r[1] for r in rows],
         "级别": [r[2] for r in rows], "功能区": [r[3] for r in rows]},
        geometry=[r[4] for r in rows], crs="EPSG:4490",
    )


@pytest.fixture
def zones_file(tmp_path: Path) -> Path:
    """The two reserves of :func:`zone_frame` as a GeoPackage."""
    path = tmp_path / "zones.gpkg"
    zone_frame().to_file(path, layer="zones", driver="GPKG")
    return path


@pytest.fixture
def leads_csv(tmp_path: Path) -> Path:
    """Point leads as a bureau CSV (UTF-8 with BOM, Chinese headers)."""
    path = tmp_path / "leads.csv"
    lines = [
        "线索编号,批次,经度,纬度,活动类型,变化类型,面积(亩),备注",
        "L001,2024-H1,126.50,43.50,采石场,新增,3,core of 甲",
        "L002,2024-H1,126.42,43.42,道路,新增,1.5,buffer of 甲",
        "L003,2024-H1,126.63,43.50,光伏,扩大,30,甲 experimental under 乙 core protection",
        "L004,2024-H1,126.75,43.42,养殖场,新增,2,乙 general control",
        "L005,2024-H1,127.50,44.00,居民点,新增,1,outside",
        "L006,2024-H1,126.55,43.50,道路,新增,1,on the 甲 core/buffer edge",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


@pytest.fixture
def workspace(tmp_path: Path):
    """A fresh GeoPackage workspace, opened."""
    from pipelines.store import open_workspace

    ws = open_workspace(tmp_path / "ws.gpkg")
    ws.open()
    yield ws
    ws.close()


@pytest.fixture
def classified(workspace, zones_file: Path, leads_csv: Path):
    """A workspace with the two reserves and the six leads, classified."""
    from pipelines.classify.job import classify
    from pipelines.ingest.files import ingest

    ingest(workspace, "reserves", zones_file)
    ingest(workspace, "leads", leads_csv, crs="EPSG:4490")
    classify(workspace)
    return workspace
