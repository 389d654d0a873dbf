"""Closed, historic and licensed mines (关闭矿山 / 历史遗留矿山 / 有效矿权).

A mine record: 许可证号 (the key; a historic mine without one takes its name), name,
mineral, mining method, status, closing year or date, responsible party, restoration mode
and progress, deposit (保证金) and land reclamation fund (土地复垦费) with the amounts used,
and the date of the last monitoring or inspection.

The record's geometry is the licence polygon (矿区范围 of the 采矿许可证). A record may
come as a point: with an area it stands for the circle of that area (an approximation,
stated wherever used, as for wetland list entries); without an area (a tracker's mine
location, such as the Global Energy Monitor's) it matches leads within a stated radius,
:data:`POINT_MINE_RADIUS_M` unless the ingest says otherwise (``--point-radius``); without
coordinates it is stored with an empty geometry and not matched to leads. Money is stored
in 元: a header unit ``(万元)`` or ``(亿元)`` is converted.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import overlay
from geo.metric import buffer_metres
from layers.aliases import normalize_header, split_unit
from layers.canonical import Prepared, reject_duplicates, reject_where
from layers.errors import FieldError, InputError
from layers.i18n import _
from layers.read import Source, is_blank
from layers.wetlands import match_geometries, match_label, prepare_listed

__all__ = [
    "CLOSED_STATUSES",
    "MINE_STATUSES",
    "MONEY_FIELDS",
    "MONEY_UNITS",
    "OUTSIDE_MARK",
    "POINT_MINE_RADIUS_M",
    "RESTORATION_MODES",
    "RESTORATION_PROGRESS",
    "TRIAGE_MARK",
    "mine_columns",
    "normalize_mine_status",
    "normalize_progress",
    "prepare_mines",
]

MINE_STATUSES = ("关闭", "历史遗留", "有效")
#: Metres around a mine given as a point without an area within which a lead matches it:
#: a mine's works (pits, dumps, roads) reach this far from the point a tracker records.
POINT_MINE_RADIUS_M = 500.0
#: Statuses of mines that are no longer mined and must be restored.
CLOSED_STATUSES = ("关闭", "历史遗留")
RESTORATION_MODES = ("自然恢复", "辅助再生", "生态重建", "转型利用")
#: Restoration progress, in the order work goes forward.
RESTORATION_PROGRESS = ("未治理", "治理中", "已治理", "验收")
MONEY_FIELDS = ("deposit_yuan", "deposit_used_yuan", "reclamation_fund_yuan",
                "reclamation_used_yuan")
#: Money units recognised in headers such as ``保证金(万元)``: factor to 元.
MONEY_UNITS: dict[str, float] = {"元": 1.0, "人民币元": 1.0, "千元": 1e3, "万元": 1e4,
                                 "亿元": 1e8, "yuan": 1.0, "cny": 1.0, "rmb": 1.0}

_STATUS = {
    "关闭": "关闭", "已关闭": "关闭", "闭坑": "关闭", "关闭矿山": "关闭", "closed": "关闭",
    "mothballed": "关闭", "历史遗留": "历史遗留", "历史遗留矿山": "历史遗留",
    "abandoned": "历史遗留", "有效": "有效", "在产": "有效", "生产": "有效", "有效期内": "有效",
    "正常": "有效", "operating": "有效", "active": "有效", "valid": "有效",
}
_PROGRESS = {
    "未治理": "未治理", "未开展": "未治理", "未修复": "未治理", "未开工": "未治理",
    "notstarted": "未治理", "none": "未治理",
    "治理中": "治理中", "修复中": "治理中", "正在治理": "治理中", "在治": "治理中",
    "施工中": "治理中", "inprogress": "治理中",
    "已治理": "已治理", "已修复": "已治理", "治理完成": "已治理", "完成治理": "已治理",
    "已完成": "已治理", "done": "已治理",
    "验收": "验收", "已验收": "验收", "通过验收": "验收", "验收通过": "验收", "accepted": "验收",
}
_MODES = {
    "自然恢复": "自然恢复", "自然修复": "自然恢复", "辅助再生": "辅助再生", "辅助修复": "辅助再生",
    "人工辅助": "辅助再生", "生态重建": "生态重建", "重建": "生态重建", "转型利用": "转型利用",
    "转型": "转型利用",
}


def normalize_mine_status(value: object) -> str | None:
    """Return 关闭, 历史遗留 or 有效 for a spelling of a mine's status, else None.

    Examples
    --------
    >>> normalize_mine_status("已关闭"), normalize_mine_status("在产"), normalize_mine_status("?")
    ('关闭', '有效', None)
    """
    return None if is_blank(value) else _STATUS.get(normalize_header(value))


def normalize_progress(value: object) -> str | None:
    """Return 未治理, 治理中, 已治理 or 验收 for a spelling of restoration progress, else None.

    Examples
    --------
    >>> normalize_progress("已验收"), normalize_progress("修复中"), normalize_progress("治理中 ")
    ('验收', '治理中', '治理中')
    """
    return None if is_blank(value) else _PROGRESS.get(normalize_header(value))


def prepare_mines(
    source: Source, *, point_radius_m: float | None = None, **options: Any
) -> Prepared:
    """Canonical mines: statuses, progress and modes normalised, money in 元.

    Ids default to names; an unknown status or progress rejects the row with the accepted
    values listed (an empty one stays empty); an unknown restoration mode is kept as
    written, with a note. A closing date fills a missing closing year. Entries without
    location are kept (see :func:`layers.wetlands.prepare_listed`). A point without an
    area gets ``match_radius_m = point_radius_m`` (default :data:`POINT_MINE_RADIUS_M`).

    Raises
    ------
    FieldError
        When a money column's header carries a unit lvdun does not know.
    InputError
        When ``point_radius_m`` is not a positive number of metres.
    """
    radius_m = POINT_MINE_RADIUS_M if point_radius_m is None else float(point_radius_m)
    if not np.isfinite(radius_m) or radius_m <= 0:
        raise InputError(_("--point-radius {radius}：请给出大于 0 的半径（米），例如 {example}")
                         .format(radius=point_radius_m, example=f"{POINT_MINE_RADIUS_M:g}"),
                         file=source.path.name)
    prep = prepare_listed(source, "mines", **options)
    name = source.path.name
    frame = prep.frame
    frame["mine_id"] = [
        i if i else n for i, n in zip(frame["mine_id"], frame["mine_name"], strict=True)
    ]
    for field in MONEY_FIELDS:
        header = prep.columns.get(field)
        if header is None:
            continue
        unit = split_unit(header)[1]
        key = (unit or "元").replace(" ", "").lower()
        if key not in MONEY_UNITS:
            raise FieldError(_("未知的金额单位 {unit!r}；可用的单位：{known}").format(
                unit=unit, known=_("、").join(MONEY_UNITS)),
                             file=name, field=header)
        if unit is None and frame[field].notna().any():
            prep.notes.append(_("{name}：{header} 的表头没有单位：按 元 读取"
                                "（如果金额以万元计，请写成 {header}(万元)）").format(
                name=name, header=header))
        frame[field] = [v * MONEY_UNITS[key] if v is not None and v == v else None
                        for v in frame[field]]
    frame["closed_year"] = [
        int(str(d)[:4]) if is_blank(y) and not is_blank(d) else (None if is_blank(y) else int(y))
        for y, d in zip(frame["closed_year"], frame["closed_date"], strict=True)
    ]
    modes = [_MODES.get(normalize_header(v), v) if not is_blank(v) else None
             for v in frame["restoration_mode"]]
    odd = sorted({str(m) for m in modes if m and m not in RESTORATION_MODES})
    if odd:
        prep.notes.append(_("{name}：修复方式 {odd} 不属于 {modes}；按原样保留").format(
            name=name, odd=_("、").join(odd), modes=_("、").join(RESTORATION_MODES)))
    frame["restoration_mode"] = modes
    raw_status = frame["mine_status"].to_numpy(dtype=object)
    status = [normalize_mine_status(v) for v in raw_status]
    raw_progress = frame["restoration_progress"].to_numpy(dtype=object)
    progress = [normalize_progress(v) for v in raw_progress]
    frame["mine_status"] = status
    frame["restoration_progress"] = progress
    prep.frame = frame
    bad = np.array([not is_blank(r) and s is None for r, s in zip(raw_status, status,
                                                                 strict=True)], dtype=bool)
    reject_where(prep, bad, prep.columns.get("mine_status", "mine_status"), raw_status[bad],
                 _("未知的矿山状态；请用其中之一：{known}").format(
                     known=_("、").join(MINE_STATUSES)))
    raw_progress = raw_progress[~bad]
    bad = np.array([not is_blank(r) and is_blank(p) for r, p in zip(
        raw_progress, prep.frame["restoration_progress"], strict=True)], dtype=bool)
    reject_where(prep, bad, prep.columns.get("restoration_progress", "restoration_progress"),
                 raw_progress[bad],
                 _("未知的治理进度；请用其中之一：{known}").format(
                     known=_("、").join(RESTORATION_PROGRESS)))
    reject_duplicates(prep, "mine_id")
    _point_radius(prep, name, radius_m)
    return prep


def _point_radius(prep: Prepared, name: str, radius_m: float) -> None:
    """Give points without an area their matching radius; note how each kind is matched."""
    frame = prep.frame
    kinds = frame["location_kind"].to_numpy()
    radius = frame["match_radius_m"].to_numpy(dtype="float64", copy=True)
    by_area = (kinds == "point") & np.isfinite(radius)
    bare = (kinds == "point") & ~np.isfinite(radius)
    radius[bare] = radius_m
    frame["match_radius_m"] = radius
    prep.frame = frame
    if by_area.any():
        prep.notes.append(
            _("{name}：{n} 个{what}条目是点：按其面积折算的圆与线索匹配"
              "（r = sqrt(面积/π)，为近似）").format(name=name, n=int(by_area.sum()),
                                                  what=_("矿山")))
    if bare.any():
        prep.notes.append(
            _("{name}：{n} 个矿山条目是没有面积的点：与距该点 {m} 米以内的线索匹配"
              "（可用 --point-radius 设置）").format(name=name, n=int(bare.sum()),
                                                  m=f"{radius_m:g}"))
    if n_none := int((kinds == "none").sum()):
        prep.notes.append(
            _("{name}：{n} 个矿山条目没有坐标：以空几何入库，不与线索匹配；"
              "填写 经度/纬度 或多边形后即可匹配").format(name=name, n=n_none))


#: Text every triage flag of a lead inside a closed or historic mine carries.
TRIAGE_MARK = "修复施工或复采，需研判"
#: Text every flag of a lead beyond a valid mine's licence polygon carries.
OUTSIDE_MARK = "疑似越界开采，需核实"


# -- classification ------------------------------------------------------------------
def mine_columns(
    geoms: np.ndarray, mines: gpd.GeoDataFrame | None, *, margin_m: float = 500.0,
    point_radius_m: float = POINT_MINE_RADIUS_M,
) -> pd.DataFrame:
    """Return the mine columns of ``lead_class`` for lead geometries (EPSG:4490).

    Columns: ``mine_ids`` and ``mine_names`` (mines whose licence polygon, or approximating
    circle for a point record with an area, the lead touches; a point record without an
    area matches leads within its ``match_radius_m``, else ``point_radius_m``),
    ``mine_flag`` (triage texts, ``; ``-joined) and ``mine_near_ids`` (valid mines whose
    licence polygon the lead lies outside of, or sticks out of, within ``margin_m``).

    Parameters
    ----------
    geoms : numpy.ndarray
        Lead geometries (shapely), EPSG:4490.
    mines : geopandas.GeoDataFrame or None
        The workspace's mines layer; None or empty gives empty columns.
    margin_m : float
        Distance within which a lead outside a valid mine's licence polygon is flagged.
    point_radius_m : float
        Matching radius of point records without an area and without a stored
        ``match_radius_m`` (mines ingested before radii were stored).
    """
    n = len(geoms)
    out = pd.DataFrame({c: [None] * n for c in ("mine_ids", "mine_names", "mine_flag",
                                                "mine_near_ids")})
    if mines is None or mines.empty:
        return out
    area = mines["area_m2"] if "area_m2" in mines else None
    shapes, kinds, radius = match_geometries(mines.geometry.values, area)
    stated = (kinds == "point") & ~np.isfinite(radius)
    if stated.any():
        given = (mines["match_radius_m"].to_numpy(dtype="float64")
                 if "match_radius_m" in mines else np.full(len(mines), np.nan))
        radius[stated] = np.where(np.isfinite(given[stated]) & (given[stated] > 0),
                                  given[stated], point_radius_m)
        points = np.asarray(mines.geometry.values, dtype=object)[stated]
        shapes[stated] = buffer_metres(points, radius[stated])
    ids = mines["mine_id"].astype(str).to_numpy()
    names = mines["mine_name"].astype(str).to_numpy()
    status = mines["mine_status"].to_numpy(dtype=object)
    usable = np.flatnonzero(np.array([s is not None for s in shapes], dtype=bool))
    left, right = overlay.intersects_pairs(geoms, shapes[usable])
    right = usable[right]
    inside: dict[int, list[int]] = defaultdict(list)
    flags: dict[int, list[str]] = defaultdict(list)
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        inside[i].append(j)
        if status[j] in CLOSED_STATUSES:
            kind = "关闭矿山" if status[j] == "关闭" else "历史遗留矿山"
            approx = "" if kinds[j] == "polygon" else \
                f"，点位{radius[j]:.0f}米范围内" if stated[j] else \
                f"，范围按面积折算（{match_label(kinds[j], radius[j])}）"
            flags[i].append(f"{kind}内（{names[j]}{approx}）：{TRIAGE_MARK}")
    valid = np.flatnonzero((status == "有效") & (kinds == "polygon"))
    near: dict[int, list[int]] = defaultdict(list)
    if len(valid):
        margins = buffer_metres(shapes[valid], margin_m)
        nl, nr = overlay.intersects_pairs(geoms, margins)
        nr = valid[nr]
        out_of = ~shapely.covered_by(geoms[nl], shapes[nr].astype(object)) if len(nl) else \
            np.zeros(0, dtype=bool)
        for i, j in zip(nl[out_of].tolist(), nr[out_of].tolist(), strict=True):
            near[i].append(j)
            flags[i].append(f"有效矿权许可范围外{margin_m:g}米内（{names[j]}）：{OUTSIDE_MARK}")
    out["mine_ids"] = [_join(ids[inside[i]]) if i in inside else None for i in range(n)]
    out["mine_names"] = [_join(names[inside[i]]) if i in inside else None for i in range(n)]
    out["mine_flag"] = [_join(flags[i]) if i in flags else None for i in range(n)]
    out["mine_near_ids"] = [_join(ids[near[i]]) if i in near else None for i in range(n)]
    return out


def _join(values: object) -> str:
    return "; ".join(dict.fromkeys(str(v) for v in values))
