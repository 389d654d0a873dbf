"""``lvdun db init|copy``: create a workspace database, move a workspace between backends."""

from __future__ import annotations

import click
from rich.markup import escape

from layers.i18n import _
from pipelines.cli.options import handle_errors, open_ws, summary, workspace_option

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
            summary(escape(_("PostgreSQL {pg}，PostGIS {postgis}，主机 {host}").format(
                pg=info["server_version"], postgis=info["postgis_version"], host=info["host"])))
            summary(escape(_("工作空间已就绪：数据库 {database}，模式 {schema}（{location}），"
                             "结构版本 {version}").format(
                database=info["database"], schema=info["schema"], location=ws.location,
                version=ws.schema_version())))
        else:
            summary(escape(_("工作空间已就绪：GeoPackage {location}，结构版本 {version}").format(
                location=ws.location, version=ws.schema_version())))


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
    from pipelines.store import open_workspace
    from pipelines.store.copy import copy_workspace

    with open_ws(source) as src, open_workspace(destination, create=True) as dst:
        report = copy_workspace(src, dst)
    for name, count in report.counts.items():
        summary(f"  {escape(name)}: {count}")
    summary(_("已复制 {total} 行：{source} → [bold]{target}[/]").format(
        total=report.total, source=escape(str(report.source)), target=escape(str(report.target))))
