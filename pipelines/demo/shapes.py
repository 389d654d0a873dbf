"""Shapes of the synthetic demo data (private to :mod:`pipelines.demo.data`).

Star-shaped polygons with smooth random outlines ("blobs") and nested zone rings, built in
China Albers (equal-area metres) so that areas hit their targets, and converted to and from
CGCS2000 longitude/latitude. Every random draw comes from the caller's generator, in a
fixed order, so that a seed gives the same shapes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pyproj
import shapely

from geo.crs import CGCS2000, CHINA_ALBERS, transformer

__all__ = [
    "TAU",
    "Blob",
    "angles",
    "county_index",
    "ea_to_lonlat",
    "equal_area_m2",
    "lonlat_to_ea",
    "make_blob",
    "patch_polygons",
    "radial_profiles",
    "scale_to_area",
]

TAU = 2.0 * np.pi


@dataclass(frozen=True)
class Blob:
    """A star-shaped polygon around (x, y) in Albers metres, with nested inner rings."""

    x: float
    y: float
    radius: np.ndarray  # outline radius at angles(len(radius))
    fractions: tuple[np.ndarray, ...] = ()  # inner ring radii as fractions, innermost first

    @property
    def theta(self) -> np.ndarray:
        """The angles at which :attr:`radius` is given."""
        return angles(len(self.radius))

    def level(self, j: int, theta: np.ndarray) -> np.ndarray:
        """Fraction of the radius of level ``j`` (0 = centre, last = outline) at ``theta``."""
        level = np.broadcast_to((0.0, *self.fractions, 1.0)[j], self.radius.shape)
        return np.interp(theta, self.theta, level, period=TAU)

    def ring(self, frac: np.ndarray | float = 1.0) -> np.ndarray:
        """The ring at ``frac`` of the radius (the outline at 1) as Albers coordinates."""
        r = self.radius * frac
        return np.column_stack([self.x + r * np.cos(self.theta), self.y + r * np.sin(self.theta)])

    def point(self, theta: np.ndarray, frac: np.ndarray) -> np.ndarray:
        """Points at angles ``theta`` and fractions ``frac`` of the radius (Albers)."""
        r = np.interp(theta, self.theta, self.radius, period=TAU) * frac
        return np.column_stack([self.x + r * np.cos(theta), self.y + r * np.sin(theta)])


def angles(n: int) -> np.ndarray:
    """Return ``n`` angles evenly spaced over a full turn, starting at 0.

    Examples
    --------
    >>> angles(4) / np.pi
    array([0. , 0.5, 1. , 1.5])
    """
    return np.linspace(0.0, TAU, n, endpoint=False)


def radial_profiles(rng: np.random.Generator, rows: int, n: int, amp: float,
                    kmax: int) -> np.ndarray:
    """Smooth random radial profiles ``1 + noise`` (harmonics 2..kmax), ``|noise| <= amp``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the amplitudes and phases of the harmonics.
    rows : int
        Number of profiles.
    n : int
        Number of angles per profile (see :func:`angles`).
    amp : float
        Largest absolute noise of each profile.
    kmax : int
        Highest harmonic.
    """
    k = np.arange(2, kmax + 1)
    a = rng.uniform(0.2, 1.0, (rows, k.size)) / k**1.2
    phi = rng.uniform(0.0, TAU, (rows, k.size))
    noise = (a[:, :, None] * np.cos(k[None, :, None] * angles(n) + phi[:, :, None])).sum(axis=1)
    return 1.0 + noise * (amp / np.abs(noise).max(axis=1, keepdims=True))


def scale_to_area(profiles: np.ndarray, area_m2: np.ndarray) -> np.ndarray:
    """Scale radial profiles so each polygon encloses ``area_m2`` (polar polygon area)."""
    n = profiles.shape[1]
    unit = 0.5 * np.sin(TAU / n) * (profiles * np.roll(profiles, -1, axis=1)).sum(axis=1)
    return profiles * np.sqrt(np.asarray(area_m2, dtype="float64") / unit)[:, None]


def make_blob(rng: np.random.Generator, xy: np.ndarray, area_m2: float, *, n: int = 180,
              amp: float = 0.3, kmax: int = 9, zones: int = 1) -> Blob:
    """Return a blob of ``area_m2`` around the Albers point ``xy``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the outline (and the zone rings).
    xy : numpy.ndarray
        Centre in Albers metres.
    area_m2 : float
        Area the outline encloses.
    n : int
        Vertices of the outline.
    amp : float
        Noise amplitude of the outline.
    kmax : int
        Highest harmonic of the outline.
    zones : {1, 2, 3}
        3: core and buffer rings inside the outline; 2: one inner ring; 1: none.
    """
    radius = scale_to_area(radial_profiles(rng, 1, n, amp, kmax), np.array([area_m2]))[0]
    fractions: tuple[np.ndarray, ...] = ()
    if zones == 3:
        core = 0.35 * radial_profiles(rng, 1, n, 0.25, 4)[0]
        fractions = (core, core + 0.3 * radial_profiles(rng, 1, n, 0.3, 4)[0])
    elif zones == 2:
        fractions = (0.5 * radial_profiles(rng, 1, n, 0.25, 4)[0],)
    return Blob(float(xy[0]), float(xy[1]), radius, fractions)


@functools.cache
def _transformers() -> tuple[pyproj.Transformer, pyproj.Transformer]:
    return transformer(CGCS2000, CHINA_ALBERS), transformer(CHINA_ALBERS, CGCS2000)


def lonlat_to_ea(lon: object, lat: object) -> np.ndarray:
    """CGCS2000 longitudes and latitudes as an ``(n, 2)`` array of Albers metres."""
    return np.column_stack([np.atleast_1d(c) for c in _transformers()[0].transform(lon, lat)])


def ea_to_lonlat(xy: np.ndarray) -> np.ndarray:
    """An ``(n, 2)`` array of Albers metres as CGCS2000 longitudes and latitudes."""
    return np.column_stack(_transformers()[1].transform(xy[:, 0], xy[:, 1]))


def equal_area_m2(geoms: np.ndarray) -> np.ndarray:
    """Equal-area (China Albers) areas of lon/lat geometries."""
    return shapely.area(shapely.transform(geoms, lambda xy: lonlat_to_ea(xy[:, 0], xy[:, 1])))


def county_index(points: np.ndarray, counties: np.ndarray) -> np.ndarray:
    """Index of the county holding each point (first match; nearest when outside all)."""
    tree = shapely.STRtree(counties)
    found = np.full(len(points), -1, dtype="int64")
    left, right = tree.query(points, predicate="intersects")
    found[left[::-1]] = right[::-1]
    missing = np.flatnonzero(found < 0)
    if missing.size:
        left, right = tree.query_nearest(points[missing])
        found[missing[left[::-1]]] = right[::-1]
    return found


def patch_polygons(rng: np.random.Generator, centres_ea: np.ndarray,
                   area_m2: np.ndarray) -> np.ndarray:
    """Small organic polygons (lon/lat) of the given equal-area sizes around Albers centres.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the outlines.
    centres_ea : numpy.ndarray
        ``(n, 2)`` centres in Albers metres.
    area_m2 : numpy.ndarray
        Area of each polygon, in square metres.
    """
    radius = scale_to_area(radial_profiles(rng, len(centres_ea), 20, 0.3, 4), area_m2)
    theta = angles(20)
    x = centres_ea[:, :1] + radius * np.cos(theta)
    y = centres_ea[:, 1:] + radius * np.sin(theta)
    ll = ea_to_lonlat(np.column_stack([x.ravel(), y.ravel()]))
    return shapely.polygons(ll.reshape(len(centres_ea), 20, 2))
