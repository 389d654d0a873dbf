"""The published map at 10^3..10^5 leads: file size, build time, load time in Chromium.

Usage::

    python -m benchmarks.bench_map [--sizes 1e3,1e4,1e5] [--history] [--repeat N]
    python benchmarks/bench_map.py --sizes 1e5

Synthetic leads (points and small patches over Jilin, every status, nine activity types,
six batches, twenty reserves with zones, a distinct area each) are written with
:func:`webmap.map.build.write_map` and opened from disk in Debian's Chromium (headless,
software rendering). *load* runs from navigation until ``window.lvdunMap`` exists and the
next frame is painted; *filter* is one status filter applied and cleared again through
the page's filter panel; *heap* is Chromium's used JS heap after loading; *cells* the lead
aggregates drawn at the opening view (above 5,000 leads, below zoom 12; 0: the leads).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.schema import ACTIVITY_TYPES, Status

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ZONES = ["core", "buffer", "experimental", "core_protection", "general_control", "outside"]
ZONE_LABELS = ["核心区", "缓冲区", "实验区", "核心保护区", "一般控制区", "保护区外"]
BOX = (124.0, 41.5, 130.0, 45.5)  # Jilin, roughly


@dataclass
class Row:
    """One map size."""

    leads: int
    history: bool
    megabytes: float
    write_s: float
    load_s: float | None = None
    filter_s: float | None = None
    heap_mb: float | None = None
    cells: int | None = None
    note: str = ""


def synthetic(n: int, *, seed: int = 7) -> dict[str, gpd.GeoDataFrame]:
    """Leads and reserve zones as :func:`webmap.map.build.build_map` takes them (synthetic)."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = BOX
    xs = rng.uniform(minx, maxx, n)
    ys = rng.uniform(miny, maxy, n)
    patch = rng.random(n) < 0.2
    geoms = np.array(shapely.points(xs, ys), dtype=object)
    k = np.flatnonzero(patch)
    angles = np.linspace(0, 2 * np.pi, 9)[:-1]
    radius = rng.uniform(0.0008, 0.003, len(k))
    rings = np.stack([np.column_stack([xs[k][i] + radius[i] * np.cos(angles),
                                       ys[k][i] + 0.7 * radius[i] * np.sin(angles)])
                      for i in range(len(k))]) if len(k) else np.empty((0, 8, 2))
    geoms[k] = shapely.polygons(rings)
    subtypes = [s for subs in ACTIVITY_TYPES.values() for s in subs] + ["农业用地", "居民点"]
    statuses = [s.value for s in Status]
    reserve = rng.integers(0, 20, n)
    zone = rng.integers(0, len(ZONES), n)
    overlaps = [json.dumps([{"reserve_code": f"R{r:02d}", "reserve_name": f"保护区{r:02d}",
                             "zone": ZONES[z], "share": 1.0}], ensure_ascii=False)
                for r, z in zip(reserve, zone, strict=True)]
    leads = gpd.GeoDataFrame({
        "lead_id": [f"C2206{i:012d}" for i in range(n)],
        "batch": rng.choice(["2022-H1", "2022-H2", "2023-H1", "2023-H2", "2024-H1", "2024-H2"],
                            n),
        "activity_type": rng.choice(subtypes, n),
        "change_type": rng.choice(["新增", "扩大"], n),
        "status": rng.choice(statuses, n, p=[0.4, 0.1, 0.2, 0.1, 0.1, 0.05, 0.05]),
        "reserve_name": [None if ZONES[z] == "outside" else f"保护区{r:02d}"
                         for r, z in zip(reserve, zone, strict=True)],
        "zone": [ZONES[z] for z in zone],
        "zone_label": [ZONE_LABELS[z] for z in zone],
        "overlaps": overlaps,
        "county_name": [f"县{c:02d}" for c in rng.integers(0, 30, n)],
        "area_m2": rng.uniform(200, 50_000, n).round(1),
        "dist_boundary_m": rng.uniform(0, 5_000, n).round(0),
        "note": [None if rng.random() > 0.05 else "复核：现场有施工痕迹" for _ in range(n)],
    }, geometry=geoms, crs="EPSG:4490")
    centres = rng.uniform([minx, miny], [maxx, maxy], (20, 2))
    zones = []
    for r, (x, y) in enumerate(centres):
        for z, size in enumerate((0.05, 0.12, 0.2)):
            zones.append((f"R{r:02d}", f"保护区{r:02d}", "national", ZONES[z],
                          shapely.box(x - size, y - size, x + size, y + size)))
    reserves = gpd.GeoDataFrame(zones, columns=["reserve_code", "reserve_name", "level", "zone",
                                                "geometry"], crs="EPSG:4490")
    return {"leads": leads, "reserves": reserves}


def history_rows(leads: gpd.GeoDataFrame, *, seed: int = 7) -> pd.DataFrame:
    """Two or three history entries per lead, at random times by 12 people (synthetic)."""
    rng = np.random.default_rng(seed)
    people = [f"核查员{k:02d}" for k in range(12)]
    rows = []
    for lead in leads["lead_id"]:
        day, hour = rng.integers(1, 28), rng.integers(8, 18)
        rows.append((lead, "2024-05-01T08:00:00+00:00", "ingest", None, "pending", "新线索"))
        rows.append((lead, f"2024-06-{day:02d}T{hour:02d}:{rng.integers(60):02d}:00+00:00",
                     rng.choice(people), "pending", "in_field", None))
        if rng.random() < 0.5:
            rows.append((lead, f"2024-07-{day:02d}T{hour:02d}:{rng.integers(60):02d}:00+00:00",
                         rng.choice(people), "in_field", "problem", None))
    return pd.DataFrame(rows, columns=["lead_id", "at", "by", "from_status", "to_status",
                                       "reason"])


def measure(path: Path, browser: object) -> tuple[float, float, float, int]:
    """Load ``path`` in a new page: (load seconds, filter seconds, JS heap MB, cells drawn).

    *cells* are the lead aggregates drawn at the opening view (0: the leads themselves).
    """
    page = browser.new_page()  # type: ignore[attr-defined]
    try:
        start = time.perf_counter()
        page.goto(path.as_uri(), timeout=600_000)
        page.wait_for_function("window.lvdunMap !== undefined", timeout=600_000)
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        load = time.perf_counter() - start
        start = time.perf_counter()
        page.evaluate("lvdunMap.setFilter('status', ['problem']); "
                      "lvdunMap.setFilter('status', null); 0")
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        filtering = time.perf_counter() - start
        heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0")
        cells = page.evaluate("lvdun.aggregates && lvdun.aggregates.active() ? "
                              "lvdun.aggregates.cells() : 0")
        return load, filtering, heap / 1e6, cells
    finally:
        page.close()


def run(sizes: list[int], *, history: bool, repeat: int) -> list[Row]:
    """Write and load a map at every size; return the table rows."""
    from webmap.map.build import write_map

    rows: list[Row] = []
    browser_cm = None
    browser = None
    if CHROMIUM.exists():
        from playwright.sync_api import sync_playwright

        browser_cm = sync_playwright()
        browser = browser_cm.__enter__().chromium.launch(executable_path=str(CHROMIUM),
                                                         args=ARGS)
    try:
        with tempfile.TemporaryDirectory(prefix="lvdun-bench-map-") as tmp:
            for n in sizes:
                print(f"  {n:>9,} leads ...", file=sys.stderr, flush=True)
                frames = synthetic(n)
                extra = {"history": history_rows(frames["leads"])} if history else {}
                path = Path(tmp) / f"map_{n}.html"
                start = time.perf_counter()
                write_map(path, **frames, **extra)
                row = Row(n, history, path.stat().st_size / 1e6, time.perf_counter() - start)
                if browser is None:
                    row.note = f"no Chromium at {CHROMIUM}"
                else:
                    best = min((measure(path, browser) for _ in range(repeat)),
                               key=lambda t: t[0])
                    row.load_s, row.filter_s, row.heap_mb, row.cells = best
                rows.append(row)
    finally:
        if browser is not None:
            browser.close()  # type: ignore[attr-defined]
        if browser_cm is not None:
            browser_cm.__exit__(None, None, None)
    return rows


def render(rows: list[Row], title: str, caption: str) -> None:
    """Print the table (rich)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, caption=caption)
    for name in ("leads", "history", "file MB", "write s", "load s", "filter s", "JS heap MB",
                 "cells", "note"):
        table.add_column(name, justify="left" if name in {"history", "note"} else "right")

    def fmt(value: float | None, digits: int = 2) -> str:
        return "—" if value is None else f"{value:,.{digits}f}"

    for r in rows:
        table.add_row(f"{r.leads:,}", "yes" if r.history else "no", fmt(r.megabytes, 1),
                      fmt(r.write_s), fmt(r.load_s), fmt(r.filter_s), fmt(r.heap_mb, 0),
                      "—" if r.cells is None else f"{r.cells:,}", r.note)
    Console(width=160).print(table)


def _sizes(text: str) -> list[int]:
    return [int(float(v)) for v in text.split(",") if v.strip()]


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=_sizes, default=[1_000, 10_000, 100_000],
                        help="comma-separated lead counts (default 1e3,1e4,1e5)")
    parser.add_argument("--history", action="store_true",
                        help="also write 2-3 history entries per lead into the popups")
    parser.add_argument("--repeat", type=int, default=1,
                        help="loads per size; the fastest counts (default 1)")
    args = parser.parse_args(argv)
    rows = run(args.sizes, history=False, repeat=args.repeat)
    if args.history:
        rows += run(args.sizes, history=True, repeat=args.repeat)
    import platform

    render(rows, "The published map (one self-contained HTML file) in Chromium",
           f"{platform.processor() or platform.machine()}, headless Chromium with software "
           f"rendering (--disable-gpu); fastest of {args.repeat} load(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
