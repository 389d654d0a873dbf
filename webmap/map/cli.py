"""``lvdun map`` (registered as an entry point: the CLI never imports webmap)."""

from __future__ import annotations

import click
from rich.markup import escape

from layers.i18n import _
from pipelines.cli.options import handle_errors, open_ws, settings, summary, workspace_option
from pipelines.cli.progress import progress_bar

__all__ = ["map_cmd"]


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
    from webmap.map.publish import publish_map  # geopandas and the map: only when run

    with open_ws(workspace) as ws, progress_bar() as progress:
        path = publish_map(ws, out, title=title, history=history, chips=chips,
                           tianditu_key=settings().tianditu_key or None, progress=progress)
    summary(_("地图已写入 {path}（{mb} MB）").format(path=escape(str(path)),
                                               mb=f"{path.stat().st_size / 1e6:.1f}"))
