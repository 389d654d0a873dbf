"""``lvdun demo``: the synthetic demo data and the whole pipeline, map included.

The command lives with the pipeline it runs (:mod:`pipelines.demo.run`); the map is
written by the publisher registered under the entry point ``lvdun.publishers`` (``map``:
:func:`webmap.map.publish.publish_map`), so that this package never imports ``webmap``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click
from rich.cells import cell_len
from rich.markup import escape

from layers.i18n import _
from pipelines.cli.options import console, handle_errors, open_ws, settings

__all__ = ["PUBLISHERS", "demo_cmd", "map_publisher"]

log = logging.getLogger(__name__)

#: Entry-point group of the functions that publish a workspace (``map``).
PUBLISHERS = "lvdun.publishers"


def map_publisher() -> Callable[..., Path] | None:
    """Return the registered map publisher, or None when no package provides one."""
    for entry in entry_points(group=PUBLISHERS):
        if entry.name == "map":
            function: Any = entry.load()
            return function
    log.warning("no map publisher is installed (entry point %s: map)", PUBLISHERS)
    return None


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
    from pipelines.demo.run import print_summary, run_demo  # heavy: only when run

    result = run_demo(Path(out_dir), seed=seed, n_leads=n_leads, console=console)
    publish_map = map_publisher()
    with open_ws(str(result.workspace)) as ws:
        map_path = None if publish_map is None else publish_map(
            ws, Path(out_dir) / "map.html", title="绿盾线索（合成演示数据）",
            tianditu_key=settings().tianditu_key or None)
        print_summary(ws, console=console)
    console.print()
    shown = [("工作空间", str(result.workspace)),
             ("地图", str(map_path) if map_path else _("（未安装 lvdun map）")),
             ("核查清单", f"{result.exports}/<保护区>/…_核查清单.xlsx|csv|gpkg"),
             ("报告", str(result.report)),
             ("输入数据", _("{path}（合成数据，说明见其中的 README.txt）").format(
                 path=result.inputs))]
    width = max(cell_len(_(name)) for name, _value in shown) + 2
    for name, value in shown:
        heading = _(name)
        console.print(f"[bold]{heading}[/]{' ' * (width - cell_len(heading))}{escape(value)}")
