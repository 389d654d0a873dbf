"""``lvdun db init|copy``: create a workspace database, move a workspace between backends."""

from __future__ import annotations

import click

from pipelines.cli.options import console, handle_errors, open_ws, workspace_option
from pipelines.store import open_workspace
from pipelines.store.copy import copy_workspace

__all__ = ["db_group"]


@click.group("db")
def db_group() -> None:
    """The workspace database: create it, copy it between GeoPackage and PostGIS."""


@db_group.command("init")
@workspace_option
@handle_errors
def init_cmd(workspace: str) -> None:
    """Create the workspace's schema, tables and (PostGIS) the postgis extension.

    Safe to run again: what exists is kept, and a workspace of an older lvdun gets the
    tables and columns it lacks. Prints the server and PostGIS versions.

    \b
    Example:
      lvdun db init -w postgresql://lvdun@gis.example.cn/lvdun?schema=lvdun
    """
    with open_ws(workspace, create=True) as ws:
        if ws.kind == "postgis":
            info = ws.describe()  # type: ignore[attr-defined]
            console.print(f"PostgreSQL {info['server_version']}, PostGIS "
                          f"{info['postgis_version']} at {info['host']}")
            console.print(f"workspace ready: database {info['database']}, schema "
                          f"{info['schema']} ({ws.location}), schema version "
                          f"{ws.schema_version()}")
        else:
            console.print(f"workspace ready: GeoPackage {ws.location}, schema version "
                          f"{ws.schema_version()}")


@db_group.command("copy")
@click.argument("source")
@click.argument("destination")
@handle_errors
def copy_cmd(source: str, destination: str) -> None:
    """Copy the whole workspace SOURCE into the empty workspace DESTINATION.

    Either may be a .gpkg file or a postgresql:// URL; every layer, table and run is
    copied as it is, in one transaction.

    \b
    Example:
      lvdun db copy lvdun.gpkg postgresql://lvdun@gis.example.cn/lvdun?schema=jilin
      lvdun db copy postgresql://lvdun@gis.example.cn/lvdun?schema=jilin backup.gpkg
    """
    with open_ws(source) as src, open_workspace(destination, create=True) as dst:
        report = copy_workspace(src, dst)
    for name, count in report.counts.items():
        console.print(f"  {name}: {count}")
    console.print(f"copied {report.total} rows: {report.source} → [bold]{report.target}[/]")
