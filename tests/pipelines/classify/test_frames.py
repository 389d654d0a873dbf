"""``classify_frames`` helpers against their former per-row versions."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from pipelines.classify.frames import _overlaps


def _reference_overlaps(n, left, right, share, prio, reserves) -> list[str]:
    """The former ``_overlaps``: one dict per pair in a Python loop."""
    codes = reserves["reserve_code"].to_numpy()
    names = reserves["reserve_name"].to_numpy()
    zones = reserves["zone"].to_numpy()
    items: dict[int, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for i, j, s in zip(left, right, share, strict=True):
        items[int(i)].append((int(prio[j]), {
            "reserve_code": codes[j], "reserve_name": names[j], "zone": zones[j],
            "share": round(float(s), 6),
        }))
    return [
        json.dumps([d for _, d in sorted(items[i], key=lambda t: -t[0])], ensure_ascii=False)
        if i in items else "[]"
        for i in range(n)
    ]


def test_overlaps_json_is_the_former_per_row_json():
    rng = np.random.default_rng(11)
    m = 40
    reserves = gpd.GeoDataFrame(pd.DataFrame({
        "reserve_code": [f"R{k:02d}" if k % 7 else None for k in range(m)],
        "reserve_name": [f"保护区\"{k}\"\\" for k in range(m)],
        "zone": rng.choice(["core", "buffer", "experimental", "unzoned"], m),
    }))
    prio = rng.integers(0, 4, m)
    n = 300
    left = np.sort(rng.integers(0, n, 900))
    right = rng.integers(0, m, 900)
    order = np.lexsort((right, left))
    left, right = left[order], right[order]
    share = np.where(rng.random(900) < 0.5, 1.0, rng.random(900))
    share[:5] = [0.0, 1e-7, 0.1234565, 2 / 3, 1 - 1e-12]
    got = _overlaps(n, left, right, share, prio, reserves)
    assert list(got) == _reference_overlaps(n, left, right, share, prio, reserves)


def test_overlaps_without_pairs_are_empty_lists():
    reserves = gpd.GeoDataFrame(pd.DataFrame({"reserve_code": ["R"], "reserve_name": ["甲"],
                                              "zone": ["core"]}))
    empty = np.empty(0, dtype="int64")
    assert list(_overlaps(3, empty, empty, np.empty(0), np.array([1]), reserves)) == ["[]"] * 3
