"""``lvdun classify``."""

from __future__ import annotations

import click

from pipelines.classify.engines import ENGINES
from pipelines.classify.job import classify
from pipelines.cli.options import console, handle_errors, open_ws, settings, workspace_option


@click.command("classify")
@workspace_option
@click.option("--engine", type=click.Choice(list(ENGINES)), default="geos", show_default=True,
              help="Overlay engine: geos (in process), postgis (in the database of a "
                   "PostGIS workspace), dask (partitions of leads read from the store and "
                   "classified in dask tasks, local or --scheduler).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="dask.distributed scheduler address for --engine dask "
                   "(env LVDUN_DASK_SCHEDULER); default a local threaded scheduler.")
@click.option("--near-m", type=float, default=1000.0, show_default=True,
              help="Flag leads within this many metres of a reserve boundary.")
@handle_errors
def classify_cmd(workspace: str, engine: str, scheduler: str | None, near_m: float) -> None:
    """Classify every lead: reserve, zone (strictest wins), wetland, mine, county, distance.

    \b
    Example:
      lvdun classify -w lvdun.gpkg --near-m 500
      lvdun classify -w postgresql://localhost/lvdun --engine postgis
      lvdun classify -w lvdun.gpkg --engine dask --scheduler tcp://10.0.0.5:8786
    """
    with open_ws(workspace) as ws:
        report = classify(ws, near_m=near_m, engine=engine,
                          scheduler=scheduler or settings().dask_scheduler)
    zones = ", ".join(f"{k} {v}" for k, v in sorted(report.by_zone.items()))
    console.print(f"classified {report.leads} leads ({zones}); "
                  f"{report.near_boundary} within {near_m:g} m of a boundary")
