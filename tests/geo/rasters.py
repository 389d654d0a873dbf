"""Raster test helpers: GeoTIFFs written in code, PNGs decoded."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.transform import from_origin

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
    """Decode the PNGs :func:`geo.chips.to_png` writes (8-bit, filter type 2)."""
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
