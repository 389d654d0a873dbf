"""Wetland lists (湿地名录): 国家重要湿地, 省级重要湿地, 一般湿地, as polygons, points or words.

A list arrives as polygons, or as a table whose entries give their extent as a centre
coordinate (经度/纬度 columns, or one cell such as ``124.30, 45.25`` under 中心坐标 or 范围)
or only in words (范围: ``查干湖水域及周边沼泽``). Every entry is stored, none is dropped:

- ``polygon``: matched to leads by its shape;
- ``point`` with an area: matched by the circle of the same area around the point, radius
  ``r = sqrt(area / pi)``; an approximation, and every output that uses it says so;
- ``point`` without an area, and ``none`` (words only, stored with an empty geometry): kept
  in the list, not matched to leads; the ingest notes how many and why.

The same approximate extents serve mine records that come as points (:mod:`layers.mines`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.coords import parse_coordinates
from geo.crs import CGCS2000, CHINA_ALBERS
from geo.metric import buffer_metres
from geo.overlay import project
from layers.aliases import map_headers, normalize_header
from layers.canonical import Prepared, canonicalize, reject_duplicates
from layers.i18n import _
from layers.read import Source, is_blank

__all__ = [
    "LOCATION_KINDS",
    "WETLAND_LEVELS",
    "WETLAND_LEVEL_RANK",
    "describe_locations",
    "match_geometries",
    "match_label",
    "prepare_listed",
    "prepare_wetlands",
    "radius_from_area",
]

WETLAND_LEVELS = ("国家重要湿地", "省级重要湿地", "一般湿地")
#: Importance order of the three list levels (unknown spellings rank 0).
WETLAND_LEVEL_RANK: dict[str, int] = {"国家重要湿地": 3, "省级重要湿地": 2, "一般湿地": 1}
#: How an entry's extent is known: its own polygon, a centre point, or not at all.
LOCATION_KINDS = ("polygon", "point", "none")

_LEVELS = {
    "国家重要湿地": "国家重要湿地", "国家重要": "国家重要湿地", "国家级": "国家重要湿地",
    "国际重要湿地": "国家重要湿地", "省级重要湿地": "省级重要湿地", "省级重要": "省级重要湿地",
    "省级": "省级重要湿地", "省重要湿地": "省级重要湿地", "一般湿地": "一般湿地",
    "一般": "一般湿地",
}
#: A stand-in location for entries without one while their attributes are canonicalised.
_PLACEHOLDER = shapely.Point(116.39, 39.91)
_PAIR_SEP = re.compile(r"[,，;；、/]+")
_HEMI_SPACE = re.compile(r"([东西南北经纬EWNSewns])\s+")


def radius_from_area(area_m2: object) -> np.ndarray:
    """Return the radius in metres of the circle with area ``area_m2`` (NaN where none).

    Examples
    --------
    >>> radius_from_area([3.14159265e6, None, -1.0]).round(1).tolist()
    [1000.0, nan, nan]
    """
    area = pd.to_numeric(pd.Series(np.atleast_1d(np.asarray(area_m2, dtype=object))),
                         errors="coerce").to_numpy(dtype="float64")
    out = np.full(area.shape, np.nan)
    ok = np.isfinite(area) & (area > 0)
    out[ok] = np.sqrt(area[ok] / np.pi)
    return out


def match_geometries(
    geoms: object, area_m2: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the shapes list entries are matched by, their kind and approximation radius.

    Parameters
    ----------
    geoms
        Entry geometries in EPSG:4490: polygons, points, or missing/empty.
    area_m2
        The entries' areas; a point with an area stands for the circle of that area.

    Returns
    -------
    shapes : numpy.ndarray
        Polygons to match leads against (EPSG:4490); None where an entry cannot be matched.
    kinds : numpy.ndarray
        ``polygon``, ``point`` or ``none`` per entry.
    radius : numpy.ndarray
        Radius in metres of the approximating circle of points with an area, else NaN.
    """
    arr = np.asarray(getattr(geoms, "values", geoms), dtype=object).reshape(-1)
    missing = shapely.is_missing(arr)
    present = ~missing
    present[present] = ~shapely.is_empty(arr[present])
    dims = np.full(len(arr), -1)
    dims[present] = shapely.get_dimensions(arr[present])
    kinds = np.where(dims == 2, "polygon", np.where(dims >= 0, "point", "none")).astype(object)
    radius = np.where(kinds == "point", radius_from_area(area_m2), np.nan)
    shapes = np.full(len(arr), None, dtype=object)
    shapes[kinds == "polygon"] = arr[kinds == "polygon"]
    circles = np.isfinite(radius)
    if circles.any():
        shapes[circles] = buffer_metres(arr[circles], radius[circles])
    return shapes, kinds, radius


def match_label(kind: str, radius_m: float | None) -> str | None:
    """Return how an entry was matched, as every output states it.

    Examples
    --------
    >>> match_label("polygon", None), match_label("point", 797.9)
    ('polygon', 'radius≈798 m (approximation)')
    """
    if kind == "polygon":
        return "polygon"
    if kind == "point" and radius_m is not None and np.isfinite(radius_m):
        return f"radius≈{radius_m:.0f} m (approximation)"
    return None


def prepare_wetlands(source: Source, **options: Any) -> Prepared:
    """Canonical wetlands: every list entry stored, with how its extent is known.

    Ids default to names; levels are normalised to the list's three (other spellings are
    kept as written, with a note); polygons without an area get their equal-area (China
    Albers) area. ``location_kind`` is ``polygon``, ``point`` or ``none`` and
    ``match_radius_m`` the radius of the circle a point with an area stands for.
    """
    prep = prepare_listed(source, "wetlands", **options)
    frame = prep.frame
    frame["wetland_id"] = [
        i if i else n for i, n in zip(frame["wetland_id"], frame["wetland_name"], strict=True)
    ]
    levels = [_LEVELS.get(normalize_header(v), v) if v else None for v in frame["wetland_level"]]
    odd = sorted({str(v) for v in levels if v and v not in WETLAND_LEVELS})
    if odd:
        prep.notes.append(_("{name}：湿地级别 {odd} 不属于 {levels}；按原样保留").format(
            name=source.path.name, odd=_("、").join(odd), levels=_("、").join(WETLAND_LEVELS)))
    frame["wetland_level"] = levels
    prep.frame = frame
    reject_duplicates(prep, "wetland_id")
    describe_locations(prep, source.path.name, _("湿地"))
    return prep


def prepare_listed(
    source: Source,
    layer: str,
    *,
    overrides: Mapping[str, str] | None = None,
    crs: object = None,
    coords: str | None = None,
    hint_lon: float | None = None,
) -> Prepared:
    """Canonicalise a list whose entries may come without any location.

    Entries with a polygon or a point go through :func:`layers.canonical.canonicalize`;
    those without (no geometry in a vector file, empty coordinate cells, or a table with
    no coordinate columns at all) keep their attributes with an empty geometry. A single
    coordinate cell (``centre`` field, or ``extent_text`` holding ``124.3, 45.2``) fills
    empty or missing longitude/latitude columns. Adds ``location_kind``, ``match_radius_m``
    and, for polygons without one, ``area_m2``.

    Parameters
    ----------
    source : Source
        What :func:`layers.read.read_source` returned.
    layer : str
        One of ``layers.schema.LAYERS`` (wetlands, mines).
    overrides : mapping of str to str, optional
        ``--field CANON=COLUMN`` mappings.
    crs : str, int, pyproj.CRS or None
        The input CRS when the file has none or has a wrong one (``--crs``).
    coords : str, optional
        ``wgs84``, ``cgcs2000``, ``gcj02`` or ``bd09`` for lon/lat inputs (``--coords``).
    hint_lon : float, optional
        Centre longitude of the workspace, to pick a Gauss-Krüger zone when eastings carry
        no zone number.
    """
    name = source.path.name
    columns = map_headers(source.frame.columns, layer, overrides=overrides, file=name)
    source, overrides, notes = _coordinates_from_cells(source, columns, overrides)
    located = _located(source, overrides, layer)
    options: dict[str, Any] = {"overrides": overrides, "crs": crs, "coords": coords,
                               "hint_lon": hint_lon}
    parts: list[Prepared] = []
    if located.any():
        parts.append(canonicalize(_subset(source, located), layer,
                                  geom_kinds=("Polygon", "Point"), **options))
    if (~located).any():
        unlocated = _subset(source, ~located)
        stand_in = dataclasses.replace(
            unlocated, geometry=np.full(len(unlocated), _PLACEHOLDER, dtype=object),
            crs=CGCS2000)
        keep = {k: v for k, v in (overrides or {}).items() if k not in ("x", "y")}
        part = canonicalize(stand_in, layer, overrides=keep, geom_kinds=("Point",))
        part.frame = part.frame.set_geometry(
            gpd.GeoSeries([None] * len(part.frame), crs=CGCS2000, index=part.frame.index))
        parts.append(part)
    prep = _combine(parts, source, columns, notes, layer, has_located=bool(located.any()))
    frame = prep.frame
    shapes_kind = match_geometries(frame.geometry.values, frame["area_m2"])
    frame["location_kind"] = shapes_kind[1]
    geoms = np.asarray(frame.geometry.values, dtype=object)
    polygon = frame["location_kind"].to_numpy() == "polygon"
    no_area = frame["area_m2"].isna().to_numpy()
    if (polygon & no_area).any():
        fill = polygon & no_area
        area = frame["area_m2"].to_numpy(dtype=object, copy=True)
        area[fill] = shapely.area(project(geoms[fill], CGCS2000, CHINA_ALBERS))
        frame["area_m2"] = area
    frame["match_radius_m"] = np.round(radius_from_area(frame["area_m2"]), 1)
    frame.loc[frame["location_kind"] != "point", "match_radius_m"] = np.nan
    prep.frame = frame.drop(columns=[c for c in ("centre",) if c in frame.columns])
    return prep


def _pair(value: object) -> tuple[float, float] | None:
    """Read one cell holding ``lon, lat`` (decimal or DMS, optional 东经/北纬, E/N)."""
    if is_blank(value) or not isinstance(value, str):
        return None
    text = _HEMI_SPACE.sub(r"\1", value.strip())
    for parts in (_PAIR_SEP.split(text), text.split()):
        parts = [p for p in parts if p.strip()]
        if len(parts) != 2:
            continue
        xs, okx = parse_coordinates([parts[0]], axis="x")
        ys, oky = parse_coordinates([parts[1]], axis="y")
        if okx[0] and oky[0] and 73 <= xs[0] <= 136 and 3 <= ys[0] <= 54:
            return float(xs[0]), float(ys[0])
    return None


def _coordinates_from_cells(
    source: Source, columns: Mapping[str, str], overrides: Mapping[str, str] | None
) -> tuple[Source, dict[str, str], list[str]]:
    """Fill empty or missing lon/lat columns from a single ``lon, lat`` cell."""
    overrides = dict(overrides or {})
    if source.geometry is not None:
        return source, overrides, []
    cells = [columns[f] for f in ("centre", "extent_text") if f in columns]
    if not cells:
        return source, overrides, []
    pairs: list[tuple[float, float] | None] = [None] * len(source)
    for header in cells:
        for i, value in enumerate(source.frame[header].to_numpy(dtype=object)):
            if pairs[i] is None:
                pairs[i] = _pair(value)
    found = np.array([p is not None for p in pairs], dtype=bool)
    if not found.any():
        return source, overrides, []
    frame = source.frame.copy()
    heads = {}
    for axis, default in (("x", "中心经度"), ("y", "中心纬度")):
        header = columns.get(axis)
        if header is None:
            header = default if default not in frame.columns else f"{default}(解析)"
            frame[header] = None
        values = frame[header].to_numpy(dtype=object, copy=True)
        k = 0 if axis == "x" else 1
        for i in np.flatnonzero(found):
            if is_blank(values[i]):
                values[i] = pairs[i][k]  # type: ignore[index]
        frame[header] = values
        heads[axis] = header
    overrides.update(heads)
    note = _("{name}：从 {cells} 单元格读取了 {n} 个中心坐标").format(
        name=source.path.name, n=int(found.sum()), cells=" / ".join(cells))
    return dataclasses.replace(source, frame=frame), overrides, [note]


def _located(source: Source, overrides: Mapping[str, str], layer: str) -> np.ndarray:
    """Rows that carry a location: a geometry, or at least one coordinate cell."""
    n = len(source)
    if source.geometry is not None:
        geoms = np.asarray(source.geometry, dtype=object)
        present = ~shapely.is_missing(geoms)
        present[present] = ~shapely.is_empty(geoms[present])
        return present
    columns = map_headers(source.frame.columns, layer, overrides=overrides,
                          file=source.path.name)
    if "x" not in columns or "y" not in columns:
        return np.zeros(n, dtype=bool)
    xs = source.frame[columns["x"]].to_numpy(dtype=object)
    ys = source.frame[columns["y"]].to_numpy(dtype=object)
    return np.array([not (is_blank(x) and is_blank(y)) for x, y in zip(xs, ys, strict=True)],
                    dtype=bool)


def _subset(source: Source, mask: np.ndarray) -> Source:
    geometry = None if source.geometry is None else np.asarray(source.geometry,
                                                               dtype=object)[mask]
    return dataclasses.replace(
        source, frame=source.frame[mask].reset_index(drop=True), rows=source.rows[mask],
        geometry=geometry, notes=list(source.notes))


def _combine(parts: list[Prepared], source: Source, columns: dict[str, str],
             notes: list[str], layer: str, *, has_located: bool) -> Prepared:
    """One Prepared from the located and unlocated parts, rows in file order."""
    if not parts:  # an empty file
        parts = [canonicalize(dataclasses.replace(
            source, geometry=np.empty(0, dtype=object), crs=CGCS2000), layer)]
    frames = [p.frame for p in parts if len(p.frame)]
    frame = pd.concat(frames, ignore_index=True) if frames else parts[0].frame
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=CGCS2000)
    frame = frame.sort_values("src_row", kind="stable").reset_index(drop=True)
    rejects = sorted((r for p in parts for r in p.rejects), key=lambda r: (r.row, r.field))
    seen: list[str] = []
    for note in [*source.notes, *notes, *(n for p in parts for n in p.notes)]:
        if note not in seen:
            seen.append(note)
    crs = dict(parts[0].crs) if has_located else {
        "from": "none: entries without location", "stored_crs": "EPSG:4490"}
    if len(parts) == 2:
        crs["entries_without_location"] = "stored with an empty geometry"
    warnings = sorted((w for p in parts for w in p.warnings), key=lambda w: (w.row, w.field))
    return Prepared(frame=frame, rejects=rejects, read=len(source), notes=seen, crs=crs,
                    columns={**columns, **parts[0].columns}, warnings=warnings,
                    control_chars=dict(source.control_chars))


def describe_locations(prep: Prepared, name: str, what: str) -> None:
    """Add notes on entries matched by an approximate circle, or not matched at all.

    Parameters
    ----------
    prep : Prepared
        The prepared list (from :func:`prepare_listed`); the notes are added to ``prep.notes``.
    name : str
        File name the notes start with.
    what : str
        What the entries are (``_("湿地")``), for the notes.
    """
    kinds = prep.frame["location_kind"].to_numpy()
    radius = prep.frame["match_radius_m"].to_numpy(dtype="float64")
    point = kinds == "point"
    n_circle = int((point & np.isfinite(radius)).sum())
    n_bare = int((point & ~np.isfinite(radius)).sum())
    n_none = int((kinds == "none").sum())
    if n_circle:
        prep.notes.append(
            _("{name}：{n} 个{what}条目是点：按其面积折算的圆与线索匹配"
              "（r = sqrt(面积/π)，为近似）").format(name=name, n=n_circle, what=what))
    if n_bare:
        prep.notes.append(
            _("{name}：{n} 个{what}条目是没有面积的点：已入库，不与线索匹配；"
              "填写 面积 后即可匹配").format(name=name, n=n_bare, what=what))
    if n_none:
        prep.notes.append(
            _("{name}：{n} 个{what}条目没有坐标（范围 只有文字描述）：以空几何入库，"
              "不与线索匹配；填写 中心坐标 或多边形后即可匹配").format(
                name=name, n=n_none, what=what))
