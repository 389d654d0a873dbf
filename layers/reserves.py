"""Protected-area boundaries: one polygon per (reserve, functional zone)."""

from __future__ import annotations

import numpy as np
import shapely

from geo.crs import CGCS2000, CHINA_ALBERS
from geo.overlay import project
from layers.aliases import normalize_level, normalize_zone
from layers.canonical import Prepared, canonicalize, reject_where
from layers.i18n import _
from layers.read import Source
from layers.schema import LEVEL_LABELS, ZONE_LABELS, Zone

__all__ = ["prepare_reserves"]


def prepare_reserves(source: Source, **options: object) -> Prepared:
    """Canonical reserve zones: codes, names, levels and zones normalised, areas in m².

    A missing code takes the reserve's name; a missing zone means an outline without
    zones (``unzoned``); unknown spellings of zone or level reject the row with the
    accepted values listed.
    """
    prep = canonicalize(source, "reserves", geom_kinds=("Polygon",), **options)  # type: ignore[arg-type]
    frame = prep.frame
    zone_header = prep.columns.get("zone", "zone")
    zones = [normalize_zone(z) for z in frame["zone"]]
    bad_zone = np.array([z is None or z == Zone.OUTSIDE for z in zones], dtype=bool)
    frame["zone"] = [z.value if z is not None else None for z in zones]
    level_header = prep.columns.get("level", "level")
    levels = [normalize_level(v) if v else None for v in frame["level"]]
    bad_level = np.array(
        [bool(raw) and lvl is None for raw, lvl in zip(frame["level"], levels, strict=True)]
    )
    frame["level"] = [lvl.value if lvl is not None else None for lvl in levels]
    raw_zone = source.frame[zone_header].to_numpy(dtype=object) if zone_header in source.frame \
        else None
    prep.frame = frame
    if bad_zone.any():
        values = _raw_values(source, prep, zone_header, bad_zone, raw_zone)
        reject_where(
            prep, bad_zone, zone_header, values,
            _("未知的功能分区；请用其中之一：{zones}").format(
                zones=_("、").join(ZONE_LABELS[z] for z in Zone if z != Zone.OUTSIDE)),
        )
        bad_level = bad_level[~bad_zone]
    if bad_level.any():
        reject_where(prep, bad_level, level_header, None,
                     _("未知的级别；请用其中之一：{levels}").format(
                         levels=_("、").join(LEVEL_LABELS.values())))
    frame = prep.frame
    frame["reserve_code"] = [
        code if code else name
        for code, name in zip(frame["reserve_code"], frame["reserve_name"], strict=True)
    ]
    geoms = np.asarray(frame.geometry.values, dtype=object)
    frame["area_m2"] = shapely.area(project(geoms, CGCS2000, CHINA_ALBERS))
    prep.frame = frame
    return prep


def _raw_values(
    source: Source, prep: Prepared, header: str, mask: np.ndarray, raw: np.ndarray | None
) -> list[object]:
    if raw is None:
        return [None] * int(mask.sum())
    by_row = dict(zip(source.rows.tolist(), raw.tolist(), strict=True))
    return [by_row.get(int(r)) for r in prep.frame["src_row"].to_numpy()[mask]]
