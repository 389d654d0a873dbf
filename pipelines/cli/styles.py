"""``lvdun styles``."""

from __future__ import annotations

import click
from rich.markup import escape

from pipelines.cli.options import handle_errors, open_ws, summary, workspace_option
from pipelines.publish.styles import write_styles


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
    with open_ws(workspace) as ws:
        count = write_styles(ws)
    summary(f"wrote {count} layer styles and the view lead_status_view into {escape(workspace)}")
