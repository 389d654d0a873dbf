"""A workspace whose reserves collide by name and by the outside marker (export tests).

Reserves (each a 0.1° square, all core zone):

=============  =======================  ======  ======================================
code           name                     leads   why
=============  =======================  ======  ======================================
R01            甲保护区                  T01 T02 named like R02
R02            甲保护区                  T03     named like R01
outside        外码保护区                T04     coded like the web app's outside marker
R04            保护区外                  T05     named like the leads outside reserves
甲/1           斜杠保护区                T07     a code with a slash
a"b            <b>引号</b>保护区          T08     a code with a quote, a name with markup
自然保护区      中文码保护区              T09     a Chinese code
=============  =======================  ======  ======================================

T06 lies outside every reserve. Two counties named 朝阳区 (adcodes 220104, 110105) hold
T01-T03 and T04-T05; the other leads are outside every county.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

#: code, name, west longitude of the reserve's square (latitude 43.0-43.1).
RESERVES: list[tuple[str, str, float]] = [
    ("R01", "甲保护区", 126.0),
    ("R02", "甲保护区", 126.2),
    ("outside", "外码保护区", 126.4),
    ("R04", "保护区外", 126.6),
    ("甲/1", "斜杠保护区", 126.8),
    ('a"b', "<b>引号</b>保护区", 127.0),
    ("自然保护区", "中文码保护区", 127.2),
]
#: lead -> (lon, lat).
LEADS: dict[str, tuple[float, float]] = {
    "T01": (126.03, 43.05), "T02": (126.07, 43.05), "T03": (126.25, 43.05),
    "T04": (126.45, 43.05), "T05": (126.65, 43.05), "T06": (128.50, 44.50),
    "T07": (126.85, 43.05), "T08": (127.05, 43.05), "T09": (127.25, 43.05),
}  # fmt: skip
#: The leads of each reserve code (None: outside every reserve).
BY_RESERVE: dict[str | None, list[str]] = {
    "R01": ["T01", "T02"], "R02": ["T03"], "outside": ["T04"], "R04": ["T05"],
    None: ["T06"], "甲/1": ["T07"], 'a"b': ["T08"], "自然保护区": ["T09"],
}  # fmt: skip
#: The folder of each reserve code's ledger.
LABELS: dict[str | None, str] = {
    "R01": "甲保护区_R01", "R02": "甲保护区_R02", "outside": "外码保护区",
    "R04": "保护区外_R04", None: "保护区外", "甲/1": "斜杠保护区",
    'a"b': "b_引号_b_保护区", "自然保护区": "中文码保护区",
}  # fmt: skip


def twin_workspace(ws: Any, tmp_path: Path) -> Any:
    """Ingest the reserves, counties and leads above into ``ws`` and classify them."""
    from pipelines.classify.job import classify
    from pipelines.ingest.files import ingest

    zones = gpd.GeoDataFrame(
        {"保护区编码": [r[0] for r in RESERVES], "保护区名称": [r[1] for r in RESERVES],
         "级别": "国家级", "功能区": "核心区"},
        geometry=[shapely.box(w, 43.0, w + 0.1, 43.1) for _, _, w in RESERVES],
        crs="EPSG:4490",
    )
    zones_path = tmp_path / "twin_zones.gpkg"
    zones.to_file(zones_path, layer="zones", driver="GPKG")
    admin = gpd.GeoDataFrame(
        {"行政区划代码": ["220104", "110105"], "名称": ["朝阳区", "朝阳区"], "级别": "县"},
        geometry=[shapely.box(125.9, 42.9, 126.35, 43.2), shapely.box(126.35, 42.9, 126.75,
                                                                       43.2)],
        crs="EPSG:4490",
    )
    admin_path = tmp_path / "twin_admin.gpkg"
    admin.to_file(admin_path, layer="admin", driver="GPKG")
    leads_path = tmp_path / "twin_leads.csv"
    pd.DataFrame({
        "线索编号": list(LEADS), "批次": "2024-H1",
        "经度": [p[0] for p in LEADS.values()], "纬度": [p[1] for p in LEADS.values()],
        "活动类型": "采石场",
    }).to_csv(leads_path, index=False, encoding="utf-8-sig")
    ingest(ws, "reserves", zones_path)
    ingest(ws, "admin", admin_path)
    ingest(ws, "leads", leads_path, crs="EPSG:4490")
    classify(ws)
    return ws
