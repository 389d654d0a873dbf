"""The whole ``lvdun export --by reserve`` command on a province-sized workspace.

Usage::

    python -m benchmarks.bench_export [--leads 17002] [--reserves 31] [--formats xlsx,packet]
    python benchmarks/bench_export.py --leads 3000 --reserves 8

A GeoPackage workspace is built in code (synthetic, seeded): ``--reserves`` reserves over
Jilin, each a star-shaped outline of 3,000 vertices with nested zone rings (three zones,
or two for the newer system), 50 to 2,000 km², so that a reserve's zones weigh what a
surveyed boundary does; ``--leads`` leads, 15 % outside every reserve, the rest inside
zones (denser in the outer zones and in the larger reserves), 60 % points and 40 %
patches of 0.02 to 20 ha; counties as Voronoi cells of Jilin's county seats. The
workspace is ingested and classified in this process, untimed.

Then each row of the table is one ``lvdun export --by reserve`` run as a subprocess,
with its wall seconds, its peak RSS (``VmHWM``, of the lvdun process; Chromium's
processes not counted) and the megabytes and files it wrote:

``xlsx``
    the ledgers only (``--format xlsx``);
``packet``
    the ledgers and the packets (``--format xlsx --format packet``: ledger, GPKG, KML,
    ``核查单.html`` and, where Chromium is installed, ``核查单.pdf``, folder and zip);
``all``
    every format with the packets (``--format xlsx csv gpkg shp kml geojson packet``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from benchmarks.bench_classify import LVDUN, timed

ROOT = Path(__file__).resolve().parents[1]
BOX = (122.5, 41.8, 129.8, 45.8)  # Jilin, roughly
ROWS = {
    "xlsx": ["xlsx"],
    "packet": ["xlsx", "packet"],
    "all": ["xlsx", "csv", "gpkg", "shp", "kml", "geojson", "packet"],
}
_OLD = ("核心区", "缓冲区", "实验区")
_NEW = ("核心保护区", "一般控制区")
_ACTIVITIES = ("矿产资源开发", "工业开发", "能源开发", "旅游开发", "交通开发", "养殖",
               "农业开发", "居民点", "其他")
_VERTICES = 3000


@dataclass
class Row:
    """One export run."""

    name: str
    seconds: float
    peak_rss_mb: float
    megabytes: float
    files: int
    note: str = ""


def build_workspace(path: Path, *, leads: int, reserves: int, seed: int = 15) -> None:
    """Write a synthetic, classified GeoPackage workspace at ``path`` (see the module doc).

    Parameters
    ----------
    path : pathlib.Path
        The workspace to create (a ``.gpkg``; removed first when present).
    leads, reserves : int
        How many leads and reserves.
    seed : int
        Seed of every random draw.
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    from pipelines.classify.job import classify
    from pipelines.demo.data import COUNTY_SEATS
    from pipelines.demo.shapes import (
        TAU,
        county_index,
        ea_to_lonlat,
        lonlat_to_ea,
        make_blob,
        patch_polygons,
    )
    from pipelines.ingest.files import ingest
    from pipelines.store import GeoPackageWorkspace

    rng = np.random.default_rng(seed)
    path.unlink(missing_ok=True)
    work = path.parent
    # reserves on a jittered grid over the box, never overlapping
    cols = int(np.ceil(np.sqrt(reserves * 1.6)))
    rows_n = int(np.ceil(reserves / cols))
    xs = np.linspace(BOX[0], BOX[2], cols + 2)[1:-1]
    ys = np.linspace(BOX[1], BOX[3], rows_n + 2)[1:-1]
    cells = [(x, y) for y in ys for x in xs][:reserves]
    spacing_m = min((BOX[2] - BOX[0]) / (cols + 1) * 80_000, (BOX[3] - BOX[1]) / (rows_n + 1)
                    * 111_000)
    max_km2 = min(2000.0, np.pi * (spacing_m * 0.33) ** 2 / 1e6)
    areas = np.exp(rng.uniform(np.log(50.0), np.log(max_km2), reserves))
    blobs, zone_rows = [], []
    for k, ((lon, lat), km2) in enumerate(zip(cells, areas, strict=True)):
        zones = _OLD if k % 3 else _NEW
        centre = lonlat_to_ea(lon + rng.uniform(-0.1, 0.1), lat + rng.uniform(-0.05, 0.05))[0]
        blob = make_blob(rng, centre, km2 * 1e6, n=_VERTICES, zones=len(zones))
        blobs.append((blob, zones))
        rings = [ea_to_lonlat(blob.ring(f)) for f in (*blob.fractions, 1.0)]
        level = "国家级" if k % 2 == 0 else "省级"
        for j, zone in enumerate(zones):
            zone_rows.append({
                "保护区编码": f"JL{k + 1:03d}", "保护区名称": f"合成第{k + 1}号{level}自然保护区",
                "级别": level, "功能区": zone,
                "geometry": shapely.Polygon(rings[j], [rings[j - 1]] if j else None)})
    gpd.GeoDataFrame(zone_rows, geometry="geometry", crs=4490).to_file(
        work / "reserves.gpkg", layer="reserves", engine="pyogrio")
    # leads: 15 % outside, the rest in zones (the outer zones and larger reserves denser)
    n_out = round(0.15 * leads)
    weights = areas ** 0.7
    which = rng.choice(reserves, size=leads - n_out, p=weights / weights.sum())
    inside = np.empty((leads - n_out, 2))
    for i, (blob, zones) in enumerate(blobs):
        sel = np.flatnonzero(which == i)
        theta = rng.uniform(0.0, TAU, sel.size)
        probs = (0.06, 0.14, 0.80) if len(zones) == 3 else (0.12, 0.88)
        zone = rng.choice(len(probs), size=sel.size, p=probs)
        lo = np.array([blob.level(z, t) for z, t in zip(zone, theta, strict=True)])
        hi = np.array([blob.level(z + 1, t) for z, t in zip(zone, theta, strict=True)])
        lo, hi = np.where(lo > 0, lo + 0.01, 0.0), hi - 0.01
        inside[sel] = blob.point(theta, np.sqrt(rng.uniform(size=sel.size) * (hi**2 - lo**2)
                                                + lo**2))
    union = shapely.union_all(shapely.polygons([b.ring() for b, _ in blobs]))
    shapely.prepare(union)
    corner = lonlat_to_ea(np.array([BOX[0], BOX[2]]), np.array([BOX[1], BOX[3]]))
    outside = np.empty((0, 2))
    while len(outside) < n_out:
        cand = np.column_stack([rng.uniform(corner[0, 0], corner[1, 0], 4 * n_out),
                                rng.uniform(corner[0, 1], corner[1, 1], 4 * n_out)])
        cand = cand[~shapely.contains_xy(union, cand[:, 0], cand[:, 1])]
        outside = np.vstack([outside, cand])[:n_out]
    ea = np.vstack([inside, outside])[rng.permutation(leads)]
    patch = rng.uniform(size=leads) < 0.4
    geoms = shapely.points(ea_to_lonlat(ea))
    geoms[patch] = patch_polygons(rng, ea[patch], np.exp(rng.uniform(np.log(200.0),
                                                                     np.log(200_000.0),
                                                                     int(patch.sum()))))
    seats = lonlat_to_ea([s[3] for s in COUNTY_SEATS], [s[4] for s in COUNTY_SEATS])
    hull = shapely.buffer(shapely.box(*corner.ravel()), 50_000)
    counties = shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(seats), extend_to=hull, ordered=True))
    counties = shapely.transform(shapely.intersection(counties, hull), ea_to_lonlat)
    gpd.GeoDataFrame({"行政区划代码": [s[0] for s in COUNTY_SEATS],
                      "名称": [s[1] for s in COUNTY_SEATS], "级别": "county",
                      "市": [s[2] for s in COUNTY_SEATS], "省": "吉林省"},
                     geometry=counties, crs=4490).to_file(work / "admin.gpkg", layer="admin",
                                                         engine="pyogrio")
    adcodes = np.array([s[0] for s in COUNTY_SEATS])[county_index(
        shapely.centroid(geoms), counties)]
    gpd.GeoDataFrame({
        "线索编号": [f"C{c}2024{i + 1:06d}" for i, c in enumerate(adcodes)], "批次": "2024-H1",
        "活动类型": rng.choice(_ACTIVITIES, size=leads),
        "变化类型": np.where(rng.uniform(size=leads) < 0.75, "新增", "扩大"),
        "前时相": "2023-09-15", "后时相": "2024-05-20",
        "备注": pd.Series(["合成测试数据"] * leads)},
        geometry=geoms, crs=4490).to_file(work / "leads.gpkg", layer="leads", engine="pyogrio")
    with GeoPackageWorkspace(path) as ws:
        for layer in ("reserves", "admin", "leads"):
            ingest(ws, layer, work / f"{layer}.gpkg", by="bench")
        classify(ws)


def _written(folder: Path) -> tuple[float, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6, len(files)


def run(ws: Path, names: list[str], *, timeout: float) -> list[Row]:
    """Time one export per name of :data:`ROWS`; return the rows."""
    import shutil

    rows = []
    for name in names:
        out = ws.parent / f"exports-{name}"
        shutil.rmtree(out, ignore_errors=True)
        cmd = [*LVDUN, "-q", "-w", str(ws), "export", "--by", "reserve", "--out", str(out),
               *(a for f in ROWS[name] for a in ("--format", f))]
        print(f"  export {name} ...", file=sys.stderr, flush=True)
        seconds, rss, note = timed(cmd, cwd=ws.parent, timeout=timeout)
        megabytes, files = _written(out) if out.exists() else (0.0, 0)
        rows.append(Row(name, seconds, rss, megabytes, files, note))
    return rows


def render(rows: list[Row], title: str, caption: str) -> None:
    """Print the table (rich)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, caption=caption)
    for col in ("formats", "seconds", "peak RSS", "written", "files", "note"):
        table.add_column(col, justify="left" if col in ("formats", "note") else "right")
    for r in rows:
        table.add_row(" ".join(ROWS[r.name]), f"{r.seconds:.1f}", f"{r.peak_rss_mb:,.0f} MiB",
                      f"{r.megabytes:,.1f} MB", f"{r.files:,}", r.note)
    Console(width=160).print(table)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=17_002, help="leads (default 17002)")
    parser.add_argument("--reserves", type=int, default=31, help="reserves (default 31)")
    parser.add_argument("--formats", default="xlsx,packet",
                        help=f"comma-separated rows among {', '.join(ROWS)} "
                             "(default xlsx,packet)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="build (or reuse) the workspace in this folder and keep it")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="seconds allowed per export (default 3600)")
    args = parser.parse_args(argv)
    names = [n for n in args.formats.split(",") if n]
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        parser.error(f"unknown row {unknown[0]!r}; choose from {', '.join(ROWS)}")
    with tempfile.TemporaryDirectory(prefix="lvdun-bench-export-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        ws = folder / f"ws-{args.leads}-{args.reserves}.gpkg"
        if not ws.exists():
            print(f"  building {args.leads:,} leads in {args.reserves} reserves ...",
                  file=sys.stderr, flush=True)
            build_workspace(ws, leads=args.leads, reserves=args.reserves)
        rows = run(ws, names, timeout=args.timeout)
    from pipelines.publish.packet import find_chromium

    render(rows, f"lvdun export --by reserve, whole command: {args.leads:,} leads in "
                 f"{args.reserves} reserves (synthetic, {_VERTICES:,} vertices per zone ring)",
           f"{os.cpu_count()} cores; one run per row; wall seconds and peak RSS of the lvdun "
           f"process; PDF: {'Chromium' if find_chromium() else 'none (no Chromium)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
