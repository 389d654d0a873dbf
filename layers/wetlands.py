"""Wetland lists (湿地名录): 国家重要湿地, 省级重要湿地, 一般湿地, as polygons or points."""

from __future__ import annotations

from layers.aliases import normalize_header
from layers.canonical import Prepared, canonicalize
from layers.read import Source

__all__ = ["WETLAND_LEVELS", "prepare_wetlands"]

WETLAND_LEVELS = ("国家重要湿地", "省级重要湿地", "一般湿地")
_LEVELS = {
    "国家重要湿地": "国家重要湿地", "国家重要": "国家重要湿地", "国家级": "国家重要湿地",
    "国际重要湿地": "国家重要湿地", "省级重要湿地": "省级重要湿地", "省级重要": "省级重要湿地",
    "省级": "省级重要湿地", "省重要湿地": "省级重要湿地", "一般湿地": "一般湿地",
    "一般": "一般湿地",
}


def prepare_wetlands(source: Source, **options: object) -> Prepared:
    """Canonical wetlands: ids default to names, levels normalised to the list's three."""
    prep = canonicalize(source, "wetlands", geom_kinds=("Polygon", "Point"), **options)  # type: ignore[arg-type]
    frame = prep.frame
    frame["wetland_id"] = [
        i if i else n for i, n in zip(frame["wetland_id"], frame["wetland_name"], strict=True)
    ]
    frame["wetland_level"] = [
        _LEVELS.get(normalize_header(v), v) if v else None for v in frame["wetland_level"]
    ]
    prep.frame = frame
    return prep
