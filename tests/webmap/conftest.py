"""Fixtures of the web map tests."""

from __future__ import annotations

import geopandas as gpd
import pytest

from tests.webmap.frames import make_frames


@pytest.fixture
def frames() -> dict[str, gpd.GeoDataFrame]:
    """All five layers, with 200 leads of every status (lead 0 has a hostile note)."""
    return make_frames(200)
