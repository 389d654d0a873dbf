"""One peer per process: load the inputs, time the join, report seconds, peak RSS, pairs.

Run as ``python -m benchmarks._peers PEER WORKDIR REPEAT DSN``; the parent reads one JSON
line from stdout and the pairs from ``WORKDIR/PEER.npz``. Loading the inputs into each
peer's own structures (geometries, GeoDataFrames, DuckDB or PostGIS tables) is not timed;
building indexes, preparing, subdividing and joining is. With ``REPEAT > 1`` the timed part
runs again on fresh inputs (nothing cached from the last run) and the fastest run counts;
the first run of a process is "cold" (fresh memory, first calls).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely

__all__ = ["LABELS", "PEERS", "main"]

PEERS = ("lvdun", "geopandas", "strtree", "duckdb", "postgis", "sedonadb")
LABELS = {
    "lvdun": "lvdun geo.overlay.intersects_pairs",
    "geopandas": "geopandas.sjoin (intersects)",
    "strtree": "shapely STRtree on points, polygons prepared",
    "duckdb": "DuckDB spatial ST_Intersects join",
    "postgis": "PostGIS ST_Subdivide(256) + GiST + ST_Intersects",
    "sedonadb": "SedonaDB ST_Intersects join",
}
_Result = tuple[float, np.ndarray, np.ndarray, str]  # fastest seconds, pairs, note


class Unavailable(RuntimeError):
    """The peer cannot run here; the message says why."""


def _peak_rss_mb() -> float:
    """Peak resident set size of this process (``VmHWM``), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    import resource  # pragma: no cover - not Linux

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # pragma: no cover


def _lvdun(x: np.ndarray, y: np.ndarray, wkb: np.ndarray, dsn: str, repeat: int) -> _Result:
    from geo.overlay import intersects_pairs

    # the engine's compiled kernels load from numba's on-disk cache (or compile, on the
    # first run after an install) at their first call: done before timing, and reported
    t = time.perf_counter()
    rng = np.random.default_rng(0)
    intersects_pairs(shapely.points(rng.uniform(0, 1, (500, 2))),
                     [shapely.box(0.1, 0.1, 0.9, 0.9)])
    warm = time.perf_counter() - t
    pts, polys = shapely.points(x, y), shapely.from_wkb(wkb)
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        i, j = intersects_pairs(pts, polys)
        best = min(best, time.perf_counter() - t)
    return best, i, j, (f"exact grid; kernels loaded in {warm:.2f} s, untimed; prepared "
                        "STRtree under 1 point per 100 vertices")


def _geopandas(x: np.ndarray, y: np.ndarray, wkb: np.ndarray, dsn: str,
               repeat: int) -> _Result:
    import geopandas as gpd

    best = float("inf")
    for _ in range(repeat):  # fresh frames: no spatial index cached from the last run
        left = gpd.GeoDataFrame(geometry=shapely.points(x, y), crs=4326)
        right = gpd.GeoDataFrame(geometry=shapely.from_wkb(wkb), crs=4326)
        t = time.perf_counter()
        out = gpd.sjoin(left, right, predicate="intersects", how="inner")
        best = min(best, time.perf_counter() - t)
    return best, out.index.to_numpy(), out["index_right"].to_numpy(), ""


def _strtree(x: np.ndarray, y: np.ndarray, wkb: np.ndarray, dsn: str, repeat: int) -> _Result:
    best = float("inf")
    for _ in range(repeat):  # fresh geometries: none prepared by the last run
        pts, polys = shapely.points(x, y), shapely.from_wkb(wkb)
        t = time.perf_counter()
        tree = shapely.STRtree(pts)
        shapely.prepare(polys)
        j, i = tree.query(polys, predicate="intersects")
        best = min(best, time.perf_counter() - t)
    return best, i, j, "tree and preparation timed"


def _duckdb_extension() -> Path:
    try:
        import duckdb  # noqa: F401
        import duckdb_ext
    except ImportError as exc:
        raise Unavailable(f"pip install duckdb==1.4.4 duckdb-ext-spatial ({exc})") from exc
    for root in duckdb_ext.__path__:
        found = sorted(Path(root).rglob("spatial.duckdb_extension"))
        if found:
            return found[-1]
    raise Unavailable("duckdb-ext-spatial holds no spatial.duckdb_extension for this platform")


def _duckdb(x: np.ndarray, y: np.ndarray, wkb: np.ndarray, dsn: str, repeat: int) -> _Result:
    extension = _duckdb_extension()
    import duckdb
    import pandas as pd

    con = duckdb.connect()
    try:
        con.execute(f"LOAD '{extension}'")
    except duckdb.Error as exc:
        raise Unavailable(f"cannot load {extension.name}: {exc}") from exc
    points = pd.DataFrame({"id": np.arange(len(x)), "x": x, "y": y})
    polygons = pd.DataFrame({"id": np.arange(len(wkb)), "wkb": pd.Series(list(wkb),
                                                                          dtype=object)})
    con.register("points_df", points)
    con.register("polygons_df", polygons)
    con.execute("CREATE TABLE pts AS SELECT id, ST_Point(x, y) AS geom FROM points_df")
    con.execute("CREATE TABLE polys AS SELECT id, ST_GeomFromWKB(wkb) AS geom "
                "FROM polygons_df")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        got = con.execute("SELECT p.id AS i, z.id AS j FROM pts p JOIN polys z "
                          "ON ST_Intersects(p.geom, z.geom)").fetchnumpy()
        best = min(best, time.perf_counter() - t)
    return best, np.asarray(got["i"]), np.asarray(got["j"]), (
        f"duckdb {duckdb.__version__}, {threads} threads")


def _postgis(x: np.ndarray, y: np.ndarray, wkb: np.ndarray, dsn: str, repeat: int) -> _Result:
    try:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict, make_conninfo
    except ImportError as exc:  # pragma: no cover - psycopg is a project dependency
        raise Unavailable(f"psycopg is not installed ({exc})") from exc
    params = conninfo_to_dict(dsn)
    dbname = params.get("dbname", "lvdun_bench")
    try:
        with psycopg.connect(make_conninfo(dsn, dbname="postgres"), autocommit=True,
                             connect_timeout=5) as admin:
            if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                 (dbname,)).fetchone():
                admin.execute(f'CREATE DATABASE "{dbname}"')
        con = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        raise Unavailable(f"no PostgreSQL server at {dsn}: {str(exc).strip()[:80]}") from exc
    with con:
        try:
            con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except psycopg.Error as exc:
            raise Unavailable(f"PostGIS is not installed on the server: {exc}") from exc
        version = con.execute("SELECT postgis_lib_version()").fetchone()[0]
        con.execute("DROP TABLE IF EXISTS bench_xy, bench_wkb, bench_pts, bench_polys, "
                    "bench_sub")
        con.execute("CREATE UNLOGGED TABLE bench_xy (id int, x float8, y float8)")
        con.execute("CREATE UNLOGGED TABLE bench_wkb (id int, wkb bytea)")
        with con.cursor().copy("COPY bench_xy (id, x, y) FROM STDIN") as copy:
            # str(float64) is the shortest text that reads back to the same number
            for start in range(0, len(x), 100_000):
                sl = slice(start, start + 100_000)
                copy.write("".join(f"{k}\t{a!r}\t{b!r}\n" for k, a, b in zip(
                    range(start, start + len(x[sl])), x[sl].tolist(), y[sl].tolist(),
                    strict=True)))
        with con.cursor().copy("COPY bench_wkb (id, wkb) FROM STDIN") as copy:
            for k, blob in enumerate(wkb):
                copy.write_row((k, blob))
        con.execute("CREATE UNLOGGED TABLE bench_pts AS SELECT id, "
                    "ST_SetSRID(ST_MakePoint(x, y), 4326) AS geom FROM bench_xy")
        con.execute("CREATE UNLOGGED TABLE bench_polys AS SELECT id, "
                    "ST_SetSRID(ST_GeomFromWKB(wkb), 4326) AS geom FROM bench_wkb")
        con.execute("ANALYZE bench_pts")
        best = float("inf")
        for _ in range(repeat):
            con.execute("DROP TABLE IF EXISTS bench_sub")
            t = time.perf_counter()
            con.execute("CREATE UNLOGGED TABLE bench_sub AS SELECT id, "
                        "ST_Subdivide(geom, 256) AS geom FROM bench_polys")
            con.execute("CREATE INDEX ON bench_sub USING gist (geom)")
            con.execute("ANALYZE bench_sub")
            rows = con.execute("SELECT DISTINCT p.id, s.id FROM bench_pts p "
                               "JOIN bench_sub s ON ST_Intersects(p.geom, s.geom)").fetchall()
            best = min(best, time.perf_counter() - t)
        con.execute("DROP TABLE IF EXISTS bench_xy, bench_wkb, bench_pts, bench_polys, "
                    "bench_sub")
    got = np.array(rows, dtype=np.int64).reshape(-1, 2)
    return best, got[:, 0], got[:, 1], f"PostGIS {version}; server memory not counted"


def _sedonadb(x: np.ndarray, y: np.ndarray, wkb: np.ndarray, dsn: str,
              repeat: int) -> _Result:
    try:
        import sedonadb
    except ImportError as exc:
        raise Unavailable(f"pip install sedonadb pyarrow geoarrow-pyarrow ({exc})") from exc
    import geopandas as gpd

    ctx = sedonadb.connect()
    ctx.create_data_frame(gpd.GeoDataFrame({"id": np.arange(len(x))},
                                           geometry=shapely.points(x, y), crs=4326)
                          ).to_view("pts")
    ctx.create_data_frame(gpd.GeoDataFrame({"id": np.arange(len(wkb))},
                                           geometry=shapely.from_wkb(wkb), crs=4326)
                          ).to_view("polys")
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        got = ctx.sql("SELECT p.id AS i, z.id AS j FROM pts p JOIN polys z "
                      "ON ST_Intersects(p.geometry, z.geometry)").to_arrow_table()
        best = min(best, time.perf_counter() - t)
    return best, got["i"].to_numpy(), got["j"].to_numpy(), (
        f"sedonadb {getattr(sedonadb, '__version__', '?')}, in process")


def _patch_areas(patches: np.ndarray, wkb: np.ndarray, repeat: int) -> _Result:
    """Patch polygons against polygons: an STRtree of the polygons, prepared, queried with
    every patch, then the area of each intersecting pair (in degrees: no projection)."""
    best = float("inf")
    i = j = np.empty(0, dtype=np.int64)
    for _ in range(repeat):  # fresh geometries: none prepared by the last run
        leads, polys = shapely.from_wkb(patches), shapely.from_wkb(wkb)
        t = time.perf_counter()
        tree = shapely.STRtree(polys)
        shapely.prepare(polys)
        i, j = tree.query(leads, predicate="intersects")
        shapely.area(shapely.intersection(leads[i], polys[j]))
        best = min(best, time.perf_counter() - t)
    return best, i, j, "tree, preparation, query and pair intersection areas timed"


RUNNERS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray, str, int], _Result]] = {
    "lvdun": _lvdun, "geopandas": _geopandas, "strtree": _strtree, "duckdb": _duckdb,
    "postgis": _postgis, "sedonadb": _sedonadb,
}


def main(argv: list[str]) -> int:
    """Run one peer ``repeat`` times on ``workdir``'s inputs; print one JSON line."""
    peer, workdir, repeat, dsn = argv[0], Path(argv[1]), int(argv[2]), argv[3]
    wkb = np.load(workdir / "polygons.wkb.npy", allow_pickle=True)
    try:
        if peer == "patch_areas":  # the patch leads of ``bench_classify --patches``
            patches = np.load(workdir / "patches.wkb.npy", allow_pickle=True)
            best, i, j, note = _patch_areas(patches, wkb, repeat)
        else:
            x, y = np.load(workdir / "x.npy"), np.load(workdir / "y.npy")
            best, i, j, note = RUNNERS[peer](x, y, wkb, dsn, repeat)
    except Unavailable as exc:
        print(json.dumps({"unavailable": str(exc)}))
        return 0
    i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    order = np.lexsort((j, i))
    np.savez(workdir / f"{peer}.npz", i=i[order], j=j[order])
    print(json.dumps({"seconds": best, "peak_rss_mb": _peak_rss_mb(), "pairs": len(i),
                      "note": note}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
