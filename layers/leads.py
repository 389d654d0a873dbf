"""Human-activity leads (问题线索 / 遥感监测点位 / 图斑): points or patch polygons."""

from __future__ import annotations

import hashlib

import numpy as np
import shapely

from geo.crs import CGCS2000, CHINA_ALBERS
from geo.overlay import project
from layers.canonical import Prepared, canonicalize, reject_duplicates, reject_where
from layers.errors import FieldError
from layers.i18n import _
from layers.read import Source

__all__ = ["prepare_leads"]


def prepare_leads(source: Source, *, batch: str | None = None, **options: object) -> Prepared:
    """Canonical leads: batch from the file or ``--batch``, unique ids, patch areas in m².

    A file without a 批次 column (or with it empty throughout) and no ``--batch`` is
    refused up front, since every row would be rejected. A row without a batch when no
    ``--batch`` is given, and every repeat of a lead id already seen earlier in the same
    file, are rejected with their row numbers. A point
    needs a lead id; a patch without one gets an id derived from its batch and footprint
    (``id_source = generated``), so that the ingest can link it to an earlier detection
    of the same place.
    """
    prep = canonicalize(source, "leads", geom_kinds=("Point", "Polygon"), **options)  # type: ignore[arg-type]
    frame = prep.frame
    points = shapely.get_dimensions(np.asarray(frame.geometry.values, dtype=object)) == 0
    if "lead_id" not in prep.columns and (points.any() or not len(frame)):
        raise FieldError(
            _("缺少必需的列 lead_id；文件中的列：{columns}；请用 --field lead_id=COLUMN "
              "指定对应的列（只有图斑可以没有编号）").format(
                columns=_("、").join(map(str, source.frame.columns))),
            file=source.path.name,
        )
    _refuse_without_batch(prep, source, batch)
    frame["id_source"] = "file"
    if batch is not None:
        frame["batch"] = [b if b else batch for b in frame["batch"]]
    prep.frame = frame
    no_batch = frame["batch"].isna().to_numpy() | (frame["batch"] == "").to_numpy()
    reject_where(prep, no_batch, prep.columns.get("batch", "batch"), None,
                 _("没有监测批次：请填写 批次 列，或用 --batch NAME 指定"))
    frame = prep.frame
    no_id = frame["lead_id"].isna().to_numpy()
    points = shapely.get_dimensions(np.asarray(frame.geometry.values, dtype=object)) == 0
    reject_where(prep, no_id & points, prep.columns.get("lead_id", "lead_id"), None,
                 _("点状线索需要线索编号：请填写"))
    frame = prep.frame
    for i in np.flatnonzero(frame["lead_id"].isna().to_numpy()):
        digest = hashlib.sha1(shapely.to_wkb(frame.geometry.iloc[i], hex=False)).hexdigest()
        frame.loc[i, "lead_id"] = f"AUTO-{frame['batch'].iloc[i]}-{digest[:10]}"
        frame.loc[i, "id_source"] = "generated"
    prep.frame = frame
    reject_duplicates(prep, "lead_id")
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


def _refuse_without_batch(prep: Prepared, source: Source, batch: str | None) -> None:
    """Refuse a file whose every row would lack a batch: a missing option, not bad rows."""
    if batch is not None or not len(prep.frame):
        return
    header = prep.columns.get("batch")
    if header is None:
        raise FieldError(
            _("没有 批次 列，也没有给出 --batch：每一行都会被拒收；请用 --batch NAME"
              "（例如 --batch 2024-H1），或用 --field batch=COLUMN 指定对应的列"
              "（文件中的列：{columns}）").format(
                columns=_("、").join(map(str, source.frame.columns))),
            file=source.path.name,
        )
    if all(b is None or b == "" for b in prep.frame["batch"]):
        raise FieldError(
            _("{header}（批次）列每一行都是空的，也没有给出 --batch：每一行都会被拒收；"
              "请用 --batch NAME（例如 --batch 2024-H1）").format(header=header),
            file=source.path.name, field=header,
        )
