"""Administrative divisions: province, city, county (adcode and name).

Division files come in two layouts: a name column (名称, ``district``) with province and
city columns beside it, or the hierarchy itself, 省 / 市 / 县 columns with each row's
unit in the finest column it fills. Both are read; a file whose columns name no unit
below the city is refused with the columns found, rather than naming every county
after its city.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from layers.aliases import map_headers, normalize_header, split_unit
from layers.canonical import Prepared, canonicalize, reject_duplicates, reject_where
from layers.errors import FieldError
from layers.i18n import _
from layers.read import Source, is_blank

__all__ = ["COUNTY_HEADERS", "prepare_admin"]

_LEVELS = {
    "province": "province", "省": "province", "省级": "province",
    "city": "city", "市": "city", "地级市": "city", "市级": "city",
    "district": "county", "county": "county", "县": "county", "区县": "county",
    "县级": "county", "区": "county",
}
#: Headers of the county column of a 省 / 市 / 县 hierarchy (compared normalised).
COUNTY_HEADERS = ("县", "区县", "县区", "县市区", "县(市、区)", "县(市,区)", "县级", "县名",
                  "县区名称", "区县名", "所在县", "county", "countyname", "区")


def _county_header(headers: Iterable[object], used: set[str]) -> str | None:
    wanted = [normalize_header(h) for h in COUNTY_HEADERS]
    found = {}
    for header in map(str, headers):
        if header in used:
            continue
        for key in (normalize_header(header), normalize_header(split_unit(header)[0])):
            if key in wanted:
                found.setdefault(wanted.index(key), header)
    return found[min(found)] if found else None


def prepare_admin(source: Source, **options: object) -> Prepared:
    """Canonical admin units, from a name column or from 省 / 市 / 县 columns.

    A row's name is its own (名称, ``district``, or the county column of a hierarchy),
    else its city's, else its province's; a row without a level takes the level of the
    column its name came from. A county row without a name is rejected.

    Raises
    ------
    FieldError
        When no column names the units below the city (no 名称 / ``district`` / 县
        column) while rows are counties: the message lists the columns found.
    """
    name = source.path.name
    overrides: dict[str, str] = dict(options.pop("overrides", None) or {})  # type: ignore[call-overload]
    columns = map_headers(source.frame.columns, "admin", overrides=overrides, file=name)
    notes: list[str] = []
    if "admin_name" not in columns:
        county = _county_header(source.frame.columns, set(columns.values()))
        if county is not None:
            overrides["admin_name"] = county
            chain = [h for h in (columns.get("province"), columns.get("city"), county) if h]
            notes.append(_("{name}：行政单位按 {chain} 各列的层级命名：每行取其所填的最细一级")
                         .format(name=name, chain=" / ".join(chain)))
        elif not _only_upper_levels(source, columns):
            raise FieldError(
                _("没有列给出县的名称：文件中的列：{columns}；行政区划文件需要一个名称列"
                  "（名称、县名、区县名称、district）或 省/市/县 列；请用 "
                  "--field admin_name=COLUMN 指定").format(
                    columns=_("、").join(map(str, source.frame.columns))),
                file=name,
            )
    prep = canonicalize(source, "admin", geom_kinds=("Polygon",), overrides=overrides,
                        **options)  # type: ignore[arg-type]
    prep.notes.extend(notes)
    frame = prep.frame
    own = [not is_blank(v) for v in frame["admin_name"]]
    frame["admin_level"] = [
        _LEVELS.get(normalize_header(v), v) if not is_blank(v) else
        "county" if mine or (is_blank(city) and is_blank(prov)) else
        "city" if not is_blank(city) else "province"
        for v, mine, city, prov in zip(frame["admin_level"], own, frame["city"],
                                       frame["province"], strict=True)
    ]
    frame["admin_name"] = [
        nm if mine else None if level == "county" else
        next((v for v in ((city, prov) if level == "city" else (prov,)) if not is_blank(v)),
             None)
        for nm, mine, level, city, prov in zip(frame["admin_name"], own, frame["admin_level"],
                                               frame["city"], frame["province"], strict=True)
    ]
    prep.frame = frame
    missing = frame["admin_name"].isna().to_numpy()
    reject_where(prep, missing, prep.columns.get("admin_name", "admin_name"), None,
                 _("没有名称：请填写 名称（或 县）列；市、省两级的行可以从 市 / 省 列取名称"))
    reject_duplicates(prep, "adcode")
    return prep


def _only_upper_levels(source: Source, columns: Mapping[str, str]) -> bool:
    """True when a level column says every row is a city or a province."""
    header = columns.get("admin_level")
    if header is None:
        return False
    levels = [_LEVELS.get(normalize_header(v)) for v in source.frame[header]]
    return bool(levels) and all(lv in ("city", "province") for lv in levels)
