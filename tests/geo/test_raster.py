"""Rasters: masks vectorised window by window, chips read, stretched, outlined, encoded."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.transform import from_origin

from geo.errors import RasterError
from geo.raster import (
    chip_grid,
    default_bands,
    iter_windows,
    merge_touching,
    outline_mask,
    read_chip,
    stretch,
    to_png,
    vectorize,
)

#: CGCS2000 / Gauss-Krüger 6° zone 22 (central meridian 129°E, zone number in the easting).
GK22 = "EPSG:4500"
#: Upper-left corner of the test rasters: on the central meridian, about 43.3°N.
ORIGIN = (22_500_000.0, 4_800_000.0)


def write_raster(path: Path, data: np.ndarray, *, crs: str | None = GK22,
                 transform: Affine | None = None, nodata: float | None = None,
                 **profile: object) -> Path:
    """Write ``data`` (2-D, or bands x rows x cols) as a GeoTIFF with 10 m pixels."""
    arr = data if data.ndim == 3 else data[np.newaxis]
    with rasterio.open(
        path, "w", driver="GTiff", height=arr.shape[1], width=arr.shape[2], count=arr.shape[0],
        dtype=arr.dtype, crs=crs, transform=transform or from_origin(*ORIGIN, 10, 10),
        nodata=nodata, **profile,
    ) as dst:
        dst.write(arr)
    return path


def decode_png(data: bytes) -> np.ndarray:
    """Decode the PNGs :func:`geo.raster.to_png` writes (8-bit, filter type 2)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        assert crc == zlib.crc32(tag + body) & 0xFFFFFFFF
        if tag == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None
    cols, rows, _depth, colour = header[:4]
    channels = 3 if colour == 2 else 1
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(rows, -1)
    assert (raw[:, 0] == 2).all()
    pixels = np.cumsum(raw[:, 1:], axis=0, dtype=np.uint8)  # undo "Up", modulo 256
    return pixels.reshape(rows, cols, channels) if channels == 3 else pixels


def disc(shape: tuple[int, int], row: float, col: float, radius: float) -> np.ndarray:
    """Boolean disc of pixels whose centres lie within ``radius``."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy + 0.5 - row) ** 2 + (xx + 0.5 - col) ** 2 <= radius**2


def shapes_mask() -> np.ndarray:
    """200 x 200 classes: rectangle (1), disc (2), long strip with a nodata hole (3), a pixel.

    255 is nodata: a block in the background and one inside the strip.
    """
    mask = np.zeros((200, 200), dtype=np.uint8)
    mask[20:40, 20:60] = 1  # 800 px
    mask[disc(mask.shape, 100, 100, 20)] = 2
    mask[150:190, 10:190] = 3  # 7200 px minus the hole
    mask[160:165, 50:60] = 255  # nodata inside the strip: 50 px
    mask[30:35, 100:110] = 255  # nodata in the background
    mask[5, 190] = 1  # one pixel
    return mask


def _by_value(vec) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for v, p in zip(vec.values.tolist(), vec.pixels.tolist(), strict=True):
        out.setdefault(v, []).append(p)
    return out


def test_known_shapes_become_one_polygon_each_with_pixels_and_position(tmp_path):
    mask = shapes_mask()
    path = write_raster(tmp_path / "m.tif", mask, nodata=255)
    with rasterio.open(path) as src:
        vec = vectorize(src)
    assert len(vec) == 4
    assert _by_value(vec) == {1: [1, 800], 2: [int(disc(mask.shape, 100, 100, 20).sum())],
                              3: [7200 - 50]}
    assert vec.pixel_area == 100.0
    assert vec.crs.to_epsg() == 4500
    x0, y0 = ORIGIN
    rect = vec.geoms[(vec.values == 1) & (vec.pixels == 800)][0]
    assert rect.bounds == (x0 + 200, y0 - 400, x0 + 600, y0 - 200)
    assert rect.area == 800 * 100
    strip = vec.geoms[vec.values == 3][0]
    assert len(strip.interiors) == 1  # the nodata hole
    assert shapely.box(x0 + 500, y0 - 1650, x0 + 600, y0 - 1600).equals(
        shapely.Polygon(strip.interiors[0]))
    centre = shapely.centroid(vec.geoms[vec.values == 2][0])
    assert centre.x == pytest.approx(x0 + 1000, abs=1) and centre.y == pytest.approx(y0 - 1000,
                                                                                    abs=1)
    # ordered top to bottom: the single pixel (row 5) comes first
    assert vec.pixels[0] == 1 and list(vec.values) == [1, 1, 2, 3]


def test_shapes_spanning_window_seams_are_merged_whatever_the_window(tmp_path):
    mask = shapes_mask()
    # a U whose arms meet only in a later window row, and a ring around a hole across seams
    mask[40:120, 150:155] = 4
    mask[40:120, 180:185] = 4
    mask[115:120, 150:185] = 4
    ring = disc(mask.shape, 60, 60, 25) & ~disc(mask.shape, 60, 60, 12)
    mask[ring & (mask == 0)] = 5
    path = write_raster(tmp_path / "m.tif", mask, nodata=255)
    with rasterio.open(path) as src:
        whole = vectorize(src, window_size=1000)
        assert whole.windows == 1
        for size in (13, 33, 64):
            tiled = vectorize(src, window_size=size)
            assert tiled.windows == len([w for r in iter_windows(200, 200, size) for w in r])
            assert list(tiled.values) == list(whole.values)
            assert list(tiled.pixels) == list(whole.pixels)
            for a, b in zip(tiled.geoms, whole.geoms, strict=True):
                assert a.geom_type == "Polygon"
                assert shapely.equals_exact(a, b, tolerance=0)
    u = whole.geoms[whole.values == 4]
    assert len(u) == 1 and whole.pixels[whole.values == 4][0] == 80 * 5 * 2 + 5 * 25


def test_corner_neighbours_join_only_with_8_connectivity_also_across_seams(tmp_path):
    mask = np.zeros((20, 20), dtype=np.uint8)
    for k in range(4, 12):  # a diagonal line through the seam at 8
        mask[k, k] = 1
    path = write_raster(tmp_path / "d.tif", mask)
    with rasterio.open(path) as src:
        assert len(vectorize(src, connectivity=4, window_size=8)) == 8
        for size in (8, 5, 100):
            vec = vectorize(src, connectivity=8, window_size=size)
            assert len(vec) == 1 and vec.pixels[0] == 8
            assert vec.geoms[0].is_valid


def test_float_masks_with_nan_nodata_and_fractions(tmp_path):
    mask = np.zeros((10, 10), dtype=np.float32)
    mask[2:4, 2:4] = 1.0
    mask[6, 6] = np.nan
    path = write_raster(tmp_path / "f.tif", mask, nodata=np.nan)
    with rasterio.open(path) as src:
        vec = vectorize(src)
    assert list(vec.pixels) == [4]
    mask[8, 8] = 0.37
    path = write_raster(tmp_path / "g.tif", mask)
    with rasterio.open(path) as src, pytest.raises(RasterError, match="fractional values"):
        vectorize(src)


def test_an_empty_mask_gives_no_polygons(tmp_path):
    path = write_raster(tmp_path / "e.tif", np.zeros((5, 5), dtype=np.uint8))
    with rasterio.open(path) as src:
        vec = vectorize(src, window_size=2)
    assert len(vec) == 0 and vec.windows == 9


def test_merge_touching_keeps_corner_contacts_apart_with_4_connectivity():
    pieces = [(1, shapely.box(0, 0, 1, 1)), (1, shapely.box(1, 1, 2, 2))]
    assert len(merge_touching(pieces, connectivity=4)) == 2
    assert len(merge_touching(pieces, connectivity=8)) == 1


# -- chips ----------------------------------------------------------------------------------
def image(tmp_path: Path, *, crs: str = "EPSG:32652", bright: tuple[int, int] | None = None,
          size: int = 400, res: float = 2.0, origin: tuple[float, float] = (499_600, 4_796_400),
          name: str = "img.tif") -> Path:
    """A 3-band uint16 image with gentle noise and one bright pixel at ``bright`` (row, col)."""
    rng = np.random.default_rng(7)
    data = (rng.random((3, size, size)) * 100 + 1000).astype(np.uint16)
    if bright is not None:
        data[:, bright[0], bright[1]] = 5000
    return write_raster(tmp_path / name, data, crs=crs,
                        transform=from_origin(*origin, res, res))


def test_chip_is_centred_and_north_up_across_crss(tmp_path):
    # image in UTM 52N; the chip grid is a local transverse Mercator around the place
    path = image(tmp_path, bright=(200, 200))
    with rasterio.open(path) as src:
        x, y = src.xy(200, 200)  # centre of the bright pixel
        from pyproj import Transformer

        lon, lat = Transformer.from_crs(src.crs, "EPSG:4490", always_xy=True).transform(x, y)
        grid = chip_grid(lon, lat, side_m=200, size=101)  # ~1.98 m pixels
        data = read_chip(src, grid, bands=(1, 2, 3), resampling=rasterio.enums.Resampling.nearest)
    assert data.shape == (3, 101, 101)
    row, col = np.unravel_index(np.nanargmax(data[0]), data[0].shape)
    assert (row, col) == (50, 50)
    assert not np.isnan(data).any()


def test_chip_off_the_image_is_none_and_half_off_is_nan(tmp_path):
    path = image(tmp_path)
    with rasterio.open(path) as src:
        from pyproj import Transformer

        to_lonlat = Transformer.from_crs(src.crs, "EPSG:4490", always_xy=True)
        _left, bottom, right, top = src.bounds
        far = to_lonlat.transform(right + 5000, top)
        assert read_chip(src, chip_grid(*far, side_m=100, size=50), bands=(1,)) is None
        edge = to_lonlat.transform(right, (top + bottom) / 2)
        data = read_chip(src, chip_grid(*edge, side_m=200, size=100), bands=(1,))
    assert np.isnan(data[0, :, 60:]).all() and not np.isnan(data[0, :, :45]).any()


def test_chip_of_a_large_area_reads_decimated(tmp_path):
    path = image(tmp_path, size=1000, res=1.0, origin=(499_500, 4_796_500))
    with rasterio.open(path) as src:
        from pyproj import Transformer

        lon, lat = Transformer.from_crs(src.crs, "EPSG:4490", always_xy=True).transform(
            500_000, 4_796_000)
        data = read_chip(src, chip_grid(lon, lat, side_m=900, size=64), bands=(1, 2, 3))
    assert data.shape == (3, 64, 64) and not np.isnan(data).any()
    assert 1000 <= np.nanmin(data) and np.nanmax(data) <= 1100


def test_stretch_clips_percentiles_per_band_and_greys_nodata():
    band = np.linspace(0, 1000, 100 * 100, dtype=np.float32).reshape(1, 100, 100)
    band[0, 0, 0] = np.nan
    band[0, 99, 99] = 1e6  # an outlier does not flatten the rest
    rgb = stretch(band)
    assert rgb.shape == (100, 100, 3) and rgb.dtype == np.uint8
    assert (rgb[..., 0] == rgb[..., 2]).all()
    assert rgb[0, 0, 0] == 0
    assert rgb[50, 0, 0] == pytest.approx(128, abs=3)
    assert rgb[99, 99, 0] == 255
    with pytest.raises(RasterError):
        stretch(np.zeros((2, 3, 3)))


def test_outline_of_a_square_and_a_point_marker():
    grid = chip_grid(126.5, 43.5, side_m=500, size=100)  # 5 m pixels, centre at (0, 0)
    mask = outline_mask(shapely.box(-50, -50, 50, 50), grid, width=1)
    rows, cols = np.nonzero(mask)
    assert rows.min() in (39, 40) and rows.max() in (59, 60)
    assert cols.min() in (39, 40) and cols.max() in (59, 60)
    assert not mask[50, 50] and mask[50, 40] and mask[40, 50]
    marker = outline_mask(shapely.Point(0, 0), grid, width=1, marker_px=8)
    rows, cols = np.nonzero(marker)
    assert (rows.min() + rows.max()) / 2 == pytest.approx(49.5, abs=1)
    assert rows.max() - rows.min() == pytest.approx(16, abs=1)
    assert not outline_mask(shapely.Polygon(), grid).any()


def test_png_round_trips_and_is_deterministic():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (17, 23, 3), dtype=np.uint8)
    data = to_png(rgb)
    assert (decode_png(data) == rgb).all()
    assert data == to_png(rgb.copy())
    grey = rgb[..., 0]
    assert (decode_png(to_png(grey)) == grey).all()


def test_default_bands_follow_colour_interpretation(tmp_path):
    path = image(tmp_path)
    with rasterio.open(path) as src:
        assert default_bands(src) == (1, 2, 3)
    single = write_raster(tmp_path / "one.tif", np.ones((4, 4), dtype=np.uint8))
    with rasterio.open(single) as src:
        assert default_bands(src) == (1,)
        grid = chip_grid(129.0, 43.3, side_m=10, size=4)
        with pytest.raises(RasterError, match="not band 2"):
            read_chip(src, grid, bands=(2,))
