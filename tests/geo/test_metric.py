"""Buffers in metres on the ground."""

from __future__ import annotations

import pytest
import shapely
from pyproj import Geod

from geo.metric import buffer_metres


def test_buffer_metres_is_metres_on_the_ground():
    ring = buffer_metres([shapely.box(126.0, 43.0, 126.01, 43.01)], 500.0)[0]
    west = shapely.intersection(ring, shapely.LineString([(125.9, 43.005), (126.1, 43.005)]))
    lon = shapely.bounds(west)[0]
    _, _, dist = Geod(ellps="GRS80").inv(lon, 43.005, 126.0, 43.005)
    assert dist == pytest.approx(500.0, rel=0.002)
