"""Administrative divisions: province, city, county (adcode and name)."""

from __future__ import annotations

from layers.aliases import normalize_header
from layers.canonical import Prepared, canonicalize
from layers.read import Source

__all__ = ["prepare_admin"]

_LEVELS = {
    "province": "province", "省": "province", "省级": "province",
    "city": "city", "市": "city", "地级市": "city", "市级": "city",
    "district": "county", "county": "county", "县": "county", "区县": "county",
    "县级": "county", "区": "county",
}


def prepare_admin(source: Source, **options: object) -> Prepared:
    """Canonical admin units; a unit without a level is taken as a county."""
    prep = canonicalize(source, "admin", geom_kinds=("Polygon",), **options)  # type: ignore[arg-type]
    frame = prep.frame
    frame["admin_level"] = [
        _LEVELS.get(normalize_header(v), v) if v else "county" for v in frame["admin_level"]
    ]
    prep.frame = frame
    return prep
