"""What each lead of the map says and how it is drawn: popup cells, style keys, filters."""

from __future__ import annotations

import json

import pytest

from layers.schema import STATUS_LABELS, ZONE_LABELS, Status, Zone
from tests.webmap.frames import make_leads
from webmap.map import features, lead_features
from webmap.map.style import POINT_KEY, STATUS_COLOURS, lead_styles

LABELS = [label for label, _ in lead_features.LEAD_POPUP_FIELDS]


def _cell(row: dict, label: str) -> str:
    return lead_features.lead_cells(row)[LABELS.index(label)]


def test_popup_has_every_field_the_bureau_asked_for():
    assert LABELS[:13] == [
        "线索编号", "批次", "活动类型", "变化类型", "保护区", "功能区", "重叠",
        "湿地", "矿山", "县", "面积(m²)", "状态", "距边界(m)",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("status", "label"),
    [*((s.value, STATUS_LABELS[s]) for s in Status), ("已销号", "已销号"), (None, "待核查")],
)
def test_status_cell_is_the_chinese_label(status, label):
    assert _cell({"status": status}, "状态") == label


def test_unknown_status_is_shown_escaped_and_styled_apart():
    assert _cell({"status": "<i>x</i>"}, "状态") == "状态不明（&lt;i&gt;x&lt;/i&gt;）"
    assert lead_features.status_code("<i>x</i>") == "unknown"
    assert "unknown" in lead_styles()


def test_every_user_string_is_escaped():
    hostile = '<img src=x onerror="alert(1)">'
    row = {column: hostile for _, column in lead_features.LEAD_POPUP_FIELDS}
    row["overlaps"] = json.dumps([{"reserve_name": hostile, "zone": "core", "share": 1}])
    for cell in lead_features.lead_cells(row):
        assert "<" not in cell and '"' not in cell


def test_overlaps_list_every_reserve_with_zone_and_share():
    overlaps = json.dumps(
        [
            {"reserve_code": "N1", "reserve_name": "长白山", "zone": "core", "share": 0.6},
            {"reserve_code": "P1", "reserve_name": "左家", "zone": "general_control", "share": 0.4},
        ]
    )
    assert _cell({"overlaps": overlaps}, "重叠") == "长白山（核心区，60%）；左家（一般控制区，40%）"
    assert _cell({"overlaps": "not json <"}, "重叠") == "not json &lt;"
    assert _cell({"overlaps": "[]"}, "重叠") == ""


def test_numbers_are_formatted_and_missing_values_empty():
    row = {"area_m2": 6666.7, "dist_boundary_m": 1234.4, "wetland_names": float("nan")}
    assert _cell(row, "面积(m²)") == "6,667（10.00 亩）"
    assert _cell(row, "距边界(m)") == "1,234"
    assert _cell(row, "湿地") == ""
    assert _cell({"mine_ids": ["M1", "M2"]}, "矿山") == "M1、M2"


def test_zone_label_falls_back_to_the_zone_code():
    assert _cell({"zone": "buffer"}, "功能区") == "缓冲区"
    assert _cell({"zone": "outside", "zone_label": None}, "功能区") == "保护区外"


def test_leads_are_keyed_by_status_points_apart_problems_drawn_last():
    leads = make_leads(28)
    data = json.loads(lead_features.lead_features(leads).geojson)
    keys = [f["properties"]["k"] for f in data["features"]]
    kinds = [f["geometry"]["type"] for f in data["features"]]
    assert all(k.endswith(POINT_KEY) == (t == "Point") for k, t in zip(keys, kinds, strict=True))
    assert set(keys) <= set(lead_styles())
    assert kinds.index("Point") > max(i for i, t in enumerate(kinds) if t == "Polygon")
    points = [k for k in keys if k.endswith(POINT_KEY)]
    assert points[-1] == "problem" + POINT_KEY


def test_lead_style_colours_follow_the_workflow():
    styles = lead_styles()
    assert styles["problem"]["fillColor"] == STATUS_COLOURS[Status.PROBLEM] == "#e31a1c"
    assert styles["closed" + POINT_KEY]["fillColor"] == "#000000"



def _resolved(data: features.LayerData) -> list[tuple[dict, list[str]]]:
    """(properties, cells with shared cells resolved) of each feature."""
    collection = json.loads(data.geojson)
    dicts = data.spec["cellDicts"]
    out = []
    for feature in collection["features"]:
        props = feature["properties"]
        cells = [dicts[j][c] if isinstance(c, int) else c for j, c in enumerate(props["v"])]
        out.append((props, cells))
    return out


def test_lead_filters_index_every_lead():
    leads = make_leads(12)
    leads["activity_type"] = ["采石场", "光伏", None, "挖塘"] * 3
    leads["batch"] = ["2023-H1", "2024-H1", None] * 4
    leads["reserve_name"] = ["长白山（合成）"] * 6 + [None] * 6
    leads["zone"] = ["core", "buffer", "outside"] * 4
    data = lead_features.lead_features(leads)
    filters = data.spec["filters"]
    assert filters["activity"] == ["矿产资源开发", "能源开发", "挖塘", "（空）"]
    assert filters["batch"] == ["2023-H1", "2024-H1", "（空）"]
    assert filters["zone"] == ["核心区", "缓冲区", "保护区外"]  # strictest first
    assert data.spec["shapes"] == ["triangle", "star", "circle", "circle"]
    by_id = {cells[0]: props["f"] for props, cells in _resolved(data)}
    for i, row in enumerate(leads.drop(columns="geometry").to_dict("records")):
        f = by_id[row["lead_id"]]
        group = lead_features.activity_group(row["activity_type"])
        assert filters["activity"][f[0]] == (group or "（空）")
        assert filters["batch"][f[1]] == (features.text(row["batch"]) or "（空）")
        name = features.text(row["reserve_name"])
        expected = name or ("保护区外" if row["zone"] == "outside" else "（空）")
        assert filters["reserve"][f[2]] == expected, i
        assert filters["zone"][f[3]] == ZONE_LABELS[Zone(row["zone"])]


def test_repeated_cells_are_written_once_and_resolve_to_the_same_popup():
    leads = make_leads(40)
    data = lead_features.lead_features(leads)
    text = data.geojson
    assert text.count("长白山（合成）（核心区，75%）") == 0  # only in the shared cells
    assert "长白山（合成）（核心区，75%）" in data.spec["cellDicts"][LABELS.index("重叠")]
    rows = {row["lead_id"]: row for row in leads.drop(columns="geometry").to_dict("records")}
    for _, cells in _resolved(data):
        assert cells == lead_features.lead_cells(rows[cells[0]])


def test_ids_and_editable_flags_for_the_web_app():
    leads = make_leads(4)
    plain = [p for p, _ in _resolved(lead_features.lead_features(leads))]
    assert not any("i" in p or "e" in p for p in plain)
    ids = set(leads["lead_id"][:2])
    flagged = [p for p, _ in _resolved(lead_features.lead_features(leads, ids=True, editable=ids))]
    assert {p["i"] for p in flagged} == set(leads["lead_id"])
    assert {p["i"] for p in flagged if p.get("e") == 1} == ids


@pytest.mark.parametrize(
    ("value", "group"),
    [("采砂", "矿产资源开发"), ("水电站", "能源开发"), ("养殖开发", "养殖开发"), (None, None),
     ("  ", None), ("挖塘", "挖塘")],
)
def test_activity_group_maps_sub_types(value, group):
    assert lead_features.activity_group(value) == group
