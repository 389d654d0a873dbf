"""Distances in metres to the nearest of many lines, from an index of their short pieces.

The lines are cut into pieces of at most :data:`PIECE` segments, held as numpy arrays
(vertex coordinates, segment ends, piece boxes) and indexed once in degrees by one shapely
``STRtree`` of the pieces' box diagonals. For each geometry, the pieces within 0.05° are
candidates; the exact distance to the likeliest of them, computed in the geometry's
Gauss-Krüger 6° zone, bounds the distance ``D``. Every piece that could be nearer lies in a
lon/lat box that ``D`` bounds (a Gauss-Krüger grid distance is never shorter than the
geodesic, and a geodesic of length ``D`` moves at most ``D / M`` in latitude and
``D / (N cos φ)`` in longitude), and is kept only when the gap between its box and the
geometry's, at the least scale over that band, is not over ``D``. Only the kept pieces'
vertices are projected and measured (point-to-segment distances, vectorized).

A geometry with no piece within 0.05° is far from every line: the piece nearest in degrees
bounds its distance, and only the pieces meeting the boxes those bounds give (painted on a
coarse raster, :meth:`SegmentIndex.meeting`) are projected to the zone and searched, never
all of them. The answer is the distance between the projected geometry and the projected
lines, as GEOS computes it (within rounding).
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely
from pyproj import CRS

from geo.crs import gk6_crs, gk6_zone, transformer
from geo.errors import GeometryError

__all__ = ["PIECE", "SegmentIndex", "nearest_line_distance"]

log = logging.getLogger(__name__)

PIECE = 8  # segments per indexed piece
_M_PER_DEG = 110_000.0  # under both the meridian's (110.57 km) and the equator's (111.32 km)
# a straight segment in the projection bends away from the lon/lat chord by about
# L² tan φ / 8R; this margin (degrees per squared degree of segment) is several times that
_BEND = 0.05
_CHUNK = 20_000  # geometries measured at a time (bounds the candidate arrays)
_START = 0.05  # degrees around a geometry searched first
_WIDE = 0.25  # degrees of the widest box searched; beyond, the nearest of all pieces
_POINT = 0
_POLYGONAL = (3, 6)
_CELL = 0.1  # degrees per cell of the raster that tells which pieces a set of boxes meets
_CELLS = 4096  # most cells of that raster along one axis
_THREADS = max(1, min(8, os.cpu_count() or 1))  # threads searching the far geometries


class SegmentIndex:
    """The segments of line geometries, cut into short pieces and indexed in degrees.

    Parameters
    ----------
    lines : numpy.ndarray of shapely geometries
        LineStrings, LinearRings or MultiLineStrings (points count as segments of length
        zero); missing and empty geometries are skipped.

    Raises
    ------
    GeometryError
        When a geometry is polygonal (pass its boundary).
    """

    def __init__(self, lines: np.ndarray) -> None:
        lines = lines[~(shapely.is_missing(lines) | shapely.is_empty(lines))]
        if np.isin(shapely.get_type_id(lines), _POLYGONAL).any():
            raise GeometryError("nearest line distance needs lines, got polygons: "
                                "pass their boundaries")
        parts = shapely.get_parts(lines)
        coords, part = shapely.get_coordinates(parts, return_index=True)
        self.xy = coords
        n = len(coords)
        # segment k runs from vertex a[k] to b[k]; a part of one vertex is one zero segment
        nxt = np.arange(1, n + 1)
        same = np.zeros(n, dtype=bool)
        same[:-1] = part[1:] == part[:-1]
        counts = np.bincount(part, minlength=len(parts)) if n else np.zeros(0, "int64")
        single = np.zeros(n, dtype=bool)
        if n:
            single = counts[part] == 1
        keep = same | single
        self.a = np.flatnonzero(keep)
        self.b = np.where(single[keep], self.a, nxt[keep])
        seg_part = part[self.a] if n else np.zeros(0, "int64")
        # pieces: runs of at most PIECE segments within one part
        first_in_part = np.ones(len(self.a), dtype=bool)
        first_in_part[1:] = seg_part[1:] != seg_part[:-1]
        start = np.flatnonzero(first_in_part)
        rank = np.arange(len(self.a)) - np.repeat(start, np.diff(np.append(start, len(self.a))))
        piece_start = np.flatnonzero(first_in_part | (rank % PIECE == 0))
        self.first = piece_start
        self.count = np.diff(np.append(piece_start, len(self.a)))
        seg_len = np.hypot(*(self.xy[self.b] - self.xy[self.a]).T) if n else np.zeros(0)
        longest = (np.maximum.reduceat(seg_len, self.first) if len(self.first)
                   else np.zeros(0))
        self.margin = _BEND * longest**2 + 1e-9
        self.max_margin = float(self.margin.max(initial=0.0))
        bounds = _piece_bounds(self.xy, self.a[self.first],
                               self.b[self.first + self.count - 1])
        self.bounds = bounds + np.array([-1.0, -1.0, 1.0, 1.0]) * self.margin[:, None]
        # the tree holds one diagonal per piece: its envelope is the piece's box
        diagonals = np.empty(len(bounds), dtype=object)
        if len(bounds):
            diagonals[:] = shapely.linestrings(bounds.reshape(-1, 2, 2))
        self.tree = shapely.STRtree(diagonals)

    def __len__(self) -> int:
        return len(self.first)

    def meeting(self, boxes: np.ndarray) -> np.ndarray:
        """Positions of the pieces whose box may meet one of ``boxes`` (a superset).

        The boxes are painted on a raster of cells of :data:`_CELL` degrees over the
        pieces' extent (at most :data:`_CELLS` a side); a piece is kept when a painted cell
        lies under its box. Costs one pass over the boxes and one over the pieces, however
        much the boxes overlap.

        Parameters
        ----------
        boxes : numpy.ndarray
            ``(n, 4)`` lon/lat boxes ``xmin, ymin, xmax, ymax``.

        Returns
        -------
        numpy.ndarray
            Sorted int64 piece positions.
        """
        if not len(boxes) or not len(self):
            return np.zeros(0, dtype="int64")
        lo = self.bounds[:, :2].min(axis=0)
        hi = self.bounds[:, 2:].max(axis=0)
        cell = np.maximum(_CELL, (hi - lo) / (_CELLS - 1))
        shape = np.floor((hi - lo) / cell).astype("int64") + 1  # (nx, ny)
        boxes = boxes[(boxes[:, 2] >= lo[0]) & (boxes[:, 0] <= hi[0])
                      & (boxes[:, 3] >= lo[1]) & (boxes[:, 1] <= hi[1])]

        def cells(v: np.ndarray, axis: int) -> np.ndarray:
            return np.clip(np.floor((v - lo[axis]) / cell[axis]), 0, shape[axis] - 1).astype(
                "int64")

        x0, x1 = cells(boxes[:, 0], 0), cells(boxes[:, 2], 0) + 1
        y0, y1 = cells(boxes[:, 1], 1), cells(boxes[:, 3], 1) + 1
        paint = np.zeros((shape[1] + 1, shape[0] + 1), dtype="int64")
        for ys, xs, sign in ((y0, x0, 1), (y0, x1, -1), (y1, x0, -1), (y1, x1, 1)):
            np.add.at(paint, (ys, xs), sign)
        painted = (paint.cumsum(axis=0).cumsum(axis=1) > 0)[:-1, :-1]
        area = np.zeros((shape[1] + 1, shape[0] + 1), dtype="int64")
        area[1:, 1:] = painted.cumsum(axis=0).cumsum(axis=1)
        b = self.bounds
        px0, px1 = cells(b[:, 0], 0), cells(b[:, 2], 0) + 1
        py0, py1 = cells(b[:, 1], 1), cells(b[:, 3], 1) + 1
        hits = area[py1, px1] - area[py0, px1] - area[py1, px0] + area[py0, px0]
        return np.flatnonzero(hits > 0)

    def segments(self, pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Segment positions of ``pieces`` and, for each, its position in ``pieces``."""
        counts = self.count[pieces]
        owner = np.repeat(np.arange(len(pieces)), counts)
        offset = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
        return self.first[pieces][owner] + offset, owner

    def _vertices(self, pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vertex positions of ``pieces`` in order, and for each, its position in ``pieces``."""
        seg, owner = self.segments(pieces)
        lengths = self.count[pieces] + 1
        last = np.cumsum(self.count[pieces]) - 1
        vert = np.empty(int(lengths.sum()), dtype="int64")
        pos = np.arange(len(seg)) + owner  # each piece's vertices: its a's then its last b
        vert[pos] = self.a[seg]
        vert[last + np.arange(len(pieces)) + 1] = self.b[seg[last]] if len(pieces) else []
        return vert, np.repeat(np.arange(len(pieces)), lengths)

    def _geometries(self, x: np.ndarray, y: np.ndarray, pieces: np.ndarray) -> np.ndarray:
        """Pieces as LineStrings (two equal vertices for a zero segment) from coordinates."""
        vert, idx = self._vertices(pieces)
        out = np.empty(len(pieces), dtype=object)
        if len(pieces):
            out[:] = shapely.linestrings(x[vert], y[vert], indices=idx)
        return out

    def all_pieces(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Every piece as a LineString in the coordinates ``x, y`` (one per vertex)."""
        return self._geometries(x, y, np.arange(len(self.first)))

    def projected(self, pieces: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``pieces`` as LineStrings in the coordinates ``x, y``.

        Parameters
        ----------
        pieces : numpy.ndarray
            Piece positions.
        x, y : numpy.ndarray
            One coordinate per indexed vertex (e.g. projected; NaN where not needed).

        Returns
        -------
        numpy.ndarray
            One LineString per piece (two equal vertices for a zero segment).
        """
        return self._geometries(x, y, pieces)


def _piece_bounds(xy: np.ndarray, head: np.ndarray, last: np.ndarray) -> np.ndarray:
    """``xmin, ymin, xmax, ymax`` of pieces whose vertices are ``head[k]..last[k]``.

    A piece's vertices are consecutive coordinates; the run from one piece's first vertex
    to the next piece's holds its vertices but the last (shared with the next piece of its
    part), which is added apart.
    """
    if not len(head):
        return np.zeros((0, 4))
    lo = np.column_stack([np.minimum.reduceat(xy[:, k], head) for k in (0, 1)])
    hi = np.column_stack([np.maximum.reduceat(xy[:, k], head) for k in (0, 1)])
    end = xy[last]
    return np.column_stack([np.minimum(lo, end), np.maximum(hi, end)])


def _point_segment(px: np.ndarray, py: np.ndarray, ax: np.ndarray, ay: np.ndarray,
                   bx: np.ndarray, by: np.ndarray) -> np.ndarray:
    """Distances of points to segments, as GEOS ``Distance::pointToSegment`` computes them."""
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        r = ((px - ax) * dx + (py - ay) * dy) / len2
        s = ((ay - py) * dx - (ax - px) * dy) / len2
        mid = np.abs(s) * np.sqrt(len2)
    to_a = np.hypot(px - ax, py - ay)
    to_b = np.hypot(px - bx, py - by)
    return np.where((len2 == 0) | (r <= 0), to_a, np.where(r >= 1, to_b, mid))


def _pair_min(lead: np.ndarray, dist: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, np.inf)
    np.minimum.at(out, lead, dist)
    return out


class _Zone:
    """Candidate pieces measured in one Gauss-Krüger zone (vertices projected on demand)."""

    def __init__(self, index: SegmentIndex, src: CRS, zone: int) -> None:
        self.index = index
        self.zone = zone
        self.trans = transformer(src, gk6_crs(zone))
        self.x = np.full(len(index.xy), np.nan)
        self.y = np.full(len(index.xy), np.nan)
        self.tree: shapely.STRtree | None = None

    def _project_vertices(self, seg: np.ndarray) -> None:
        need = np.zeros(len(self.x), dtype=bool)
        need[self.index.a[seg]] = True
        need[self.index.b[seg]] = True
        todo = np.flatnonzero(need & np.isnan(self.x))
        if len(todo):
            self.x[todo], self.y[todo] = self.trans.transform(self.index.xy[todo, 0],
                                                              self.index.xy[todo, 1])

    def nearest(self, geoms: np.ndarray, pieces: np.ndarray) -> np.ndarray:
        """Distances of projected ``geoms`` to the nearest of ``pieces`` (projected now)."""
        out = np.full(len(geoms), np.inf)
        if not len(pieces) or not len(geoms):
            return out
        seg, _ = self.index.segments(pieces)
        self._project_vertices(seg)
        tree = shapely.STRtree(self.index.projected(pieces, self.x, self.y))

        def search(part: slice) -> tuple[np.ndarray, np.ndarray]:
            (lead, _), dist = tree.query_nearest(geoms[part], return_distance=True,
                                                 all_matches=False)
            return lead + (part.start or 0), dist

        # GEOS searches without the GIL: runs of neighbouring geometries on every core
        step = -(-len(geoms) // _THREADS)
        parts = [slice(k, k + step) for k in range(0, len(geoms), step)]
        with ThreadPoolExecutor(len(parts)) as pool:
            for lead, dist in pool.map(search, parts):
                out[lead] = dist
        return out

    def project(self, geoms: np.ndarray) -> np.ndarray:
        t = self.trans
        return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0],
                                                                               xy[:, 1])))

    def distances(self, lead: np.ndarray, piece: np.ndarray, points: np.ndarray,
                  px: np.ndarray, py: np.ndarray, shapes: np.ndarray, n: int) -> np.ndarray:
        """Per lead (0..n-1), the least distance to its candidate pieces (inf for none).

        ``points[k]`` tells whether lead ``k`` is a point at projected ``px[k], py[k]``;
        otherwise ``shapes[k]`` is its projected geometry.
        """
        out = np.full(n, np.inf)
        pt = points[lead]
        if pt.any():
            lp, pp = lead[pt], piece[pt]
            seg, owner = self.index.segments(pp)
            self._project_vertices(seg)
            a, b = self.index.a[seg], self.index.b[seg]
            d = _point_segment(px[lp][owner], py[lp][owner], self.x[a], self.y[a],
                               self.x[b], self.y[b])
            out = np.minimum(out, _pair_min(lp[owner], d, n))
        if (~pt).any():
            lo, po = lead[~pt], piece[~pt]
            uniq, inv = np.unique(po, return_inverse=True)
            seg, _ = self.index.segments(uniq)
            self._project_vertices(seg)
            geoms = self.index.projected(uniq, self.x, self.y)
            d = shapely.distance(shapes[lo], geoms[inv])
            out = np.minimum(out, _pair_min(lo, d, n))
        return out


def nearest_line_distance(geoms: np.ndarray, index: SegmentIndex, *, crs: CRS) -> np.ndarray:
    """Distance in metres from each geometry to the nearest indexed line.

    Measured in the CGCS2000 Gauss-Krüger 6° zone of each geometry's centroid between the
    projected geometry and the projected line vertices (as ``shapely.distance`` after
    projecting both). NaN for missing or empty geometries and when there are no lines.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Points, patches or lines in ``crs``.
    index : SegmentIndex
        The lines, in ``crs``.
    crs : pyproj.CRS
        The geographic CRS of both.

    Returns
    -------
    numpy.ndarray
        Float distances aligned with ``geoms``.
    """
    out = np.full(len(geoms), np.nan)
    if len(index) == 0 or len(geoms) == 0:
        return out
    ok = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if not len(ok):
        return out
    centre = shapely.centroid(geoms[ok])
    lon, lat = shapely.get_x(centre), shapely.get_y(centre)
    zones = gk6_zone(lon)
    # within a zone, geometries in cell order: tree searches of neighbours share their paths
    order = np.lexsort((np.floor(lon / _CELL), np.floor(lat / _CELL), zones))
    ok, zones = ok[order], zones[order]
    for zone in np.unique(zones):
        measure = _Zone(index, crs, int(zone))
        sel = ok[zones == zone]
        far: list[np.ndarray] = []
        for start in range(0, len(sel), _CHUNK):
            rows = sel[start:start + _CHUNK]
            out[rows], rest = _chunk(_Leads(geoms[rows], measure), index, measure)
            far.append(rows[rest])
        rows = np.concatenate(far)
        if len(rows):
            out[rows] = _far(_Leads(geoms[rows], measure), index, measure)
    return out


class _Leads:
    """Geometries of one zone: lon/lat boxes, and projected points or shapes."""

    def __init__(self, g: np.ndarray, measure: _Zone) -> None:
        n = len(g)
        self.n = n
        self.points = shapely.get_type_id(g) == _POINT
        self.px = np.full(n, np.nan)
        self.py = np.full(n, np.nan)
        pts = self.points
        if pts.any():
            self.px[pts], self.py[pts] = measure.trans.transform(shapely.get_x(g[pts]),
                                                                 shapely.get_y(g[pts]))
        self.shapes = np.empty(n, dtype=object)
        if (~pts).any():
            self.shapes[~pts] = measure.project(g[~pts])
        box = shapely.bounds(g)
        # a patch's projected edges bend away from its lon/lat edges as a piece's do
        box += np.array([-1.0, -1.0, 1.0, 1.0]) * (
            _BEND * ((box[:, 2] - box[:, 0]) ** 2 + (box[:, 3] - box[:, 1]) ** 2))[:, None]
        self.box = box
        self.lat0 = np.maximum(np.abs(box[:, 1]), np.abs(box[:, 3]))
        self.lonlat = g
        self.measure = measure

    def exact(self, lead: np.ndarray, piece: np.ndarray) -> np.ndarray:
        """Per lead, the least exact distance to its candidate pieces (inf for none)."""
        return self.measure.distances(lead, piece, self.points, self.px, self.py, self.shapes,
                                      self.n)

    def projected(self) -> np.ndarray:
        """The geometries in the zone's projection (points made from ``px, py``)."""
        geoms = self.shapes.copy()
        geoms[self.points] = shapely.points(self.px[self.points], self.py[self.points])
        return geoms

    def band(self, bound: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Half sizes in degrees (lon, lat) of the box a path of ``bound`` metres stays in,
        and the band's highest latitude."""
        h_lat = bound / _M_PER_DEG
        lat_hi = np.minimum(self.lat0 + h_lat, 89.9)
        h_lon = bound / (_M_PER_DEG * np.cos(np.radians(lat_hi)))
        return h_lon, h_lat, lat_hi


def _chunk(leads: _Leads, index: SegmentIndex, measure: _Zone) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    """Distances of one zone's geometries near the lines, and the positions of the others.

    The pieces within ``_START`` degrees of a geometry give candidates; the exact distance
    to the likeliest of them bounds the distance, and :func:`_finish` measures the pieces
    that bound allows when they all lie in the searched box, or in a box the bound gives
    when it is under ``_WIDE`` degrees. The other geometries (far from every line) are left
    to :func:`_far` (their distances here are inf).
    """
    n, box, exact = leads.n, leads.box, leads.exact
    out = np.full(n, np.inf)
    # the pieces within _START degrees are candidates
    k, piece = _query(index, box, _START, _START)
    if not len(k):
        return out, np.arange(n)
    # an upper bound: the exact distance to the piece of least gap (in a rough metric)
    low = _gap(index, box, k, piece, np.minimum(leads.lat0[k] + _START, 89.9))
    order = np.lexsort((low, k))
    lead, piece = k[order], piece[order]
    first = np.ones(len(lead), dtype=bool)
    first[1:] = lead[1:] != lead[:-1]
    bound = np.full(n, np.inf)
    bound[lead[first]] = exact(lead[first], piece[first])[lead[first]]
    # every piece that may be nearer lies in the box this bound gives: is it searched?
    h_lon, h_lat, lat_hi = leads.band(bound)
    covered = (h_lat <= _START) & (h_lon <= _START)
    inner = covered[lead]
    out = np.minimum(out, _finish(index, box, lead[inner], piece[inner], bound, lat_hi, exact))
    # a bound reaching a little further: search the box it gives
    wider = np.flatnonzero(~covered & (h_lat <= _WIDE) & (h_lon <= _WIDE))
    if len(wider):
        k, piece = _query(index, box[wider], h_lon[wider], h_lat[wider])
        out = np.minimum(out, _finish(index, box, wider[k], piece, bound, lat_hi, exact))
        covered[wider] = True
    return out, np.flatnonzero(~covered)


def _far(leads: _Leads, index: SegmentIndex, measure: _Zone) -> np.ndarray:
    """Distances of one zone's geometries far from every line (nothing within ``_START``).

    The geometries are grouped by cells of :data:`_CELL` degrees; the piece nearest in
    degrees to a cell's centre (an ``STRtree`` of the pieces' boxes, one query per cell)
    gives each geometry of the cell an upper bound, the exact distance to it; every nearer
    piece lies in the box that bound gives. Only the pieces meeting one of those boxes
    (:meth:`SegmentIndex.meeting`) are projected to the zone, and the nearest of them is
    found in the projection (a second ``STRtree``), as GEOS measures it.
    """
    centre = (leads.box[:, :2] + leads.box[:, 2:]) / 2
    cell = np.floor(centre / _CELL).astype("int64")
    cells, which = np.unique(cell, axis=0, return_inverse=True)
    (at, piece) = index.tree.query_nearest(shapely.points((cells + 0.5) * _CELL),
                                           all_matches=False)
    nearest = np.zeros(len(cells), dtype="int64")
    nearest[at] = piece
    bound = leads.exact(np.arange(leads.n), nearest[which.reshape(-1)])
    h_lon, h_lat, _ = leads.band(bound)
    grow = np.column_stack([-h_lon, -h_lat, h_lon, h_lat]) + np.array(
        [-1.0, -1.0, 1.0, 1.0]) * index.max_margin
    near = index.meeting(leads.box + grow)
    log.debug("zone %d: %d far geometries, %d of %d pieces projected", measure.zone,
              leads.n, len(near), len(index))
    return np.minimum(bound, measure.nearest(leads.projected(), near))


def _query(index: SegmentIndex, box: np.ndarray, h_lon: np.ndarray | float,
           h_lat: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Pieces whose (bent) extent may meet ``box`` grown by ``h_lon``, ``h_lat`` degrees."""
    grow = np.column_stack(np.broadcast_arrays(-h_lon, -h_lat, h_lon, h_lat)[:4])
    wide = box + grow + np.array([-1.0, -1.0, 1.0, 1.0]) * index.max_margin
    return index.tree.query(shapely.box(*wide.T))


def _gap(index: SegmentIndex, box: np.ndarray, lead: np.ndarray, piece: np.ndarray,
         lat_hi: np.ndarray) -> np.ndarray:
    """Metres between the boxes of leads and pieces at the least scale of a latitude band.

    A lower bound on the distance of any path that stays within ``|lat| <= lat_hi``
    (``lat_hi`` per pair): a Gauss-Krüger distance is never shorter than the geodesic.
    """
    pb, lb = index.bounds[piece], box[lead]
    gap_lon = np.maximum(0.0, np.maximum(pb[:, 0] - lb[:, 2], lb[:, 0] - pb[:, 2]))
    gap_lat = np.maximum(0.0, np.maximum(pb[:, 1] - lb[:, 3], lb[:, 1] - pb[:, 3]))
    return _M_PER_DEG * np.hypot(gap_lat, gap_lon * np.cos(np.radians(lat_hi)))


def _finish(index: SegmentIndex, box: np.ndarray, lead: np.ndarray, piece: np.ndarray,
            bound: np.ndarray, lat_hi: np.ndarray, exact: object) -> np.ndarray:
    """Least exact distance per lead over the candidate pieces the ``bound`` allows.

    ``lat_hi`` is the band a path shorter than ``bound`` stays in, so a candidate whose
    :func:`_gap` exceeds the bound cannot be nearer. The likeliest piece is measured first
    and tightens the bound before the rest are pruned and measured.
    """
    out = np.full(len(bound), np.inf)
    if not len(lead):
        return out
    out[lead] = bound[lead]
    low = _gap(index, box, lead, piece, lat_hi[lead])
    keep = low <= bound[lead]
    lead, piece, low = lead[keep], piece[keep], low[keep]
    order = np.lexsort((low, lead))
    lead, piece, low = lead[order], piece[order], low[order]
    first = np.ones(len(lead), dtype=bool)
    first[1:] = lead[1:] != lead[:-1]
    out = np.minimum(out, exact(lead[first], piece[first]))  # type: ignore[operator]
    rest = ~first & (low <= out[lead])
    return np.minimum(out, exact(lead[rest], piece[rest]))  # type: ignore[operator]
