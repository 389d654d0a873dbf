"""Popup extras: the last history entries and before/after thumbnails, always escaped."""

from __future__ import annotations

import base64
import logging

import pandas as pd
import pytest

from tests.webmap.frames import make_frames
from webmap.errors import MapInputError
from webmap.map.build import write_map
from webmap.map.popup import chip_cells, history_cells

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
HOSTILE = '<img src=x onerror="alert(1)">'


def history_frame() -> pd.DataFrame:
    rows = [
        ("L1", 1, "2024-01-01T08:00:00+00:00", "ingest", None, "pending", "新线索", None),
        ("L1", 2, "2024-02-01T08:00:00+00:00", "张三", "pending", "in_field", None, "到现场"),
        ("L1", 3, "2024-03-01T08:00:00+00:00", "张三", "in_field", "problem", None, HOSTILE),
        ("L1", 4, "2024-04-01T08:00:00+00:00", "李四", "problem", "rectifying", None, None),
        ("L2", 5, "2024-01-01T08:00:00+00:00", "ingest", None, "pending", "新线索", None),
    ]
    return pd.DataFrame(rows, columns=["lead_id", "id", "at", "by", "from_status", "to_status",
                                       "reason", "note"])


def test_history_shows_the_last_three_newest_first_escaped():
    cells = history_cells(history_frame())
    l1 = cells["L1"]
    assert l1.count("<li>") == 3
    assert l1.index("2024-04-01 08:00 李四 问题→整改中") < l1.index("2024-02-01")
    assert "新线索" not in l1  # the oldest of four is left out
    assert HOSTILE not in l1 and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in l1
    assert cells["L2"] == (
        '<ul class="lvdun-history"><li>2024-01-01 08:00 ingest 待核查：新线索</li></ul>'
    )


def test_history_none_or_empty_or_malformed():
    assert history_cells(None) == {} and history_cells(history_frame().iloc[:0]) == {}
    with pytest.raises(MapInputError, match="lead_id"):
        history_cells(pd.DataFrame({"x": [1]}))
    with pytest.raises(MapInputError, match="DataFrame"):
        history_cells([{"lead_id": "L1"}])


def test_chips_inline_files_and_keep_data_uris(tmp_path):
    before = tmp_path / "before.png"
    before.write_bytes(PNG)
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    cells = chip_cells({"L1": {"before": before, "after": uri}, "L2": (None, str(before))})
    assert cells["L1"].count('<img src="data:image/png;base64,') == 2
    assert "前时相" in cells["L1"] and "后时相" in cells["L1"]
    assert cells["L2"].count("<img") == 1 and "后时相" in cells["L2"]


def test_chips_refuse_unsafe_or_missing_images(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    cells = chip_cells({
        "L1": ("javascript:alert(1)", "data:text/html;base64,PHNjcmlwdD4="),
        "L2": (tmp_path / "missing.png", None),
        "L3": ('https://img.example.cn/a.png?x=1&y="2"', None),
    })
    assert "L1" not in cells and "L2" not in cells
    assert 'src="https://img.example.cn/a.png?x=1&amp;y=&quot;2&quot;"' in cells["L3"]
    assert "missing.png" in caplog.text and "data URI" in caplog.text
    with pytest.raises(MapInputError, match="before"):
        chip_cells({"L1": "just one"})


def test_published_map_carries_history_and_chips(tmp_path):
    frames = make_frames(20)
    lead = frames["leads"]["lead_id"].iloc[3]
    history = history_frame().assign(lead_id=lead)
    html = write_map(tmp_path / "m.html", **frames, history=history,
                     chips={lead: (PNG, None)}).read_text("utf-8")
    assert "最近记录" in html and "前后影像" in html
    assert "李四 问题→整改中" in html
    assert HOSTILE not in html
    assert "data:image/png;base64," in html
