"""Masks vectorised window by window."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import shapely

from geo.errors import RasterError
from geo.vectorize import iter_windows, merge_touching, vectorize
from tests.geo.rasters import ORIGIN, disc, shapes_mask, write_raster


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
