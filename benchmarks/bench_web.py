"""The web app under load on loopback: latency percentiles, and no lost update.

Usage::

    python -m benchmarks.bench_web [--leads 3000] [--clients 50] [--seconds 30]
    python benchmarks/bench_web.py --seconds 10
    python -m benchmarks.bench_web --first-view 1e5,1e6 --viewers 50 --seconds 60

The synthetic demo workspace (``lvdun demo``) is served by ``lvdun serve`` in its own
process on a free loopback port. ``--clients`` concurrent clients (httpx.AsyncClient,
one connection each) run for ``--seconds``: a share of them are reserve editors, the
others admins; each loop either reads (a bbox page of ``/api/leads``, one lead, its
history, a vector tile, now and then the whole map layer) or updates (reads the lead,
then posts the next status with the version it saw). Updates go to a small hot set of
leads per reserve, so that clients collide and some updates are refused with 409.

The check: every update answered 200 appears exactly once in ``lead_history``, and every
lead's version grew by the number of its successful updates, i.e. no update was lost or
recorded twice. It is a benchmark, not a test: it prints one table and the check.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import numpy as np

from layers.schema import NOT_PROBLEM_REASONS

HOST = "127.0.0.1"


@dataclass
class Persona:
    """Who a client is: token, the leads it may update, the hot ones it updates."""

    name: str
    token: str
    leads: list[str]
    hot: list[str]


@dataclass
class Stats:
    """Latencies (seconds) per operation and the outcome of every update."""

    latency: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    codes: collections.Counter[tuple[str, int]] = field(default_factory=collections.Counter)
    updated: collections.Counter[str] = field(default_factory=collections.Counter)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def prepare(workdir: Path, n_leads: int, hot: int) -> tuple[Path, list[Persona]]:
    """Make the demo workspace and one admin plus one editor per reserve."""
    from pipelines.demo.run import run_demo
    from pipelines.store import open_workspace
    from pipelines.users import add_user

    result = run_demo(workdir / "demo", n_leads=n_leads)
    personas = []
    with open_workspace(result.workspace) as ws:
        klass = ws.read_table("lead_class")
        _, token = add_user(ws, "bench-admin", "admin")
        everything = sorted(klass["lead_id"])
        personas.append(Persona("admin", token, everything, everything[:hot]))
        for code, rows in klass.dropna(subset=["reserve_code"]).groupby("reserve_code"):
            _, token = add_user(ws, f"bench-{code}", "editor", reserves=[code])
            ids = sorted(rows["lead_id"])
            personas.append(Persona(f"editor {code}", token, ids, ids[:max(2, hot // 10)]))
    return result.workspace, personas


def start_server(workspace: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``lvdun serve`` in its own process; returns once it answers."""
    code = "from webmap.app.serve import serve_cmd; serve_cmd()"
    env = {**os.environ, "LVDUN_LOG_LEVEL": "warning"}
    process = subprocess.Popen(
        [sys.executable, "-c", code, "-w", str(workspace), "--host", HOST, "--port", str(port)],
        stdout=log.open("w"), stderr=subprocess.STDOUT, env=env,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://{HOST}:{port}/login", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the server did not start:\n{log.read_text()}")
        time.sleep(0.2)


def _tile(lon: float, lat: float, z: int) -> str:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2 * n)
    return f"/tiles/{z}/{x}/{y}.mvt"


async def _timed(stats: Stats, kind: str, call: object) -> httpx.Response:
    start = time.perf_counter()
    response = await call  # type: ignore[misc]
    stats.latency[kind].append(time.perf_counter() - start)
    stats.codes[(kind, response.status_code)] += 1
    return response


async def _update(client: httpx.AsyncClient, persona: Persona, rng: random.Random,
                  stats: Stats) -> None:
    lead = rng.choice(persona.hot)
    got = await _timed(stats, "GET lead", client.get(f"/api/leads/{lead}"))
    if got.status_code != 200:
        return
    body = got.json()
    options = body["allowed_next"]
    if not options:
        return
    choice = rng.choice(options)
    reason = None
    if choice["status"] == "not_problem":
        reason = rng.choice(NOT_PROBLEM_REASONS)
    elif choice["reason_required"]:
        reason = "复核"
    payload = {"status": choice["status"], "version": body["properties"]["version"],
               "reason": reason, "note": "bench"}
    if choice["status"] == "rectifying":  # entering 整改中 needs a rectification record
        payload.update(responsible_unit="某县林业和草原局", deadline="2025-12-31")
    posted = await _timed(stats, "POST status", client.post(f"/api/leads/{lead}/status",
                                                            json=payload))
    if posted.status_code == 200:
        stats.updated[lead] += 1


async def _read(client: httpx.AsyncClient, persona: Persona, rng: random.Random, stats: Stats,
                extent: tuple[float, float, float, float]) -> None:
    minx, miny, maxx, maxy = extent
    r = rng.random()
    if r < 0.35:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        bbox = f"{x - 0.15},{y - 0.1},{x + 0.15},{y + 0.1}"
        await _timed(stats, "GET leads bbox", client.get(f"/api/leads?bbox={bbox}&limit=200"))
    elif r < 0.6:
        await _timed(stats, "GET lead", client.get(f"/api/leads/{rng.choice(persona.leads)}"))
    elif r < 0.8:
        lead = rng.choice(persona.leads)
        await _timed(stats, "GET history", client.get(f"/api/leads/{lead}/history"))
    elif r < 0.97:
        path = _tile(rng.uniform(minx, maxx), rng.uniform(miny, maxy), rng.choice([8, 9, 10]))
        await _timed(stats, "GET tile", client.get(path))
    else:
        await _timed(stats, "GET map layer", client.get("/api/map/leads"))


async def load(base: str, personas: list[Persona], *, clients: int, seconds: float,
               write_share: float, extent: tuple[float, float, float, float],
               seed: int) -> tuple[Stats, float]:
    """Run the clients for ``seconds``; return the stats and the elapsed time."""
    stats = Stats()
    stop = time.monotonic() + seconds

    async def client_loop(k: int) -> None:
        # half the clients are admins on the admin's hot set, the others editors
        persona = personas[0] if k % 2 == 0 or len(personas) == 1 else \
            personas[1 + (k // 2) % (len(personas) - 1)]
        rng = random.Random(seed + k)
        headers = {"Authorization": f"Bearer {persona.token}"}
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60,
                                     limits=limits) as client:
            while time.monotonic() < stop:
                if rng.random() < write_share:
                    await _update(client, persona, rng, stats)
                else:
                    await _read(client, persona, rng, stats, extent)

    start = time.perf_counter()
    await asyncio.gather(*(client_loop(k) for k in range(clients)))
    return stats, time.perf_counter() - start


def _versions(workspace: Path) -> tuple[dict[str, int], int]:
    from pipelines.store import open_workspace

    with open_workspace(workspace) as ws:
        status = ws.read_table("lead_status")
        return dict(zip(status["lead_id"], status["version"].astype(int), strict=True)), \
            ws.count("lead_history")


def render(stats: Stats, elapsed: float, check: list[str], title: str, caption: str) -> None:
    """Print the latency table and the lost-update check."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, caption=caption)
    for name in ("operation", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms",
                 "answers"):
        table.add_column(name, justify="left" if name in {"operation", "answers"} else "right")
    total = 0
    for kind in sorted(stats.latency):
        values = np.array(stats.latency[kind]) * 1000
        total += len(values)
        p50, p90, p99 = np.percentile(values, [50, 90, 99])
        answers = ", ".join(f"{code}×{n}" for (k, code), n in sorted(stats.codes.items())
                            if k == kind)
        table.add_row(kind, f"{len(values):,}", f"{len(values) / elapsed:,.0f}", f"{p50:,.1f}",
                      f"{p90:,.1f}", f"{p99:,.1f}", f"{values.max():,.0f}", answers)
    table.add_row("all", f"{total:,}", f"{total / elapsed:,.0f}", "", "", "", "", "",
                  end_section=True)
    console = Console(width=160)
    console.print(table)
    for line in check:
        console.print(line)


def _rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def scale_table(n_leads: int, repeats: int = 20) -> int:
    """Zoomed-out map data at ``n_leads``: grid-cell counts against the whole leads layer.

    One ``lvdun serve`` on the demo workspace; as an admin, the national view's data:
    ``/api/map/cells`` at zoom 4 (first call builds the lead_keys index table; then warm,
    ``repeats`` times) beside ``/api/map/leads`` (today's capped GeoJSON, the peer) and a
    zoom-5 vector tile; wall time, bytes, and the server's RSS after each.
    """
    from rich.console import Console
    from rich.table import Table

    with tempfile.TemporaryDirectory(prefix="lvdun-bench-web-") as tmp:
        workdir = Path(tmp)
        print(f"preparing the demo workspace ({n_leads:,} leads) ...", file=sys.stderr)
        workspace, personas = prepare(workdir, n_leads, 10)
        from pipelines.store import open_workspace

        with open_workspace(workspace) as ws:
            west, south, east, north = ws.extent("leads") or (126.0, 42.0, 128.0, 44.0)
        port = _free_port()
        server = start_server(workspace, port, workdir / "serve.log")
        headers = {"Authorization": f"Bearer {personas[0].token}"}
        rows: list[tuple[str, float, int, float]] = []
        try:
            with httpx.Client(base_url=f"http://{HOST}:{port}", headers=headers,
                              timeout=600) as client:
                def timed(name: str, path: str) -> float:
                    start = time.perf_counter()
                    response = client.get(path)
                    elapsed = time.perf_counter() - start
                    response.raise_for_status()
                    rows.append((name, elapsed, len(response.content), _rss_mb(server.pid)))
                    return elapsed

                timed("cells z4, first (builds lead_keys)", "/api/map/cells?z=4")
                warm = [timed("cells z4, warm", "/api/map/cells?z=4") for _ in range(repeats)]
                timed("cells z4, status=problem", "/api/map/cells?z=4&status=problem")
                timed("leads layer (/api/map/leads, peer)", "/api/map/leads")
                timed("tile z5", _tile((west + east) / 2, (south + north) / 2, 5))
        finally:
            server.terminate()
            server.wait(timeout=30)
    table = Table(title=f"zoomed-out map data, {n_leads:,} leads (GeoPackage, admin)")
    for name in ("request", "ms", "bytes", "server RSS MB", "× warm cells"):
        table.add_column(name, justify="left" if name == "request" else "right")
    seen: set[str] = set()
    warm_ms = float(np.median(warm)) * 1000
    for name, elapsed, size, rss in rows:
        if name in seen:
            continue
        seen.add(name)
        ms = float(np.percentile(warm, 95)) * 1000 if name == "cells z4, warm" else elapsed * 1000
        label = f"{name} (p95 of {repeats})" if name == "cells z4, warm" else name
        table.add_row(label, f"{ms:,.1f}", f"{size:,}", f"{rss:,.0f}", f"{ms / warm_ms:,.1f}")
    Console(width=160).print(table)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=3000, help="demo leads (default 3000)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--seconds", type=float, default=30.0, help="duration (30 s)")
    parser.add_argument("--write-share", type=float, default=0.3,
                        help="share of loops that update a status (default 0.3)")
    parser.add_argument("--hot", type=int, default=100,
                        help="leads the admins update (editors: a tenth), default 100")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=int, default=0, metavar="N",
                        help="instead: the zoomed-out map data at N leads (scale_table)")
    parser.add_argument("--first-view", default="", metavar="SIZES",
                        help="instead: the page's first view in Chromium and viewers panning, "
                        "at these lead counts (e.g. 1e5,1e6; benchmarks/_web_view.py)")
    parser.add_argument("--viewers", type=int, default=50,
                        help="--first-view: viewers panning for --seconds (default 50)")
    args = parser.parse_args(argv)
    if args.scale:
        return scale_table(args.scale)
    if args.first_view:
        from benchmarks import _web_view

        rows = []
        for size in (int(float(v)) for v in args.first_view.split(",") if v.strip()):
            rows.append(_web_view.measure(size, viewers=args.viewers, seconds=args.seconds))
            _web_view.render(rows)
        return 0 if not any(r.errors for r in rows) else 1
    with tempfile.TemporaryDirectory(prefix="lvdun-bench-web-") as tmp:
        workdir = Path(tmp)
        print(f"preparing the demo workspace ({args.leads:,} leads) ...", file=sys.stderr)
        workspace, personas = prepare(workdir, args.leads, args.hot)
        versions, history = _versions(workspace)
        from pipelines.store import open_workspace

        with open_workspace(workspace) as ws:
            extent = ws.extent("leads") or (126.0, 42.0, 128.0, 44.0)
        port = _free_port()
        server = start_server(workspace, port, workdir / "serve.log")
        try:
            print(f"{args.clients} clients for {args.seconds:g} s on {HOST}:{port} ...",
                  file=sys.stderr)
            stats, elapsed = asyncio.run(load(
                f"http://{HOST}:{port}", personas, clients=args.clients, seconds=args.seconds,
                write_share=args.write_share, extent=extent, seed=args.seed))
        finally:
            server.terminate()
            server.wait(timeout=30)
        after, history_after = _versions(workspace)
        ok = sum(stats.updated.values())
        added = history_after - history
        grown = {lead: after[lead] - versions[lead] for lead in after
                 if after[lead] != versions[lead]}
        lost = {lead: (n, grown.get(lead, 0)) for lead, n in stats.updated.items()
                if grown.get(lead, 0) != n}
        extra = {lead: n for lead, n in grown.items() if lead not in stats.updated}
        verdict = "no lost update" if ok == added and not lost and not extra else "LOST UPDATES"
        check = [
            f"updates answered 200: {ok:,}; history rows added: {added:,}; "
            f"leads changed: {len(grown):,}; conflicts (409): "
            f"{stats.codes[('POST status', 409)]:,} -> {verdict}",
        ]
        if lost or extra:
            check.append(f"mismatches: {list(lost.items())[:5]} {list(extra.items())[:5]}")
        server_errors = sum(n for (_, code), n in stats.codes.items() if code >= 500)
        check.append(f"server errors (5xx): {server_errors}")
        render(stats, elapsed, check,
               f"lvdun serve under load: {args.clients} clients, {elapsed:.0f} s, "
               f"{args.leads:,} leads (GeoPackage)",
               f"loopback, {os.cpu_count()} cores; {args.write_share:.0%} of loops update a "
               "status (GET the lead, then POST with its version)")
        return 0 if verdict == "no lost update" and not server_errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
