"""``lvdun classify``."""

from __future__ import annotations

import click

from pipelines.classify import classify
from pipelines.cli.options import console, handle_errors, open_ws, workspace_option


@click.command("classify")
@workspace_option
@click.option("--engine", type=click.Choice(["geos"]), default="geos", show_default=True,
              help="Overlay engine.")
@click.option("--near-m", type=float, default=1000.0, show_default=True,
              help="Flag leads within this many metres of a reserve boundary.")
@handle_errors
def classify_cmd(workspace: str, engine: str, near_m: float) -> None:
    """Classify every lead: reserve, zone (strictest wins), wetland, mine, county, distance.

    \b
    Example:
      lvdun classify -w lvdun.gpkg --near-m 500
    """
    with open_ws(workspace) as ws:
        report = classify(ws, near_m=near_m, engine=engine)
    zones = ", ".join(f"{k} {v}" for k, v in sorted(report.by_zone.items()))
    console.print(f"classified {report.leads} leads ({zones}); "
                  f"{report.near_boundary} within {near_m:g} m of a boundary")
