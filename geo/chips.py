"""North-up image chips around a place, stretched, outlined and encoded as PNG.

Chips are square, north-up grids in a local transverse Mercator centred on the place
(:func:`chip_grid`), so that chips of two images in different CRSs line up pixel for
pixel; :func:`read_chip` reads only the window it needs (decimated when the chip covers
many source pixels) and reprojects it. :func:`stretch`, :func:`outline_mask` and
:func:`to_png` turn it into a picture without any imaging library.
"""

from __future__ import annotations

import logging
import math
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import rasterio
import shapely
from affine import Affine
from pyproj import CRS, Transformer
from rasterio import features, windows
from rasterio.enums import ColorInterp, Resampling
from rasterio.warp import reproject, transform_bounds
from rasterio.windows import Window

from geo.errors import RasterError

__all__ = ["ChipGrid", "chip_grid", "default_bands", "outline_mask", "read_chip", "stretch",
           "to_png"]

log = logging.getLogger(__name__)

# -- chips --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChipGrid:
    """A square north-up grid of ``size`` pixels, ``side`` metres wide, centred on (0, 0).

    Attributes
    ----------
    proj
        PROJ string of the local transverse Mercator on the GRS80 ellipsoid centred on
        the place (the grid's CRS).
    transform
        Pixel-to-``crs`` affine transform.
    size
        Pixels per side.
    side
        Metres per side.
    """

    proj: str
    transform: Affine
    size: int
    side: float

    @property
    def crs(self) -> CRS:
        """The grid's CRS."""
        return CRS.from_proj4(self.proj)

    @property
    def resolution(self) -> float:
        """Metres per pixel."""
        return self.side / self.size

    def from_lonlat(self, geom: shapely.Geometry) -> shapely.Geometry:
        """Return ``geom`` given in CGCS2000 (or any GRS80) lon/lat in the grid's CRS."""
        trans = Transformer.from_pipeline(
            "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
            f"+step {self.proj}"
        )
        return shapely.transform(
            geom, lambda xy: np.column_stack(trans.transform(xy[:, 0], xy[:, 1]))
        )


def chip_grid(lon: float, lat: float, *, side_m: float, size: int) -> ChipGrid:
    """Return the chip grid centred on ``(lon, lat)`` (CGCS2000 / GRS80 degrees).

    Parameters
    ----------
    lon, lat : float
        Centre of the chip, CGCS2000 / GRS80 degrees.
    side_m : float
        Side of the chip on the ground, in metres (positive).
    size : int
        Pixels per side (at least 2).

    Examples
    --------
    >>> grid = chip_grid(126.5, 43.5, side_m=500, size=250)
    >>> grid.resolution, grid.transform.c, grid.transform.f
    (2.0, -250.0, 250.0)
    """
    if side_m <= 0 or size < 2:
        raise RasterError(f"a chip needs a positive size, got {side_m} m and {size} pixels")
    proj = (f"+proj=tmerc +lat_0={lat:.9f} +lon_0={lon:.9f} +k=1 +x_0=0 +y_0=0 +ellps=GRS80 "
            "+units=m +no_defs")
    half = side_m / 2.0
    transform = Affine.translation(-half, half) * Affine.scale(side_m / size, -side_m / size)
    return ChipGrid(proj=proj, transform=transform, size=size, side=float(side_m))


def default_bands(src: rasterio.io.DatasetReader) -> tuple[int, ...]:
    """Return the bands to show: red, green, blue by colour interpretation, else 1-3, else 1."""
    interp = list(src.colorinterp)
    wanted = (ColorInterp.red, ColorInterp.green, ColorInterp.blue)
    if all(c in interp for c in wanted):
        return tuple(interp.index(c) + 1 for c in wanted)
    return (1, 2, 3) if src.count >= 3 else (1,)


def read_chip(
    src: rasterio.io.DatasetReader,
    grid: ChipGrid,
    *,
    bands: Sequence[int],
    resampling: Resampling = Resampling.bilinear,
) -> np.ndarray | None:
    """Read ``bands`` of ``src`` onto ``grid``: float32 ``(bands, size, size)``, NaN for nodata.

    Only the window of ``src`` under the chip is read; when that window has more than
    twice the chip's pixels per side it is read decimated (GDAL uses overviews when the
    file has them), so a chip of a large area stays cheap.

    Parameters
    ----------
    src : rasterio.io.DatasetReader
        The open raster to read.
    grid : ChipGrid
        The chip grid to read onto (from :func:`chip_grid`).
    bands : sequence of int
        Band numbers of ``src`` (1-based), in output order.
    resampling : rasterio.enums.Resampling
        Resampling from the raster's pixels to the chip's.

    Returns
    -------
    numpy.ndarray or None
        None when the chip does not overlap the raster or holds only nodata.

    Raises
    ------
    RasterError
        A band number the raster does not have, or a raster without a CRS.
    """
    bad = [b for b in bands if not 1 <= b <= src.count]
    if bad:
        raise RasterError(f"{src.name} has bands 1-{src.count}, not band {bad[0]}")
    if src.crs is None:
        raise RasterError(f"{src.name} declares no CRS: set it, e.g. gdal_edit.py -a_srs "
                          "EPSG:4490 image.tif")
    half = grid.side / 2.0
    grid_crs = grid.crs
    try:
        box = transform_bounds(grid_crs, src.crs, -half, -half, half, half, densify_pts=21)
    except rasterio.errors.CRSError as exc:  # pragma: no cover - PROJ failure
        raise RasterError(f"cannot transform the chip into {src.crs}: {exc}") from exc
    if not all(math.isfinite(v) for v in box):
        return None
    win = windows.from_bounds(*box, transform=src.transform)
    win = Window(math.floor(win.col_off) - 2, math.floor(win.row_off) - 2,
                 math.ceil(win.width) + 4, math.ceil(win.height) + 4)
    try:
        win = win.intersection(Window(0, 0, src.width, src.height))
    except rasterio.errors.WindowError:
        return None
    if win.width < 1 or win.height < 1:
        return None
    scale = max(win.width, win.height) / (2.0 * grid.size)
    out_h, out_w = int(win.height), int(win.width)
    if scale > 1:
        out_h, out_w = max(1, math.ceil(win.height / scale)), max(1, math.ceil(win.width / scale))
    data = src.read(list(bands), window=win, out_shape=(len(bands), out_h, out_w),
                    masked=True, resampling=Resampling.average if scale > 1 else
                    Resampling.nearest)
    valid = ~np.ma.getmaskarray(data).any(axis=0)
    valid &= np.isfinite(np.ma.getdata(data)).all(axis=0)
    if not valid.any():
        return None
    # GDAL's warper is several times slower with a nodata value: fill the gaps with the
    # mean, warp without nodata, and carry validity in a separate nearest-neighbour mask.
    source = np.ma.getdata(data).astype(np.float32)
    for band in source:
        band[~valid] = band[valid].mean()
    src_transform = src.window_transform(win) * Affine.scale(win.width / out_w,
                                                              win.height / out_h)
    shape = (grid.size, grid.size)
    dest = np.zeros((len(bands), *shape), dtype=np.float32)
    reproject(source, dest, src_transform=src_transform, src_crs=src.crs,
              dst_transform=grid.transform, dst_crs=grid_crs, resampling=resampling)
    inside = np.zeros(shape, dtype=np.uint8)
    reproject(valid.astype(np.uint8), inside, src_transform=src_transform, src_crs=src.crs,
              dst_transform=grid.transform, dst_crs=grid_crs, resampling=Resampling.nearest)
    if not inside.any():
        return None
    dest[:, inside == 0] = np.nan
    return dest


def stretch(
    data: np.ndarray, *, low: float = 2.0, high: float = 98.0, nodata: int = 0
) -> np.ndarray:
    """Contrast-stretch each band between its ``low`` and ``high`` percentiles to uint8 RGB.

    Parameters
    ----------
    data : numpy.ndarray
        ``(bands, rows, cols)`` floats with NaN for nodata; one band gives grey, three RGB.
    low, high : float
        Percentiles clipped to 0 and 255, computed per band over valid pixels.
    nodata : int
        Grey level of nodata pixels.

    Returns
    -------
    numpy.ndarray
        ``(rows, cols, 3)`` uint8.

    Examples
    --------
    >>> import numpy as np
    >>> band = np.arange(100, dtype="float32").reshape(1, 10, 10)
    >>> rgb = stretch(band)
    >>> rgb.shape, int(rgb[0, 0, 0]), int(rgb[9, 9, 0])
    ((10, 10, 3), 0, 255)
    """
    if data.ndim != 3 or data.shape[0] not in (1, 3):
        raise RasterError(f"stretch needs 1 or 3 bands as (bands, rows, cols), got {data.shape}")
    out = np.full(data.shape, nodata, dtype=np.uint8)
    for k, band in enumerate(data):
        valid = np.isfinite(band)
        if not valid.any():
            continue
        sample = band[valid]
        if sample.size > 200_000:  # percentiles of a regular subsample are as good
            sample = sample[:: sample.size // 100_000]
        lo, hi = np.percentile(sample, [low, high])
        span = hi - lo if hi > lo else 1.0
        scaled = np.clip((band - lo) / span * 255.0, 0, 255)
        out[k][valid] = np.rint(scaled[valid]).astype(np.uint8)
    rgb = np.moveaxis(out, 0, -1)
    return np.repeat(rgb, 3, axis=2) if rgb.shape[2] == 1 else np.ascontiguousarray(rgb)


def outline_mask(
    geom: shapely.Geometry, grid: ChipGrid, *, width: int = 2, marker_px: int = 8
) -> np.ndarray:
    """Return a boolean ``(size, size)`` mask of ``geom``'s outline on ``grid``.

    ``geom`` is in ``grid.crs``. Polygons are drawn by their boundary, lines as they are,
    points (and shapes smaller than a few pixels) as a ring of ``marker_px`` pixels radius.
    The line is ``width`` pixels wide.

    Parameters
    ----------
    geom : shapely.Geometry
        The shape to outline, in ``grid.crs``; None or empty gives an empty mask.
    grid : ChipGrid
        The chip grid the mask is drawn on.
    width : int
        Width of the outline, in pixels.
    marker_px : int
        Radius of the ring drawn for points and tiny shapes, in pixels.
    """
    if geom is None or geom.is_empty:
        return np.zeros((grid.size, grid.size), dtype=bool)
    res = grid.resolution
    minx, miny, maxx, maxy = geom.bounds
    if shapely.get_dimensions(geom) == 0 or max(maxx - minx, maxy - miny) < 3 * res:
        line = shapely.centroid(geom).buffer(marker_px * res).boundary
    elif shapely.get_dimensions(geom) == 2:
        line = geom.boundary
    else:
        line = geom
    mask = features.rasterize([(line, 1)], out_shape=(grid.size, grid.size),
                              transform=grid.transform, all_touched=True, fill=0,
                              dtype="uint8").astype(bool)
    for _ in range(max(0, width - 1)):
        grown = mask.copy()
        grown[1:, :] |= mask[:-1, :]
        grown[:, 1:] |= mask[:, :-1]
        mask = grown
    return mask


def to_png(rgb: np.ndarray) -> bytes:
    """Encode a ``(rows, cols, 3)`` uint8 array (or ``(rows, cols)`` grey) as PNG bytes.

    Deterministic: the same pixels always give the same bytes (and sha256).

    Examples
    --------
    >>> import numpy as np
    >>> to_png(np.zeros((2, 3, 3), dtype="uint8"))[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    pixels = np.ascontiguousarray(rgb, dtype=np.uint8)
    if pixels.ndim == 2:
        colour = 0
    elif pixels.ndim == 3 and pixels.shape[2] == 3:
        colour = 2
    else:
        raise RasterError(f"to_png needs (rows, cols, 3) or (rows, cols), got {pixels.shape}")
    rows, cols = pixels.shape[:2]
    flat = pixels.reshape(rows, -1)
    up = flat.copy()
    up[1:] = flat[1:] - flat[:-1]  # PNG filter 2 ("Up"), modulo 256
    raw = np.hstack([np.full((rows, 1), 2, dtype=np.uint8), up]).tobytes()

    def chunk(tag: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + tag + body
                + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", cols, rows, 8, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
