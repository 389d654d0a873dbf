"""Human-activity leads (问题线索 / 遥感监测点位 / 图斑): points or patch polygons."""

from __future__ import annotations

import numpy as np
import shapely

from geo.crs import CGCS2000, CHINA_ALBERS
from geo.overlay import project
from layers.canonical import Prepared, canonicalize, reject_where
from layers.read import Source

__all__ = ["prepare_leads"]


def prepare_leads(source: Source, *, batch: str | None = None, **options: object) -> Prepared:
    """Canonical leads: batch from the file or ``--batch``, unique ids, patch areas in m².

    A row without a batch when no ``--batch`` is given, and every repeat of a lead id
    already seen earlier in the same file, are rejected with their row numbers.
    """
    prep = canonicalize(source, "leads", geom_kinds=("Point", "Polygon"), **options)  # type: ignore[arg-type]
    frame = prep.frame
    if batch is not None:
        frame["batch"] = [b if b else batch for b in frame["batch"]]
    prep.frame = frame
    no_batch = frame["batch"].isna().to_numpy() | (frame["batch"] == "").to_numpy()
    reject_where(prep, no_batch, prep.columns.get("batch", "batch"), None,
                 "no monitoring batch: fill the 批次 column or pass --batch NAME")
    frame = prep.frame
    dup = frame["lead_id"].duplicated(keep="first").to_numpy()
    if dup.any():
        first_row = frame.drop_duplicates("lead_id").set_index("lead_id")["src_row"]
        ids = frame["lead_id"].to_numpy()[dup]
        reasons = [f"duplicate lead id: first seen in row {int(first_row[i])}" for i in ids]
        reject_where(prep, dup, prep.columns.get("lead_id", "lead_id"), ids, reasons)
    frame = prep.frame
    geoms = np.asarray(frame.geometry.values, dtype=object)
    patch = shapely.get_dimensions(geoms) == 2
    if patch.any():
        area = shapely.area(project(geoms[patch], CGCS2000, CHINA_ALBERS))
        current = frame["area_m2"].to_numpy(dtype=object, copy=True)
        current[np.flatnonzero(patch)] = [
            a if c is None or (isinstance(c, float) and np.isnan(c)) else c
            for a, c in zip(area, current[patch], strict=True)
        ]
        frame["area_m2"] = current
    prep.frame = frame
    return prep
