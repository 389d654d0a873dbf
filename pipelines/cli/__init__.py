"""The ``lvdun`` command line: one thin module per command group.

Commands of higher layers (``webmap``: map, serve, demo) register themselves under the
entry-point group ``lvdun.commands``, so that this package never imports ``webmap``.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

import click
from rich.logging import RichHandler

from pipelines.cli.classify import classify_cmd
from pipelines.cli.db import db_group
from pipelines.cli.export import export_cmd
from pipelines.cli.ingest import ingest_group
from pipelines.cli.mines import mines_group
from pipelines.cli.raster import chips_cmd
from pipelines.cli.report import report_cmd
from pipelines.cli.status import status_group
from pipelines.cli.users import users_group

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.version_option(package_name="lvdun")
def cli(verbose: int, quiet: bool) -> None:
    """绿盾 (Green Shield) leads: ingest, classify, verify, publish.

    \b
    Quick start:
      lvdun demo --out demo              # synthetic demo data, whole pipeline
      lvdun ingest reserves zones.gpkg   # then leads, wetlands, mines, admin
      lvdun classify && lvdun export --by reserve --format xlsx --out exports
    """
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else
                                           logging.INFO if verbose else logging.WARNING)
    logging.basicConfig(level=level, format="%(message)s",
                        handlers=[RichHandler(show_path=False, show_time=False)], force=True)


for command in (ingest_group, chips_cmd, classify_cmd, status_group, export_cmd, report_cmd,
                mines_group, db_group, users_group):
    cli.add_command(command)
for entry in entry_points(group="lvdun.commands"):
    cli.add_command(entry.load(), name=entry.name)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="lvdun")
