"""``python -m benchmarks [overlay|classify|map|web|ingest|export ...]``: the tables.

With no argument every benchmark runs in turn (overlay engine vs peers, the whole classify
command vs the bare query, published map in Chromium, web app under load on loopback).
Arguments after a name go to that benchmark, e.g. ``python -m benchmarks overlay --quick``.
"""

from __future__ import annotations

import sys

from benchmarks import (
    bench_classify,
    bench_export,
    bench_ingest,
    bench_map,
    bench_overlay,
    bench_web,
)

BENCHMARKS = {
    "overlay": bench_overlay.main, "classify": bench_classify.main, "map": bench_map.main,
    "web": bench_web.main, "ingest": bench_ingest.main, "export": bench_export.main,
}


def main(argv: list[str]) -> int:
    """Run the named benchmark with its arguments, or all of them."""
    if argv and argv[0] in BENCHMARKS:
        return BENCHMARKS[argv[0]](argv[1:])
    if argv:
        print(f"unknown benchmark {argv[0]!r}; choose from {', '.join(BENCHMARKS)}")
        return 2
    return max(run([]) for run in BENCHMARKS.values())


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
