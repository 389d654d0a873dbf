"""Commands that publish: ``lvdun map`` and ``lvdun demo`` (registered as entry points)."""

from __future__ import annotations

from pathlib import Path

import click

from pipelines.cli.options import console, handle_errors, open_ws, settings, workspace_option
from webmap.map.publish import publish_map

__all__ = ["demo_cmd", "map_cmd"]


@click.command("map")
@workspace_option
@click.option("--out", type=click.Path(dir_okay=False), default="map.html", show_default=True,
              help="HTML file to write.")
@click.option("--title", default="绿盾线索", show_default=True)
@click.option("--history/--no-history", default=True, show_default=True,
              help="Last status changes of each lead in its popup.")
@click.option("--chips/--no-chips", default=True, show_default=True,
              help="Before/after image chips (`lvdun chips`) in the popups, inlined.")
@handle_errors
def map_cmd(workspace: str, out: str, title: str, history: bool, chips: bool) -> None:
    """Write a self-contained interactive map (opens offline from disk).

    Filters, search, popups with history and chips all work without a server. Set
    LVDUN_TIANDITU_KEY to add the 天地图 basemaps; the Amap basemaps shift the layers
    to GCJ-02 while shown.

    \b
    Example:
      lvdun map --out 线索分布图.html
      lvdun map --no-chips --out 线索分布图_轻量.html

    \f
    Parameters
    ----------
    workspace : str
        ``--workspace``: the workspace to read.
    out : str
        ``--out``: the HTML file to write.
    title : str
        ``--title``: title shown on the map.
    history : bool
        ``--history/--no-history``: last status changes in the popups.
    chips : bool
        ``--chips/--no-chips``: before/after image chips in the popups.
    """
    with open_ws(workspace) as ws:
        path = publish_map(ws, out, title=title, history=history, chips=chips,
                           tianditu_key=settings().tianditu_key or None)
    console.print(f"map written to {path} ({path.stat().st_size / 1e6:.1f} MB)")


@click.command("demo")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="demo",
              show_default=True, help="Folder for the demo data and results.")
@click.option("--seed", type=int, default=2024, show_default=True)
@click.option("--leads", "n_leads", type=int, default=3000, show_default=True,
              help="Number of synthetic leads.")
@handle_errors
def demo_cmd(out_dir: str, seed: int, n_leads: int) -> None:
    """Generate the synthetic demo data set and run the whole pipeline on it.

    \b
    Example:
      lvdun demo --out demo

    \f
    Parameters
    ----------
    out_dir : str
        ``--out``: folder for the demo data and results.
    seed : int
        ``--seed``: seed of the synthetic data.
    n_leads : int
        ``--leads``: number of synthetic leads.
    """
    from pipelines.demo.run import print_summary, run_demo

    result = run_demo(Path(out_dir), seed=seed, n_leads=n_leads, console=console)
    with open_ws(str(result.workspace)) as ws:
        map_path = publish_map(ws, Path(out_dir) / "map.html", title="绿盾线索（合成演示数据）",
                               tianditu_key=settings().tianditu_key or None)
        print_summary(ws, console=console)
    console.print()
    console.print(f"[bold]workspace[/]  {result.workspace}")
    console.print(f"[bold]map[/]        {map_path}")
    console.print(f"[bold]exports[/]    {result.exports}/<reserve>/…_核查清单.xlsx|csv|gpkg")
    console.print(f"[bold]report[/]     {result.report}")
    console.print(f"[bold]inputs[/]     {result.inputs} (synthetic, see README.txt there)")
