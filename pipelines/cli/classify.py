"""``lvdun classify``."""

from __future__ import annotations

import click
from rich.markup import escape

from layers.i18n import _, label
from layers.schema import ZONE_ORDER
from pipelines.classify.engines import ENGINES
from pipelines.classify.job import classify
from pipelines.cli.options import (
    err_console,
    handle_errors,
    open_ws,
    settings,
    summary,
    workspace_option,
)
from pipelines.cli.progress import progress_bar
from pipelines.errors import StoreError
from pipelines.publish.styles import write_styles


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
    with open_ws(workspace) as ws, progress_bar() as progress:
        report = classify(ws, near_m=near_m, engine=engine,
                          scheduler=scheduler or settings().dask_scheduler, progress=progress)
        try:  # a workspace opened in QGIS is styled, states in lead_status_view
            write_styles(ws)
        except StoreError as exc:  # the classification itself is stored
            err_console.print(_("未写入样式：{error}").format(error=escape(str(exc))))
    summary(classify_summary(report.leads, report.by_zone, report.near_boundary, near_m))


def classify_summary(leads: int, by_zone: dict[str, int], near: int, near_m: float) -> str:
    """Return the summary line of a classification, zones as labels from the strictest.

    Parameters
    ----------
    leads : int
        Leads classified.
    by_zone : dict of str to int
        Zone code -> leads.
    near : int
        Leads near a boundary.
    near_m : float
        What "near" meant, in metres.

    Examples
    --------
    >>> classify_summary(3, {"outside": 1, "core": 2}, 1, 500.0)
    '已分类 3 条线索（核心区 2，保护区外 1）；1 条距保护区边界 500 米以内'
    """
    order = [z.value for z in ZONE_ORDER]
    codes = sorted(by_zone, key=lambda z: (order.index(z) if z in order else len(order), z))
    zones = _("，").join(f"{label(z)} {by_zone[z]}" for z in codes)
    return _("已分类 {leads} 条线索（{zones}）；{near} 条距保护区边界 {m} 米以内").format(
        leads=leads, zones=zones, near=near, m=f"{near_m:g}")
