"""The ``lvdun`` command line: one thin module per command group.

Commands of higher layers (``webmap``: map, serve) register themselves under the
entry-point group ``lvdun.commands``, so that this package never imports ``webmap``. They
are loaded when first needed (listed in ``--help`` or run), not when this package is
imported: ``webmap.map.cli`` imports :mod:`pipelines.cli.options`, which imports this package.
"""

from __future__ import annotations

import logging
from importlib import import_module
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import click

__all__ = ["COMMANDS", "ENTRY_POINT_GROUP", "ENTRY_POINT_SUMMARIES", "SUMMARIES", "PluginGroup",
           "cli", "main"]

log = logging.getLogger(__name__)

#: Entry-point group under which other packages register ``lvdun`` commands.
ENTRY_POINT_GROUP = "lvdun.commands"

#: This package's commands, ``module:attribute``: a command's module (and the libraries it
#: needs) is imported when the command runs or its help is shown, not at every ``lvdun``.
COMMANDS = {
    "ingest": "pipelines.cli.ingest:ingest_group",
    "chips": "pipelines.cli.raster:chips_cmd",
    "classify": "pipelines.cli.classify:classify_cmd",
    "status": "pipelines.cli.status:status_group",
    "export": "pipelines.cli.export:export_cmd",
    "report": "pipelines.cli.report:report_cmd",
    "field": "pipelines.cli.field:field_group",
    "mines": "pipelines.cli.mines:mines_group",
    "db": "pipelines.cli.db:db_group",
    "users": "pipelines.cli.users:users_group",
    "review": "pipelines.cli.review:review_group",
    "demo": "pipelines.cli.demo:demo_cmd",
    "styles": "pipelines.cli.styles:styles_cmd",
}

#: The one-line help of each of :data:`COMMANDS`, as ``lvdun --help`` lists it without
#: importing the command's module (a test checks that each is its command's own short help).
SUMMARIES = {
    "ingest": "Ingest a file into a layer of the workspace (created on first use).",
    "chips": "Make before/after image chips (PNG) for every lead, with its outline drawn.",
    "classify": "Classify every lead: reserve, zone (strictest wins), wetland, mine, county, "
                "distance.",
    "status": "Field verification: change a lead's status, show its history, deadlines, "
              "ledgers.",
    "export": "Write verification lists (核查清单) per reserve or county.",
    "report": "Report leads by reserve, zone, activity, county and status; verification "
              "progress against batch deadlines; overdue leads; wetlands; mines; changes "
              "since a run.",
    "field": "Field packages for phones, and reading back what the field teams recorded.",
    "mines": "Closed and historic mines: restoration progress, monitoring and inspections "
             "due, mines refusing restoration.",
    "db": "The workspace database: create it, copy it between GeoPackage and PostGIS.",
    "users": "Users and tokens of the web app (`lvdun serve`): viewers, reserve editors, "
             "admins.",
    "review": "Level-by-level review: submit verdicts and closures, approve, return, "
              "spot-check.",
    "demo": "Generate the synthetic demo data set and run the whole pipeline on it.",
    "styles": "Write the QGIS styles and the view lead_status_view into the workspace.",
}

#: The one-line help of the entry points lvdun registers itself (``webmap``'s commands), by
#: entry-point value: listed without importing webmap (folium, geopandas). Another
#: package's entry point is loaded to be listed.
ENTRY_POINT_SUMMARIES = {
    "webmap.map.cli:map_cmd": "Write a self-contained interactive map (opens offline from "
                              "disk).",
    "webmap.app.serve:serve_cmd": "Serve the map and the leads API in the browser (FastAPI + "
                                  "uvicorn).",
}


class PluginGroup(click.Group):
    """A command group that also offers the commands registered under an entry-point group.

    An entry point is loaded the first time its command is needed: run, or listed with
    its help. Commands added with :meth:`add_command` win over entry points of the same
    name. A plugin that cannot be loaded is left out of listings with a warning, and
    running it is a usage error naming the cause.

    Parameters
    ----------
    *args, **kwargs
        As for :class:`click.Group`.
    plugins
        The entry-point group to read, e.g. ``"lvdun.commands"``.
    """

    def __init__(self, *args: Any, plugins: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plugins = plugins
        self._entry_points: dict[str, EntryPoint] | None = None
        self._listing = False

    def _registered(self) -> dict[str, EntryPoint]:
        if self._entry_points is None:
            self._entry_points = {e.name: e for e in entry_points(group=self.plugins)}
        return self._entry_points

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return the names of the group's own and registered commands, sorted."""
        return sorted({*self.commands, *COMMANDS, *self._registered()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return the command ``cmd_name``, loading its module or entry point on first use."""
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name in COMMANDS:
            module, attribute = COMMANDS[cmd_name].split(":")
            own = getattr(import_module(module), attribute)
            self.add_command(own, name=cmd_name)
            return own
        entry = self._registered().get(cmd_name)
        if entry is None:
            return None
        try:
            command = entry.load()
            if not isinstance(command, click.Command):
                raise TypeError(f"{command!r} is not a click command")
        except Exception as exc:  # a plugin's import may fail in any way
            log.debug("loading command %r from %s failed", cmd_name, entry.value, exc_info=True)
            if self._listing or ctx.resilient_parsing:
                log.warning("command %r cannot be loaded from %s: %s", cmd_name, entry.value, exc)
                return None
            raise click.UsageError(
                f"command {cmd_name!r} cannot be loaded from {entry.value}: {exc}", ctx
            ) from exc
        self.add_command(command, name=cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the command list of ``--help``; a plugin that fails to load is left out.

        This package's commands not loaded yet are listed from :data:`SUMMARIES` (webmap's
        from :data:`ENTRY_POINT_SUMMARIES`), so that ``lvdun --help`` imports none of their
        modules (nor geopandas, which they need).
        """
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(n) for n in names), default=0)
        rows: list[tuple[str, str]] = []
        self._listing = True
        try:
            for name in names:
                text = None if name in self.commands else SUMMARIES.get(name)
                entry = self._registered().get(name)
                if text is None and name not in self.commands and name not in COMMANDS \
                        and entry is not None:
                    text = ENTRY_POINT_SUMMARIES.get(entry.value)
                if text is not None:
                    rows.append((name, click.utils.make_default_short_help(text, limit)))
                    continue
                command = self.get_command(ctx, name)
                if command is not None and not command.hidden:
                    rows.append((name, command.get_short_help_str(limit)))
        finally:
            self._listing = False
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=PluginGroup, plugins=ENTRY_POINT_GROUP,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True,
              help="Only warnings and errors: no summaries, no progress bars.")
@click.option("-w", "--workspace", default=None, metavar="WORKSPACE",
              help="Workspace for the command (a .gpkg file or a postgresql:// URL); the "
                   "command's own -w wins.")
@click.version_option(package_name="lvdun")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool, workspace: str | None) -> None:
    """绿盾 (Green Shield) leads: ingest, classify, verify, publish.

    \b
    Quick start:
      lvdun demo --out demo              # synthetic demo data, whole pipeline
      lvdun ingest reserves zones.gpkg   # then leads, wetlands, mines, admin
      lvdun classify && lvdun export --by reserve --format xlsx --out exports
      lvdun -w ws.gpkg -q classify      # workspace before the command, no summary
    """
    from rich.logging import RichHandler

    from layers.i18n import set_language
    from pipelines.cli.options import QUIET_KEY, WORKSPACE_KEY, settings

    ctx.meta[WORKSPACE_KEY], ctx.meta[QUIET_KEY] = workspace, quiet
    settings.cache_clear()  # read once per run of lvdun (a test runs several in one process)
    set_language(settings().lang)

    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else
                                           logging.INFO if verbose else logging.WARNING)
    logging.basicConfig(level=level, format="%(message)s",
                        handlers=[RichHandler(show_path=False, show_time=False)], force=True)



def main() -> None:
    """Console-script entry point."""
    cli(prog_name="lvdun")
