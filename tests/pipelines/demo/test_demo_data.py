"""The synthetic demo data set: files, determinism, geometry and the placement of leads."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geo.crs import CHINA_ALBERS
from layers.schema import ACTIVITY_TYPES, CHANGE_TYPES
from pipelines.demo.data import RESERVES, SYNTHETIC_LABEL, write_demo_inputs

N_LEADS = 3000


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_demo_inputs(tmp_path_factory.mktemp("demo"), seed=2024, n_leads=N_LEADS)


@pytest.fixture(scope="module")
def frames(demo: dict[str, Path]) -> dict[str, pd.DataFrame]:
    return {
        "reserves": gpd.read_file(demo["reserves"], layer="reserves", engine="pyogrio"),
        "wetlands": gpd.read_file(demo["wetlands"], engine="pyogrio"),
        "mines": gpd.read_file(demo["mines"], engine="pyogrio"),
        "admin": gpd.read_file(demo["admin"], layer="admin", engine="pyogrio"),
        "leads_2023": pd.read_csv(demo["leads_2023"], encoding="utf-8-sig", dtype={"批次": str}),
        "leads_2024h1": gpd.read_file(demo["leads_2024h1"], layer="leads", engine="pyogrio"),
    }


def _outline(reserves: gpd.GeoDataFrame, fragment: str) -> shapely.Geometry:
    rows = reserves[reserves["保护区名称"].str.contains(fragment)]
    return shapely.union_all(rows.geometry.to_numpy())


def _points_2023(frames: dict[str, pd.DataFrame]) -> np.ndarray:
    leads = frames["leads_2023"]
    return shapely.points(leads["经度"].to_numpy(), leads["纬度"].to_numpy())


def test_files_layers_columns_and_crs(demo: dict[str, Path], frames: dict[str, pd.DataFrame]):
    names = {p.name for p in demo.values()}
    assert names == {"reserves.gpkg", "wetlands.geojson", "mines.shp", "admin.gpkg",
                     "leads_2023.csv", "leads_2024h1.gpkg", "README.txt"}
    assert all(p.is_file() for p in demo.values())
    assert [name for name, _ in pyogrio.list_layers(demo["reserves"])] == ["reserves"]
    assert [name for name, _ in pyogrio.list_layers(demo["admin"])] == ["admin"]
    assert [name for name, _ in pyogrio.list_layers(demo["leads_2024h1"])] == ["leads"]
    for key in ("reserves", "mines", "admin", "leads_2024h1"):
        assert frames[key].crs.to_epsg() == 4490, key
    assert frames["wetlands"].crs.to_epsg() == 4326
    assert list(frames["reserves"].columns) == ["保护区编码", "保护区名称", "级别", "功能区",
                                                "数据说明", "geometry"]
    assert list(frames["wetlands"].columns) == ["湿地编码", "湿地名称", "湿地级别", "湿地类型",
                                                "面积(公顷)", "管护单位", "数据说明", "geometry"]
    assert list(frames["mines"].columns) == ["许可证号", "矿山名称", "矿种", "开采方式", "矿山状态",
                                             "关闭年份", "修复模式", "治理进度", "数据说明",
                                             "geometry"]
    assert list(frames["admin"].columns) == ["行政区划代码", "名称", "级别", "市", "省", "数据说明",
                                             "geometry"]
    assert list(frames["leads_2023"].columns) == ["线索编号", "批次", "经度", "纬度", "活动类型",
                                                  "变化类型", "面积(亩)", "前时相", "后时相",
                                                  "所在县", "备注"]
    assert list(frames["leads_2024h1"].columns) == ["图斑编号", "批次", "活动类型", "变化类型",
                                                    "面积", "前时相", "后时相", "备注", "geometry"]
    assert demo["leads_2023"].read_bytes().startswith(b"\xef\xbb\xbf")


def test_everything_is_labelled_synthetic(demo: dict[str, Path], frames: dict[str, pd.DataFrame]):
    readme = demo["readme"].read_text(encoding="utf-8")
    assert SYNTHETIC_LABEL in readme
    assert "synthetic" in readme.lower()
    assert "NOT real boundaries" in readme
    assert "seed=2024" in readme
    for key in ("reserves", "wetlands", "mines", "admin"):
        assert frames[key]["数据说明"].str.startswith(SYNTHETIC_LABEL).all(), key
    for key in ("leads_2023", "leads_2024h1"):
        assert frames[key]["备注"].str.startswith(SYNTHETIC_LABEL).all(), key


def test_counts_ids_and_values(frames: dict[str, pd.DataFrame]):
    l23, l24 = frames["leads_2023"], frames["leads_2024h1"]
    assert len(l23) == 1800 and len(l24) == 1200
    assert (l23["批次"] == "2023").all() and (l24["批次"] == "2024-H1").all()
    assert l23["线索编号"].str.fullmatch(r"C22\d{4}2023\d{6}").all()
    assert l24["图斑编号"].str.fullmatch(r"C22\d{4}202[34]\d{6}").all()
    assert l23["线索编号"].is_unique and l24["图斑编号"].is_unique
    for frame in (l23, l24):
        assert frame["活动类型"].isin(list(ACTIVITY_TYPES)).all()
        assert frame["变化类型"].isin(CHANGE_TYPES).all()
        assert (frame["前时相"] < frame["后时相"]).all()
        assert frame["后时相"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert l23["面积(亩)"].between(0.5, 300).all()
    assert l24["面积"].between(199.0, 200_001.0).all()
    assert (l23["前时相"] < "2022-10-10").all() and (l23["后时相"] >= "2023-07-01").all()
    assert (l24["前时相"] >= "2023-09-01").all() and (l24["后时相"] < "2024-07-01").all()


def test_stated_areas_are_equal_area_sizes(frames: dict[str, pd.DataFrame]):
    leads = frames["leads_2024h1"]
    area = leads.to_crs(CHINA_ALBERS).area.to_numpy()
    np.testing.assert_allclose(leads["面积"].to_numpy(), area, atol=0.01)
    wetlands = frames["wetlands"]
    area_ha = wetlands.to_crs(CHINA_ALBERS).area.to_numpy() / 1e4
    np.testing.assert_allclose(wetlands["面积(公顷)"].to_numpy(), area_ha, rtol=1e-3)


def test_same_seed_gives_same_files(tmp_path: Path):
    first = write_demo_inputs(tmp_path / "a", seed=7, n_leads=300)
    second = write_demo_inputs(tmp_path / "b", seed=7, n_leads=300)
    other = write_demo_inputs(tmp_path / "c", seed=8, n_leads=300)
    for key in ("leads_2023", "wetlands", "readme"):
        assert first[key].read_bytes() == second[key].read_bytes(), key
    for suffix in (".shp", ".shx", ".prj", ".cpg"):
        assert (first["mines"].with_suffix(suffix).read_bytes()
                == second["mines"].with_suffix(suffix).read_bytes()), suffix
    for key in ("reserves", "admin", "leads_2024h1", "mines"):  # GPKG and .dbf hold dates
        a, b = pyogrio.read_dataframe(first[key]), pyogrio.read_dataframe(second[key])
        pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
        assert shapely.equals_exact(a.geometry.to_numpy(), b.geometry.to_numpy(), 0.0).all()
    assert first["leads_2023"].read_bytes() != other["leads_2023"].read_bytes()


def test_polygons_are_valid(frames: dict[str, pd.DataFrame]):
    for key in ("reserves", "wetlands", "mines", "admin", "leads_2024h1"):
        geoms = frames[key].geometry.to_numpy()
        assert shapely.is_valid(geoms).all(), key
        assert (shapely.get_type_id(geoms) == 3).all(), key  # Polygon


def test_zones_of_a_reserve_tile_it_without_overlap(frames: dict[str, pd.DataFrame]):
    reserves = frames["reserves"].to_crs(CHINA_ALBERS)
    kinds = set()
    for _, rows in reserves.groupby("保护区名称"):
        zones = tuple(rows["功能区"])
        kinds.add(zones)
        geoms = rows.geometry.to_numpy()
        union = shapely.union_all(geoms)
        assert union.area == pytest.approx(shapely.area(geoms).sum(), rel=1e-9)
        assert shapely.get_num_interior_rings(union) == 0
        for i in range(len(geoms)):
            for j in range(i + 1, len(geoms)):
                assert shapely.intersection(geoms[i], geoms[j]).area < 1e-6 * union.area
    assert kinds == {("核心区", "缓冲区", "实验区"), ("核心保护区", "一般控制区")}
    assert set(frames["reserves"]["级别"]) == {"国家级", "省级"}


def test_reserve_areas_near_targets(frames: dict[str, pd.DataFrame]):
    reserves = frames["reserves"].to_crs(CHINA_ALBERS)
    area_km2 = reserves.geometry.area.groupby(reserves["保护区名称"]).sum() / 1e6
    assert len(area_km2) == len(RESERVES) >= 8
    for spec in RESERVES:
        assert area_km2[spec.name] == pytest.approx(spec.area_km2, rel=0.25), spec.name
    assert area_km2[RESERVES[0].name] == pytest.approx(1964.65, rel=0.25)  # 长白山


def test_two_reserves_overlap_stricter_zone_over_weaker(frames: dict[str, pd.DataFrame]):
    reserves = frames["reserves"]
    chagan, nenjiang = _outline(reserves, "查干湖"), _outline(reserves, "嫩江湾")
    overlap = gpd.GeoSeries([chagan.intersection(nenjiang)], crs=reserves.crs).to_crs(CHINA_ALBERS)
    assert overlap.area.iloc[0] > 1e6
    core = reserves[reserves["保护区名称"].str.contains("嫩江湾")
                    & (reserves["功能区"] == "核心区")]
    general = reserves[reserves["保护区名称"].str.contains("查干湖")
                       & (reserves["功能区"] == "一般控制区")]
    assert core.geometry.iloc[0].intersection(general.geometry.iloc[0]).area > 0
    others = [_outline(reserves, name) for name in ("长白山", "向海", "莫莫格", "左家")]
    assert not shapely.intersects(shapely.union_all(others), chagan)


def test_lead_placement(frames: dict[str, pd.DataFrame]):
    reserves, leads = frames["reserves"], frames["leads_2023"]
    points = _points_2023(frames)
    zone_edges = shapely.union_all(shapely.boundary(reserves.geometry.to_numpy()))
    on_edge = shapely.distance(points, zone_edges) == 0
    assert on_edge.sum() >= 0.02 * len(leads)
    assert shapely.intersects(points[on_edge], zone_edges).all()
    outside = ~shapely.intersects(points, shapely.union_all(reserves.geometry.to_numpy()))
    assert 0.12 * len(leads) <= outside.sum() <= 0.35 * len(leads)
    wetlands = shapely.union_all(frames["wetlands"].geometry.to_numpy())
    assert shapely.intersects(points, wetlands).sum() > 50
    mines = frames["mines"]
    closed = mines.geometry[mines["矿山状态"].isin(["关闭", "历史遗留"])].to_numpy()
    assert shapely.intersects(points, shapely.union_all(closed)).sum() > 30
    province = shapely.union_all(frames["admin"].geometry.to_numpy())
    assert shapely.intersects(points, province).all()
    patches = frames["leads_2024h1"].geometry.to_numpy()
    assert shapely.within(patches, province).all()
    straddling, _ = shapely.STRtree(shapely.boundary(reserves.geometry.to_numpy())).query(
        patches, predicate="intersects")
    assert np.unique(straddling).size >= 10
    experimental = shapely.union_all(
        reserves.geometry[reserves["功能区"].isin(["实验区", "一般控制区"])].to_numpy())
    core = shapely.union_all(reserves.geometry[reserves["功能区"].isin(["核心区", "核心保护区"])]
                             .to_numpy())
    density = [shapely.intersects(points, g).sum() / g.area for g in (experimental, core)]
    assert density[0] > 1.5 * density[1]


def test_every_reserve_lies_in_the_counties(frames: dict[str, pd.DataFrame]):
    admin = frames["admin"]
    assert admin["行政区划代码"].str.fullmatch(r"22\d{4}").all()
    assert (admin["级别"] == "county").all() and len(admin) >= 20
    province = shapely.union_all(admin.geometry.to_numpy())
    reserves = frames["reserves"].geometry.to_numpy()
    assert shapely.covered_by(reserves, shapely.buffer(province, 1e-9)).all()


def test_repeated_leads_keep_their_id(frames: dict[str, pd.DataFrame]):
    l23, l24 = frames["leads_2023"], frames["leads_2024h1"]
    repeated = l24[l24["图斑编号"].isin(l23["线索编号"])]
    assert len(repeated) == pytest.approx(0.1 * len(l24), abs=2)
    assert (repeated["变化类型"] == "扩大").all()
    first = l23.set_index("线索编号").loc[repeated["图斑编号"]]
    points = shapely.points(first["经度"].to_numpy(), first["纬度"].to_numpy())
    assert shapely.contains(repeated.geometry.to_numpy(), points).all()


def test_shapefile_dbf_is_gbk(demo: dict[str, Path], frames: dict[str, pd.DataFrame]):
    shp = demo["mines"]
    assert shp.with_suffix(".cpg").read_text(encoding="ascii").strip().upper() == "GBK"
    dbf = shp.with_suffix(".dbf").read_bytes()
    assert "许可证号".encode("gbk") in dbf and "治理进度".encode("gbk") in dbf
    assert "矿山名称".encode() not in dbf
    mines = pyogrio.read_dataframe(shp, encoding="GBK")
    assert list(mines.columns[:3]) == ["许可证号", "矿山名称", "矿种"]
    assert mines["矿山名称"].str.endswith(("矿", "场")).all()
    assert set(mines["矿山状态"]) == {"关闭", "历史遗留", "有效"}
    assert set(mines["修复模式"].dropna()) <= {"自然恢复", "辅助再生", "生态重建", "转型利用"}
    assert mines["矿山名称"].tolist() == frames["mines"]["矿山名称"].tolist()
    assert re.fullmatch(r"C22\d{4}\d{16}", mines["许可证号"].iloc[0])


def test_too_few_leads_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="at least 10 leads"):
        write_demo_inputs(tmp_path, n_leads=3)
