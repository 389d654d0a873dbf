"""Administrative divisions: province, city, county (adcode and name)."""

from __future__ import annotations

from layers.aliases import normalize_header
from layers.canonical import Prepared, canonicalize, reject_duplicates, reject_where
from layers.read import Source, is_blank

__all__ = ["prepare_admin"]

_LEVELS = {
    "province": "province", "省": "province", "省级": "province",
    "city": "city", "市": "city", "地级市": "city", "市级": "city",
    "district": "county", "county": "county", "县": "county", "区县": "county",
    "县级": "county", "区": "county",
}


def prepare_admin(source: Source, **options: object) -> Prepared:
    """Canonical admin units; a unit without a level is taken as a county.

    A province or city row whose name column (``district``, 名称) is empty takes its name
    from the city or province column, as national division files are laid out.
    """
    prep = canonicalize(source, "admin", geom_kinds=("Polygon",), **options)  # type: ignore[arg-type]
    frame = prep.frame
    frame["admin_level"] = [
        _LEVELS.get(normalize_header(v), v) if not is_blank(v) else "county"
        for v in frame["admin_level"]
    ]
    frame["admin_name"] = [
        next((v for v in (name, city, prov) if not is_blank(v)), None)
        for name, city, prov in zip(frame["admin_name"], frame["city"], frame["province"],
                                    strict=True)
    ]
    prep.frame = frame
    missing = frame["admin_name"].isna().to_numpy()
    reject_where(prep, missing, prep.columns.get("admin_name", "admin_name"), None,
                 "no name: fill the 名称 column (or city/province for their rows)")
    reject_duplicates(prep, "adcode")
    return prep
