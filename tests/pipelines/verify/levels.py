"""Counties and users of the review tests: the six leads of ``classified`` in three counties.

============  ========  =======================  ======================
adcode        name      leads                    city / province
============  ========  =======================  ======================
222401        延吉市     L001 L002                2224 / 22
222426        安图县     L003 L004 L006           2224 / 22
220104        朝阳区     L005                     2201 / 22
============  ========  =======================  ======================

Reserve 甲 (R01) holds L001, L002, L006; 乙 (R02) L003, L004; L005 lies outside both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from pipelines.users import User, add_user, get_user

COUNTY: dict[str, str] = {"L001": "222401", "L002": "222401", "L003": "222426",
                          "L004": "222426", "L006": "222426", "L005": "220104"}
#: name -> (role, reserves, level, areas)
USERS: dict[str, tuple[str, tuple[str, ...], str | None, tuple[str, ...]]] = {
    "甲保护区": ("editor", ("R01",), None, ()),
    "乙保护区": ("editor", ("R02",), None, ()),
    "某市局": ("reviewer", (), "city", ("2224",)),
    "长春市局": ("reviewer", (), "city", ("2201",)),
    "某省厅": ("reviewer", (), "province", ("22",)),
    "安图县局": ("reviewer", (), "county", ("222426",)),
    "管理员": ("admin", (), None, ()),
}


def add_counties(ws: Any, tmp_path: Path) -> Any:
    """Ingest the three counties into a classified workspace, classify again, add users."""
    from pipelines.classify.job import classify
    from pipelines.ingest.files import ingest

    admin = gpd.GeoDataFrame(
        {"行政区划代码": ["222401", "222426", "220104"], "名称": ["延吉市", "安图县", "朝阳区"],
         "级别": "县"},
        geometry=[shapely.box(126.30, 43.30, 126.52, 43.70),
                  shapely.box(126.52, 43.30, 126.90, 43.70),
                  shapely.box(127.30, 43.80, 127.70, 44.20)],
        crs="EPSG:4490",
    )
    path = tmp_path / "counties.gpkg"
    admin.to_file(path, layer="admin", driver="GPKG")
    ingest(ws, "admin", path)
    classify(ws)
    tokens = {}
    for name, (role, reserves, level, areas) in USERS.items():
        tokens[name] = add_user(ws, name, role, reserves=reserves, level=level, areas=areas)[1]
    ws.tokens = tokens  # for the web tests
    return ws


def user(ws: Any, name: str) -> User:
    """The user ``name`` of the workspace."""
    return get_user(ws, name)
