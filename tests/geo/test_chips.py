"""Chips read, stretched, outlined and encoded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from geo.chips import chip_grid, default_bands, outline_mask, read_chip, stretch, to_png
from geo.errors import RasterError
from tests.geo.rasters import decode_png, write_raster


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
