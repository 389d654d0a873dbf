"""``lvdun ingest leads`` on a large CSV: wall time and peak memory against plain pandas.

Usage::

    python -m benchmarks.bench_ingest [--sizes 1e5,1e6]
    python benchmarks/bench_ingest.py --sizes 1e5

A synthetic bureau CSV (线索编号, 批次, 经度, 纬度, 面积(亩), 活动类型, 变化类型, 备注: points
over Jilin, every row valid but one in a thousand with a bad longitude, so the rejects
file is written) is ingested into a fresh GeoPackage twice, each in its own process, so
that the process's peak resident set (``ru_maxrss``) is that of the run alone:

``lvdun``
    the command the bureau runs: reading, canonical fields, CRS decision, accounting
    (N = stored + rejected), rejects file, one transaction, the runs record;
``pandas``
    what a script would do without any of that: ``pandas.read_csv`` +
    ``geopandas.points_from_xy`` + ``GeoDataFrame.to_file`` (bad rows are silently NaN).

The difference is the price of the checks. Peak memory grows with the rows, since both
read the whole file at once; lvdun writes to the store a slice of rows at a time
(``pipelines.ingest.files.WRITE_ROWS``), which took 10^6 rows from 3,200 MB to 1,975 MB.
On a two-core machine (Python 3.11, December 2026):

========= ======= ======== ============
rows      tool    seconds  peak RSS MB
========= ======= ======== ============
100,000   lvdun   6.2      581
100,000   pandas  1.9      331
1,000,000 lvdun   62.2     1,975
1,000,000 pandas  16.9     1,218
========= ======= ======== ============
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BOX = (124.0, 41.5, 130.0, 45.5)  # Jilin, roughly
TYPES = ("采石场", "道路", "光伏", "养殖场", "居民点", "风电", "旅游设施", "采砂", "其他人工设施")

_LVDUN = """
import resource, sys
from pipelines.ingest.files import ingest
from pipelines.store import open_workspace
ws = open_workspace(sys.argv[2]); ws.open()
report = ingest(ws, "leads", sys.argv[1])
ws.close()
print(report.read, report.stored, report.rejected,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
_PANDAS = """
import resource, sys
import geopandas as gpd, pandas as pd
frame = pd.read_csv(sys.argv[1], encoding="utf-8-sig")
lon = pd.to_numeric(frame["经度"], errors="coerce")
lat = pd.to_numeric(frame["纬度"], errors="coerce")
out = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs=4490)
out.to_file(sys.argv[2], layer="leads", driver="GPKG")
print(len(frame), len(frame), 0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def write_csv(path: Path, rows: int, *, seed: int = 0) -> Path:
    """Write ``rows`` synthetic leads as a bureau CSV (UTF-8 with BOM); return the path.

    Parameters
    ----------
    path : pathlib.Path
        Where to write.
    rows : int
        How many leads.
    seed : int
        Random seed.
    """
    rng = np.random.default_rng(seed)
    lon = rng.uniform(BOX[0], BOX[2], rows).round(6).astype(str)
    lat = rng.uniform(BOX[1], BOX[3], rows).round(6).astype(str)
    lon[::1000] = "x"  # one bad row in a thousand: rejected, with its row in the rejects file
    area = rng.uniform(0.5, 50, rows).round(2).astype(str)
    kinds = np.asarray(TYPES, dtype=object)[rng.integers(0, len(TYPES), rows)]
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        fh.write("线索编号,批次,经度,纬度,面积(亩),活动类型,变化类型,备注\n")
        step = 100_000
        for lo in range(0, rows, step):
            hi = min(rows, lo + step)
            fh.writelines(
                f"C22{i:012d},2024-H1,{lon[i]},{lat[i]},{area[i]},{kinds[i]},新增,合成数据\n"
                for i in range(lo, hi))
    return path


def _run(script: str, csv: Path, out: Path) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, str(csv), str(out)], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    read, stored, rejected, rss_kb = done.stdout.split()[-4:]
    return {"seconds": round(time.perf_counter() - started, 2), "read": int(read),
            "stored": int(stored), "rejected": int(rejected),
            "peak_rss_mb": round(int(rss_kb) / 1024, 1)}


def main(argv: list[str]) -> int:
    """Run the comparison at each size and print a table (and JSON lines)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_ingest")
    parser.add_argument("--sizes", default="1e5", help="comma-separated row counts")
    args = parser.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    print(f"{'rows':>9} {'tool':<7} {'seconds':>8} {'peak RSS MB':>12} {'stored':>9} "
          f"{'rejected':>9}")
    with tempfile.TemporaryDirectory(prefix="lvdun-bench-ingest-") as tmp:
        folder = Path(tmp)
        for n in sizes:
            csv = write_csv(folder / f"leads_{n}.csv", n)
            for tool, script in (("lvdun", _LVDUN), ("pandas", _PANDAS)):
                row = _run(script, csv, folder / f"{tool}_{n}.gpkg")
                print(f"{n:>9} {tool:<7} {row['seconds']:>8} {row['peak_rss_mb']:>12} "
                      f"{row['stored']:>9} {row['rejected']:>9}")
                print(json.dumps({"rows": n, "tool": tool, **row}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
