"""``lvdun styles``."""

from __future__ import annotations

import click
from rich.markup import escape

from layers.i18n import _
from pipelines.cli.options import handle_errors, open_ws, summary, workspace_option


@click.command("styles")
@workspace_option
@handle_errors
def styles_cmd(workspace: str) -> None:
    """Write the QGIS styles and the view lead_status_view into the workspace.

    QGIS then draws every layer styled when the workspace is added (GeoPackage file or
    PostGIS connection): leads by verification state in lead_status_view, reserve zones
    and levels, wetlands, mines and counties, with Chinese labels; other GIS clients read
    the same styles as SLD from the layer_styles table.

    \b
    Example:
      lvdun styles -w lvdun.gpkg
    """
    from pipelines.publish.styles import write_styles

    with open_ws(workspace) as ws:
        count = write_styles(ws)
    summary(_("已将 {count} 个图层样式和视图 lead_status_view 写入 {workspace}").format(
        count=count, workspace=escape(workspace)))
