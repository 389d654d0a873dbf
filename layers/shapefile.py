"""Shapefiles checked before GDAL reads them: a damaged one is refused, never half-read.

GDAL reads a truncated or damaged record as a NULL geometry, which would store a feature
without its shape: so the .shp, .shx and .dbf are checked against each other first
(:func:`check_shapefiles`), and every shape GDAL could not decode refuses the file after
reading (:func:`check_decoded`).
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np
import shapely

from layers.errors import DamagedFileError
from layers.i18n import _

__all__ = ["Records", "check_decoded", "check_shapefiles"]


#: Shape types of the shapefile format; 0 (Null) is a record without a shape.
_SHAPE_TYPES = {0: "Null", 1: "Point", 3: "PolyLine", 5: "Polygon", 8: "MultiPoint",
                11: "PointZ", 13: "PolyLineZ", 15: "PolygonZ", 18: "MultiPointZ", 21: "PointM",
                23: "PolyLineM", 25: "PolygonM", 28: "MultiPointM", 31: "MultiPatch"}


#: A shapefile's name as shown to the user, and the shape type of each record its .shx lists.
Records = tuple[str, np.ndarray]


def check_shapefiles(path: Path, layer: str | None) -> dict[str, Records]:
    """Check the shapefiles of ``path`` (a .shp or a .zip) about to be read, by layer name.

    Returns the name shown and the records' shape types of each shapefile, keyed by the
    .shp's stem; raises :class:`DamagedFileError` for a damaged one.

    GDAL reads a truncated or damaged record as a NULL geometry, which would store a
    feature without its shape; so the files are checked against each other first.
    """
    found: dict[str, Records] = {}
    if path.suffix.lower() == ".shp":
        parts = {p.suffix.lower(): p.read_bytes() for p in path.parent.iterdir()
                 if p.stem == path.stem and p.suffix.lower() in (".shx", ".dbf")}
        found[path.stem] = _check_shapefile(path.name, path.read_bytes(), parts)
    elif path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            for member in (n for n in names if n.lower().endswith(".shp")):
                stem = member[:-4]
                if layer in (None, Path(stem).name):
                    parts = {n[-4:].lower(): zf.read(n) for n in names if n[:-4] == stem
                             and n[-4:].lower() in (".shx", ".dbf")}
                    found[Path(stem).name] = _check_shapefile(f"{path.name}: {member}",
                                                              zf.read(member), parts)
    return found


def _check_shapefile(shown: str, shp: bytes, parts: dict[str, bytes]) -> Records:
    """Refuse a shapefile whose .shp, .shx and .dbf do not hold the same complete records."""
    side = shown[:-4]  # the sidecar files' names without extension, as shown
    for ext in (".shx", ".dbf"):
        if ext not in parts:
            raise DamagedFileError(
                _("{shown}：缺少它的 {ext}（{file}）；一个 shapefile 由多个文件组成"
                  "（.shp、.shx、.dbf，以及 .prj 和 .cpg）：请把它们一起复制").format(
                    shown=shown, ext=ext, file=f"{Path(side).name}{ext}"))
    shx, dbf = parts[".shx"], parts[".dbf"]
    if len(shx) < 100 or shx[:4] != b"\x00\x00\x27\x0a" or (len(shx) - 100) % 8:
        raise DamagedFileError(_("{side}.shx 不完整或不是 shapefile 索引（{size:,} 字节）；"
                                 "请重新复制完整的 .shx").format(side=side, size=len(shx)))
    index = np.frombuffer(shx, dtype=">i4", offset=100).reshape(-1, 2).astype("int64") * 2
    starts, lengths = index[:, 0], index[:, 1]
    n, size = len(index), len(shp)
    end = int((starts + 8 + lengths).max()) if n else 100
    declared = struct.unpack(">i", shp[24:28])[0] * 2 if size >= 100 else 100
    if size < max(end, declared, 100):
        what = (_("它的 .shx 列出 {n:,} 条记录，直到第 {end:,} 字节").format(n=n, end=end)
                if end > size else
                _("它的文件头给出的长度是 {declared:,} 字节").format(declared=declared))
        raise DamagedFileError(_("{shown} 不完整：{what}，但文件只有 {size:,} 字节；"
                                 "请重新复制完整的 .shp").format(shown=shown, what=what,
                                                                size=size))
    odd = np.flatnonzero((starts < 100) | (lengths < 4))
    if shp[:4] != b"\x00\x00\x27\x0a" or len(odd):
        raise DamagedFileError(_("{shown} 不是 shapefile，或者它的 .shx 不属于它"
                                 "（.shx 指向记录之外）；请重新复制完整的 .shp 和 .shx").format(
                                     shown=shown))
    raw = np.frombuffer(shp, dtype=np.uint8)
    types = raw[(starts + 8)[:, None] + np.arange(4)].copy().view("<i4").reshape(-1)
    unknown = np.flatnonzero(~np.isin(types, list(_SHAPE_TYPES)))
    if len(unknown):
        raise DamagedFileError(_("{shown} 已损坏：第 {record} 条记录的几何类型为 {type}，"
                                 "shapefile 中没有这种类型；请重新复制完整的 .shp").format(
                                     shown=shown, record=int(unknown[0]) + 1,
                                     type=int(types[unknown[0]])))
    n_dbf, header_len, record_len = struct.unpack("<IHH", dbf[4:12]) if len(dbf) >= 32 else (
        0, 32, 0)
    if len(dbf) < max(32, header_len + n_dbf * record_len):
        raise DamagedFileError(_("{side}.dbf 不完整：它的文件头列出 {n:,} 条记录"
                                 "（{need:,} 字节），但文件只有 {size:,} 字节；"
                                 "请重新复制完整的 .dbf").format(
                                     side=side, n=n_dbf, need=header_len + n_dbf * record_len,
                                     size=len(dbf)))
    if n_dbf != n:
        raise DamagedFileError(_("{shown}：它的 .dbf 列出 {n_dbf:,} 条记录，而 .shx 列出 {n:,} 条："
                                 "这些文件不属于同一个 shapefile，或其中一个不完整；"
                                 "请重新复制该 shapefile 的全部文件").format(
                                     shown=shown, n_dbf=n_dbf, n=n))
    return shown, types


def check_decoded(records: Records, fids: np.ndarray, geoms: np.ndarray) -> None:
    """Refuse a shapefile in which GDAL could not decode a shape (it returns NULL for it).

    Parameters
    ----------
    records : Records
        The shapefile's name as shown and its records' shape types (:func:`check_shapefiles`).
    fids : numpy.ndarray
        GDAL's feature ids (0-based record numbers) of the features read.
    geoms : numpy.ndarray
        The geometries GDAL returned for them.

    Raises
    ------
    DamagedFileError
        When a record with a shape came back without one.
    """
    shown, listed = records
    fids = fids.astype("int64")
    inside = (fids >= 0) & (fids < len(listed))
    types = np.zeros(len(fids), dtype="int64")
    types[inside] = listed[fids[inside]]
    lost = shapely.is_missing(geoms)
    lost[~lost] = shapely.is_empty(geoms[~lost])
    bad = np.flatnonzero(lost & (types != 0))
    if not len(bad):
        return
    numbers = [int(fids[i]) + 1 for i in bad]
    kinds = ", ".join(dict.fromkeys(_SHAPE_TYPES[int(types[i])] for i in bad))
    which = (_("第 {record} 条记录中的 {kinds}").format(record=numbers[0], kinds=kinds)
             if len(bad) == 1 else
             _("{n:,} 条记录（{records}）中的几何图形（{kinds}）").format(
                 n=len(bad), kinds=kinds,
                 records=", ".join(map(str, numbers[:10])) + (" ..." if len(bad) > 10 else "")))
    raise DamagedFileError(_("{shown} 已损坏：{which}无法解码；未入库任何内容：请重新复制完整的 "
                             ".shp，或在生成它的程序中修复").format(shown=shown, which=which))
