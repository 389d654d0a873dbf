"""Class masks to polygons, block by block.

Masks are read window by window, so a raster larger than memory is fine. Polygons are
built in the global pixel grid (integer coordinates, so unions are exact), pieces of one
class that touch across window seams are merged, and only then are the polygons moved to
the raster's CRS with its affine transform.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import rasterio
import shapely
from affine import Affine
from pyproj import CRS
from rasterio import features
from rasterio.windows import Window
from shapely.geometry import shape

from geo.errors import RasterError

__all__ = ["Vectorized", "iter_windows", "merge_touching", "vectorize"]

log = logging.getLogger(__name__)

#: Progress callback: ``(windows done, windows in all)``.
Progress = Callable[[int, int], None]


# -- vectorising --------------------------------------------------------------------------
@dataclass(frozen=True)
class Vectorized:
    """Polygons of a class raster, one per connected region of one value.

    Attributes
    ----------
    geoms
        Polygons (MultiPolygons only with 8-connectivity) in ``crs``, ordered top to
        bottom, then left to right by their first pixel row and column; vertices only at
        corners and rings normalised, so the same raster gives the same coordinates
        whatever the window size.
    values
        The raster value of each polygon (int64, never 0).
    pixels
        Number of pixels in each polygon (int64).
    crs
        The raster's CRS (None when the raster declares none).
    pixel_area
        Area of one pixel in the units of ``crs`` squared.
    windows
        Number of windows read.
    """

    geoms: np.ndarray
    values: np.ndarray
    pixels: np.ndarray
    crs: CRS | None
    pixel_area: float
    windows: int

    def __len__(self) -> int:
        return len(self.geoms)


def iter_windows(height: int, width: int, size: int) -> Iterator[list[Window]]:
    """Yield rows of square windows of ``size`` pixels covering a ``height x width`` grid.

    Parameters
    ----------
    height, width : int
        Size of the grid, in pixels.
    size : int
        Side of the windows, in pixels; those on the last row and column are cut to the grid.

    Examples
    --------
    >>> [[(w.row_off, w.col_off, w.height, w.width) for w in row]
    ...  for row in iter_windows(5, 3, 4)]
    [[(0, 0, 4, 3)], [(4, 0, 1, 3)]]
    """
    if size < 1:
        raise RasterError(f"window size must be at least 1 pixel, got {size}")
    for row in range(0, height, size):
        yield [
            Window(col, row, min(size, width - col), min(size, height - row))
            for col in range(0, width, size)
        ]


def vectorize(
    src: rasterio.io.DatasetReader,
    *,
    band: int = 1,
    window_size: int = 2048,
    connectivity: int = 4,
    progress: Progress | None = None,
) -> Vectorized:
    """Vectorise the non-zero, valid pixels of one band into polygons, one per region.

    Pixels equal to 0, masked by the dataset (nodata value, internal mask or alpha) or
    not finite are background. Adjacent pixels of one value form one polygon, also when
    they lie in different windows: pieces touching a window seam are merged per value
    once the windows on both sides are read, so the result does not depend on
    ``window_size``.

    Parameters
    ----------
    src : rasterio.io.DatasetReader
        An open raster.
    band : int
        The band holding the class codes (whole numbers).
    window_size : int
        Side of the square windows read at a time, in pixels; memory use is about
        ``window_size**2 * 6`` bytes plus the polygons.
    connectivity : {4, 8}
        4 (pixels sharing an edge belong together) or 8 (corners too).
    progress : callable or None
        Called after each window with ``(done, total)``.

    Returns
    -------
    Vectorized

    Raises
    ------
    RasterError
        The band holds fractional values or values beyond 32-bit integers.
    """
    if connectivity not in (4, 8):
        raise RasterError(f"connectivity must be 4 or 8, got {connectivity}")
    height, width = src.height, src.width
    rows = list(iter_windows(height, width, window_size))
    total = sum(len(r) for r in rows)
    done = 0
    final: list[tuple[int, shapely.Geometry]] = []
    open_: list[tuple[int, shapely.Geometry]] = []
    for row in rows:
        pending: list[tuple[int, shapely.Geometry]] = []
        for win in row:
            for value, geom in _window_pieces(src, win, band, connectivity):
                (pending if _on_seam(geom, win, height, width) else final).append((value, geom))
            done += 1
            if progress is not None:
                progress(done, total)
        row_end = row[0].row_off + row[0].height
        open_, closed = _merge_open(open_ + pending, row_end, height, connectivity)
        final.extend(closed)
    final.extend(open_)
    return _result(src, final, total)


def _window_pieces(
    src: rasterio.io.DatasetReader, win: Window, band: int, connectivity: int
) -> list[tuple[int, shapely.Geometry]]:
    """Polygons of one window in global pixel coordinates."""
    data = src.read(band, window=win)
    valid = src.read_masks(band, window=win) > 0
    codes = _codes(data, valid, src.name, band)
    keep = codes != 0
    if not keep.any():
        return []
    shift = Affine.translation(win.col_off, win.row_off)
    out = []
    for geom, value in features.shapes(codes, mask=keep, connectivity=connectivity,
                                       transform=shift):
        poly = shape(geom)
        if connectivity == 8 and not poly.is_valid:  # regions joined at a corner
            poly = shapely.make_valid(poly, method="structure")
        out.append((int(value), poly))
    return out


def _codes(data: np.ndarray, valid: np.ndarray, name: str, band: int) -> np.ndarray:
    """Return the class codes as int32 with background (invalid, 0, NaN) set to 0."""
    if data.dtype.kind == "f":
        finite = np.isfinite(data)
        valid = valid & finite
        values = np.where(valid, data, 0)
        fractional = values != np.round(values)
        if fractional.any():
            example = values[fractional][0]
            raise RasterError(
                f"{name}: band {band} holds fractional values (e.g. {example:g}); a change "
                "mask codes change as whole numbers (0 = no change): threshold it first, "
                "e.g. gdal_calc.py -A in.tif --calc 'A>0.5' --outfile mask.tif"
            )
        data = values
    else:
        data = np.where(valid, data, 0)
    info = np.iinfo(np.int32)
    if data.size and (data.min() < info.min or data.max() > info.max):
        raise RasterError(
            f"{name}: band {band} holds values beyond 32-bit integers "
            f"({data.min()}..{data.max()}); recode the classes as small whole numbers"
        )
    return data.astype(np.int32, copy=False)


def _on_seam(geom: shapely.Geometry, win: Window, height: int, width: int) -> bool:
    """True when ``geom`` reaches an edge of ``win`` that is not the raster's edge."""
    minx, miny, maxx, maxy = geom.bounds
    right, bottom = win.col_off + win.width, win.row_off + win.height
    return bool(
        (minx <= win.col_off and win.col_off > 0)
        or (miny <= win.row_off and win.row_off > 0)
        or (maxx >= right and right < width)
        or (maxy >= bottom and bottom < height)
    )


def _merge_open(
    pieces: list[tuple[int, shapely.Geometry]], row_end: int, height: int, connectivity: int
) -> tuple[list[tuple[int, shapely.Geometry]], list[tuple[int, shapely.Geometry]]]:
    """Merge touching pieces per value; split into still open (reaching the next row) and done."""
    merged = merge_touching(pieces, connectivity=connectivity)
    still_open, closed = [], []
    for value, geom in merged:
        (still_open if geom.bounds[3] >= row_end and row_end < height else closed).append(
            (value, geom)
        )
    return still_open, closed


def merge_touching(
    pieces: Sequence[tuple[int, shapely.Geometry]], *, connectivity: int = 4
) -> list[tuple[int, shapely.Geometry]]:
    """Union the pieces of one value that share an edge (with 8-connectivity: or a corner).

    Parameters
    ----------
    pieces
        ``(value, polygon)`` pairs in pixel coordinates.
    connectivity
        4 or 8, as for :func:`vectorize`.

    Examples
    --------
    >>> import shapely
    >>> out = merge_touching([(1, shapely.box(0, 0, 2, 1)), (1, shapely.box(2, 0, 3, 1)),
    ...                       (2, shapely.box(3, 0, 4, 1)), (1, shapely.box(3, 1, 4, 2))])
    >>> sorted((v, g.area) for v, g in out)
    [(1, 1.0), (1, 3.0), (2, 1.0)]
    """
    if len(pieces) < 2:
        return list(pieces)
    values = np.array([v for v, _ in pieces], dtype=np.int64)
    geoms = np.array([g for _, g in pieces], dtype=object)
    out: list[tuple[int, shapely.Geometry]] = []
    for value in np.unique(values):
        idx = np.flatnonzero(values == value)
        group = geoms[idx]
        tree = shapely.STRtree(group)
        left, right = tree.query(group, predicate="intersects")
        later = left < right
        left, right = left[later], right[later]
        if connectivity == 4 and len(left):
            shared = shapely.length(shapely.intersection(group[left], group[right])) > 0
            left, right = left[shared], right[shared]
        for members in _components(len(group), left, right):
            geom = group[members[0]] if len(members) == 1 else shapely.union_all(group[members])
            out.append((int(value), geom))
    return out


def _components(n: int, left: np.ndarray, right: np.ndarray) -> list[list[int]]:
    """Connected components of ``n`` nodes joined by the edges ``left[k]-right[k]``."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def _result(
    src: rasterio.io.DatasetReader, pieces: list[tuple[int, shapely.Geometry]], total: int
) -> Vectorized:
    transform = src.transform
    pixel_area = abs(transform.a * transform.e - transform.b * transform.d)
    if not pieces:
        empty = np.empty(0, dtype=np.int64)
        return Vectorized(np.empty(0, dtype=object), empty, empty.copy(),
                          _crs(src), pixel_area, total)
    geoms = np.array([g for _, g in pieces], dtype=object)
    # one canonical form whatever the windows: no collinear seam vertices, normalised rings
    geoms = shapely.normalize(shapely.simplify(geoms, 0.0))
    values = np.array([v for v, _ in pieces], dtype=np.int64)
    bounds = shapely.bounds(geoms)
    order = np.lexsort((values, bounds[:, 0], bounds[:, 1]))
    geoms, values = geoms[order], values[order]
    pixels = np.rint(shapely.area(geoms)).astype(np.int64)
    return Vectorized(geoms=_affine(geoms, transform), values=values, pixels=pixels,
                      crs=_crs(src), pixel_area=pixel_area, windows=total)


def _affine(geoms: np.ndarray, transform: Affine) -> np.ndarray:
    """Apply a pixel-to-map affine transform to an array of geometries."""
    a, b, c, d, e, f = transform[:6]

    def apply(xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0], xy[:, 1]
        return np.column_stack([a * x + b * y + c, d * x + e * y + f])

    return np.asarray(shapely.transform(geoms, apply), dtype=object)


def _crs(src: rasterio.io.DatasetReader) -> CRS | None:
    return CRS.from_wkt(src.crs.to_wkt()) if src.crs else None
