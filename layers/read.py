"""Format sniffing and reading: GPKG, Shapefile (and zipped), GeoJSON, KML, CSV, XLSX.

Every reader returns a :class:`Source`: the attribute table with the file's own headers,
the row number a person would look up for each record, and geometries with their CRS when
the format carries them. Nothing is interpreted here beyond text encoding and layout:
control characters are removed from text, records that do not fit the header are marked
for rejection, and truncated or damaged files are refused whole.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from layers.aliases import COORD_ALIASES, FIELD_ALIASES, normalize_header, split_unit
from layers.errors import DamagedFileError, ReadError
from layers.i18n import _
from layers.shapefile import check_decoded, check_shapefiles
from layers.text import strip_control

__all__ = [
    "COLUMN_NAMES",
    "TABLE_SUFFIXES",
    "VECTOR_SUFFIXES",
    "RowProblem",
    "Source",
    "detect_text_encoding",
    "is_blank",
    "read_source",
]

log = logging.getLogger(__name__)

VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".kml", ".kmz", ".zip", ".fgb", ".gml")
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
_ENCODINGS = ("utf-8-sig", "gb18030")


class RowProblem(NamedTuple):
    """A record the reader could not lay out (e.g. more fields than the header): rejected."""

    row: int
    field: str
    value: object
    reason: str


@dataclass
class Source:
    """What a file holds, before any interpretation.

    Attributes
    ----------
    path
        The file read.
    frame
        Attribute columns with the file's headers, values as read (text for tables).
    rows
        For each record, the row number to quote to the user: the spreadsheet row for
        CSV/XLSX (header row included in the count), the feature number for vector files.
    geometry
        Shapely geometries for vector files, None for tables.
    crs
        The file's CRS, None when it declares none.
    layer, sheet, encoding, header_row
        What was read: the layer or sheet name, the text encoding, the header's row.
    notes
        What the reader decided and the user should know (encoding detected, rows skipped).
    problems
        Records kept in ``frame`` that must be rejected for how they were laid out, by row.
    control_chars
        Per column, how many values held control characters (removed on reading, see
        :func:`layers.text.strip_control`); :data:`COLUMN_NAMES` counts column names.
    """

    path: Path
    frame: pd.DataFrame
    rows: np.ndarray
    geometry: np.ndarray | None = None
    crs: CRS | None = None
    layer: str | None = None
    sheet: str | None = None
    encoding: str | None = None
    header_row: int | None = None
    notes: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    control_chars: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)


def read_source(
    path: str | Path,
    *,
    layer: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
) -> Source:
    """Read a file of any supported format into a :class:`Source`.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    layer : str or None
        Layer name for multi-layer vector files (GPKG, zipped shapefiles, KML).
    sheet : str or None
        Sheet name for XLSX; default the first sheet with a recognisable header.
    encoding : str or None
        Text encoding of a CSV or a shapefile's .dbf; detected when not given.

    Control characters (see :func:`layers.text.strip_control`) are removed from every text
    value and column name; how many values per column is in ``Source.control_chars`` and
    logged as a warning.

    Raises
    ------
    ReadError
        When the file is missing, empty or of an unsupported format.
    DamagedFileError
        When the file is truncated or damaged (a shapefile shorter than its index says, a
        missing .shx or .dbf, shapes that cannot be decoded, a CSV quote never closed).
    """
    path = Path(path)
    if not path.exists():
        raise ReadError(_("文件 {path} 不存在").format(path=path))
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return _without_control(_read_csv(path, encoding=encoding))
    if suffix in (".xlsx", ".xlsm"):
        return _without_control(_read_xlsx(path, sheet=sheet))
    if suffix in VECTOR_SUFFIXES:
        return _without_control(_read_vector(path, layer=layer, encoding=encoding))
    raise ReadError(_("文件 {path}：不支持的格式 {suffix!r}；lvdun 可读取 {known}").format(
        path=path, suffix=suffix, known=_("、").join(VECTOR_SUFFIXES + TABLE_SUFFIXES)))


def detect_text_encoding(data: bytes) -> str:
    """Return ``utf-8-sig`` when ``data`` decodes as UTF-8, else ``gb18030``.

    GB18030 is a superset of GBK and GB2312, so it reads the usual Chinese exports.

    Examples
    --------
    >>> detect_text_encoding("线索编号".encode("gbk"))
    'gb18030'
    >>> detect_text_encoding("线索编号".encode("utf-8"))
    'utf-8-sig'
    """
    for enc in _ENCODINGS:
        try:
            data.decode(enc)
        except UnicodeDecodeError:
            continue
        return enc
    raise ReadError(_("文本既不是 UTF-8 也不是 GB18030：请用 --encoding 指定编码"))


def _read_csv(path: Path, *, encoding: str | None) -> Source:
    data = path.read_bytes()
    if not data.strip():
        raise ReadError(_("文件 {path} 是空的").format(path=path))
    notes: list[str] = []
    enc = encoding or detect_text_encoding(data)
    if encoding is None and enc != "utf-8-sig":
        notes.append(_("{name}：检测到文本编码为 {enc}").format(name=path.name, enc=enc.upper()))
    try:
        text = data.decode(enc)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ReadError(_("文件 {path} 无法按 {enc} 解码：{error}").format(
            path=path, enc=enc, error=exc)) from exc
    del data  # a large file is held once, not as bytes, text and records at the same time
    try:
        sep = csv.Sniffer().sniff(text[:20000].split("\n", 1)[0], delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    records = _csv_records(path, text, sep)
    del text
    start = next((i for i, r in enumerate(records) if any(v.strip() for v in r)), None)
    if start is None:
        raise ReadError(_("文件 {path} 是空的").format(path=path))
    header = _unique([v.replace("\n", " ").strip() for v in records[start]])
    width = len(header)
    body: list[list[str]] = []
    rows: list[int] = []
    problems: list[RowProblem] = []
    skipped = padded = 0
    for number, record in enumerate(records[start + 1 :], start=start + 2):
        extra = record[width:]
        if not any(v.strip() for v in record):
            skipped += 1
            continue
        if any(v.strip() for v in extra):
            last = width + 1 + max(i for i, v in enumerate(extra) if v.strip())
            problems.append(RowProblem(
                number, _("第 {columns} 列（无表头）").format(
                    columns=f"{width + 1}" + (f"-{last}" if last > width + 1 else "")),
                strip_control(sep.join(extra).strip(sep))[0],
                _("该行有 {n} 个字段，但表头只有 {width} 个：多了一个分隔符 {sep!r}，"
                  "或某个值含有 {sep!r} 却没有加引号；请删除多余的分隔符，"
                  '或给该值加上双引号（"..."）').format(n=len(record), width=width, sep=sep)))
        elif extra:
            padded += 1
        body.append(record[:width] + [""] * (width - len(record)))
        rows.append(number)
    frame = pd.DataFrame(body, columns=header, dtype=object) if body else \
        pd.DataFrame(columns=header, dtype=object)
    if skipped:
        notes.append(_("{name}：跳过了 {n} 个空行（没有任何值）").format(
            name=path.name, n=skipped))
    if padded:
        notes.append(_("{name}：{n} 行在表头之外还有空字段；已忽略（其中没有内容）").format(
            name=path.name, n=padded))
    return Source(path, frame, np.asarray(rows, dtype="int64"), encoding=enc,
                  header_row=start + 1, notes=notes, problems=problems)


def _csv_records(path: Path, text: str, sep: str) -> list[list[str]]:
    """Split CSV text into records; a quoted value never closed refuses the file."""
    records: list[list[str]] = []
    try:
        records.extend(csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True))
    except csv.Error as exc:
        if "unexpected end of data" not in str(exc):  # quotes inside values: read leniently
            return list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
        raise DamagedFileError(_(
            "{name}：第 {row} 行：一个带引号的值从这里开始却没有结束，其后的每一行都会被读进去；"
            '请补上结尾的 "（值中的引号写成 ""），或重新复制完整的文件').format(
                name=path.name, row=len(records) + 1)) from None
    return records


def _unique(header: list[str]) -> list[str]:
    """Column names as pandas makes them: blanks named by position, repeats numbered."""
    out: list[str] = []
    for j, name in enumerate(header):
        name = name or f"column_{j + 1}"
        base, k = name, 0
        while name in out:
            k += 1
            name = f"{base}.{k}"
        out.append(name)
    return out


def _drop_empty(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    blank = frame.apply(lambda col: col.map(is_blank)).all(axis=1)
    return frame[~blank], int(blank.sum())


def is_blank(value: object) -> bool:
    """Return True for a cell that holds nothing: None, NaN, NaT, or only whitespace.

    Examples
    --------
    >>> [is_blank(v) for v in (None, float("nan"), "  ", "", 0, "x")]
    [True, True, True, True, False, False]
    """
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays and other containers are values
        return False


#: The key of ``Source.control_chars`` that counts column names.
COLUMN_NAMES = "(column names)"


def _without_control(source: Source) -> Source:
    """Remove control characters from every text value and column name, counting them."""
    counts: dict[str, int] = {}
    header = [strip_control(h)[0] if isinstance(h, str) else h for h in source.frame.columns]
    if renamed := sum(a != b for a, b in zip(source.frame.columns, header, strict=True)):
        counts[COLUMN_NAMES] = renamed
    frame = source.frame.set_axis(_unique([str(h) for h in header]) if renamed else header,
                                  axis=1)
    for j, name in enumerate(frame.columns):
        column = frame.iloc[:, j]
        if pd.api.types.is_object_dtype(column) or isinstance(column.dtype, pd.StringDtype):
            pairs = [strip_control(v) if isinstance(v, str) else (v, 0) for v in column]
            if dirty := sum(k > 0 for _v, k in pairs):
                frame.isetitem(j, [v for v, _k in pairs])
                counts[str(name)] = dirty
    if counts:
        what = ", ".join(f"{n} column name{'s' if n > 1 else ''}" if c == COLUMN_NAMES else
                         f"{n} value{'s' if n > 1 else ''} of {c}" for c, n in counts.items())
        log.warning("%s: control characters removed from %s (XLSX and PostgreSQL cannot hold "
                    "them; if they stood for something, fix the file and ingest it again)",
                    source.path.name, what)
        source.frame, source.control_chars = frame, counts
    return source


_KNOWN_HEADERS = {
    normalize_header(a) for aliases in (*FIELD_ALIASES.values(), *COORD_ALIASES.values())
    for a in aliases
}


def _header_score(cells: list[object]) -> int:
    return sum(
        1 for c in cells
        if c is not None and normalize_header(split_unit(c)[0]) in _KNOWN_HEADERS
    )


def _read_xlsx(path: Path, *, sheet: str | None) -> Source:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for broken files
        raise ReadError(_("文件 {path} 不是可读取的 XLSX 工作簿：{error}").format(
            path=path, error=exc)) from exc
    names = book.sheetnames
    if sheet is not None and sheet not in names:
        raise ReadError(_("文件 {path}：没有工作表 {sheet!r}；现有工作表：{sheets}").format(
            path=path, sheet=sheet, sheets=_("、").join(names)))
    best: tuple[int, str, int, list[list[object]]] | None = None
    for name in [sheet] if sheet else names:
        ws = book[name]
        grid = _sheet_values(ws)
        for i, row in enumerate(grid[:20]):
            score = _header_score(row)
            if score >= 2 and (best is None or score > best[0]):
                best = (score, name, i, grid)
        if best is not None and sheet is None:
            break
    if best is None:
        place = (_("工作表 {sheet!r}").format(sheet=sheet) if sheet else _("任何工作表"))
        raise ReadError(_(
            "文件 {path}：在{place}的前 20 行中没有找到表头行；表头至少需要两个已知的列名"
            "（例如 线索编号、经度、纬度）；请用 --sheet 指定工作表").format(
                path=path, place=place))
    _score, name, header_idx, grid = best
    header = [
        str(c).replace("\n", " ").strip() if c is not None else f"column_{j + 1}"
        for j, c in enumerate(grid[header_idx])
    ]
    body = grid[header_idx + 1 :]
    frame = pd.DataFrame(
        [[_cell_text(v) for v in r[: len(header)]] for r in body], columns=header, dtype=object
    )
    frame.index = np.arange(len(frame)) + header_idx + 2  # 1-based spreadsheet rows
    frame, skipped = _drop_empty(frame)
    notes = [_("{name}：工作表 {sheet!r}，表头在第 {row} 行").format(
        name=path.name, sheet=name, row=header_idx + 1)]
    if skipped:
        notes.append(_("{name}：跳过了 {n} 个空行（没有任何值）").format(
            name=path.name, n=skipped))
    rows = frame.index.to_numpy()
    return Source(path, frame.reset_index(drop=True), rows, sheet=name,
                  header_row=header_idx + 1, notes=notes)


def _sheet_values(ws: object) -> list[list[object]]:
    """Return the sheet's values with merged ranges filled from their top-left cell."""
    grid = [list(r) for r in ws.iter_rows(values_only=True)]  # type: ignore[attr-defined]
    for rng in ws.merged_cells.ranges:  # type: ignore[attr-defined]
        value = grid[rng.min_row - 1][rng.min_col - 1] if rng.min_row - 1 < len(grid) else None
        for r in range(rng.min_row - 1, min(rng.max_row, len(grid))):
            for c in range(rng.min_col - 1, rng.max_col):
                if c < len(grid[r]):
                    grid[r][c] = value
    return grid


def _cell_text(value: object) -> object:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else (
            value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return ""
    return value


def _read_vector(path: Path, *, layer: str | None, encoding: str | None) -> Source:
    notes: list[str] = []
    target = str(path)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        target = f"/vsizip/{path}"
        with zipfile.ZipFile(path) as zf:
            shps = [n for n in zf.namelist() if n.lower().endswith(".shp")]
        if len(shps) == 1 and layer is None:
            target = f"/vsizip/{path}/{shps[0]}"
    shapes = check_shapefiles(path, layer)  # before GDAL, which reads damage as NULLs
    try:
        layers = pyogrio.list_layers(target)
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise ReadError(_("文件 {path} 无法作为矢量文件打开：{error}").format(
            path=path, error=exc)) from exc
    names = [str(n) for n in layers[:, 0]]
    if layer is not None and layer not in names:
        raise ReadError(_("文件 {path}：没有图层 {layer!r}；现有图层：{layers}").format(
            path=path, layer=layer, layers=_("、").join(names)))
    if suffix in (".kml", ".kmz") and layer is None and len(names) > 1:
        return _read_kml_folders(path, target, names)
    if layer is None and len(names) > 1:
        non_empty = [n for n in names if pyogrio.read_info(target, layer=n)["features"]]
        if len(non_empty) > 1:
            raise ReadError(_("文件 {path} 含有多个图层（{layers}）：请用 --layer 选择一个").format(
                path=path, layers=_("、").join(non_empty)))
        layer = non_empty[0] if non_empty else names[0]
    enc = encoding
    if encoding is None:
        dbf = _dbf_without_cpg(path, layer)
        if dbf is not None:
            enc = detect_text_encoding(dbf[32:])
            enc = "UTF-8" if enc == "utf-8-sig" else "GB18030"
            notes.append(_("{name}：没有 .cpg；检测到 .dbf 的文本编码为 {enc}").format(
                name=path.name, enc=enc))
    record_types = shapes.get(layer) if layer is not None else (
        next(iter(shapes.values())) if len(shapes) == 1 else None)
    try:
        frame = pyogrio.read_dataframe(target, layer=layer, encoding=enc,
                                       fid_as_index=record_types is not None)
    except Exception as exc:
        raise ReadError(_("文件 {path} 无法读取：{error}").format(path=path, error=exc)) from exc
    if record_types is not None:
        check_decoded(record_types, frame.index.to_numpy(),
                       np.asarray(frame.geometry.values, dtype=object))
    _refuse_mojibake(path, [str(c) for c in frame.columns], enc)
    if suffix in (".kml", ".kmz"):
        frame = _drop_kml_styling(frame)
    geoms = np.asarray(shapely.force_2d(np.asarray(frame.geometry.values, dtype=object)),
                       dtype=object)
    crs = frame.crs
    attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    rows = np.arange(len(attrs)) + 1
    return Source(path, attrs.reset_index(drop=True), rows, geometry=geoms,
                  crs=CRS.from_user_input(crs) if crs is not None else None,
                  layer=layer, encoding=enc, notes=notes)


#: Presentation fields the KML drivers add to every placemark.
_KML_STYLING = ("id", "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude",
                "visibility", "drawOrder", "icon", "snippet")


def looks_like_mojibake(text: str) -> bool:
    """Return True when ``text`` is Chinese (GBK) bytes decoded as Latin-1 or similar.

    Examples
    --------
    >>> looks_like_mojibake("线索编号".encode("gbk").decode("latin-1"))
    True
    >>> looks_like_mojibake("Mine Name"), looks_like_mojibake("线索编号")
    (False, False)
    """
    high = [ch for ch in text if "\u00a0" <= ch <= "\u00ff"]
    if len(high) < 2:
        return False
    try:
        text.encode("latin-1").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    return True


def _refuse_mojibake(path: Path, headers: list[str], encoding: str | None) -> None:
    bad = [h for h in headers if looks_like_mojibake(h)]
    if bad:
        raise ReadError(_(
            "文件 {path}：列名看起来是乱码（{names}）：文本不是 {encoding}；"
            "请用 --encoding GBK").format(path=path, names=_("、").join(bad[:3]),
                                       encoding=encoding or _("文件声明的编码")))


def _dbf_without_cpg(path: Path, layer: str | None) -> bytes | None:
    """Return the bytes of a shapefile's .dbf when no .cpg names its encoding."""
    suffix = path.suffix.lower()
    if suffix == ".shp":
        dbf, cpg = path.with_suffix(".dbf"), path.with_suffix(".cpg")
        return dbf.read_bytes() if dbf.exists() and not cpg.exists() else None
    if suffix != ".zip":
        return None
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        shps = [n for n in names if n.lower().endswith(".shp")
                and (layer is None or Path(n).stem == layer)]
        if len(shps) != 1:
            return None
        stem = shps[0][:-4]
        dbf = next((n for n in names if n.lower() == f"{stem}.dbf".lower()), None)
        cpg = next((n for n in names if n.lower() == f"{stem}.cpg".lower()), None)
        return zf.read(dbf) if dbf and not cpg else None


def _drop_kml_styling(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop KML styling columns that hold nothing (field apps leave them empty)."""
    drop = [c for c in _KML_STYLING if c in frame.columns
            and frame[c].map(lambda v: is_blank(v) or v in (-1, 0)).all()]
    return frame.drop(columns=drop)


def _read_kml_folders(path: Path, target: str, names: list[str]) -> Source:
    """Read every folder of a KML/KMZ (as field apps export them) into one table."""
    parts = []
    for name in names:
        part = pyogrio.read_dataframe(target, layer=name)
        part.insert(0, "图层", name)
        parts.append(_drop_kml_styling(part))
    frame = pd.concat(parts, ignore_index=True)
    geoms = np.asarray(shapely.force_2d(np.asarray(frame.geometry.values, dtype=object)),
                       dtype=object)
    crs = parts[0].crs
    attrs = pd.DataFrame(frame.drop(columns="geometry"))
    rows = np.arange(len(attrs)) + 1
    notes = [_("{name}：一并读取了 {n} 个文件夹（{folders}）").format(
        name=path.name, n=len(names), folders=_("、").join(names))]
    return Source(path, attrs, rows, geometry=geoms,
                  crs=CRS.from_user_input(crs) if crs is not None else None,
                  layer=None, notes=notes)
