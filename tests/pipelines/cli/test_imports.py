"""The command line imports the heavy libraries only when a command needs them."""

from __future__ import annotations

import subprocess
import sys

import click

from pipelines.cli import COMMANDS, ENTRY_POINT_GROUP, ENTRY_POINT_SUMMARIES, SUMMARIES, cli

_CHECK = """
import sys
from click.testing import CliRunner
import pipelines.cli, pipelines.cli.options, pipelines.cli.progress
from pipelines.cli import cli
for args in (["--help"], ["status", "--help"]):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, (args, result.output)
print(" ".join(sorted(m for m in ("geopandas", "shapely", "pandas", "pyogrio")
                      if m in sys.modules)))
"""


def test_help_and_importing_the_cli_load_no_geopandas_nor_shapely():
    done = subprocess.run([sys.executable, "-c", _CHECK], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == []


def test_help_lists_each_command_with_its_own_short_help():
    ctx = click.Context(cli)
    assert set(SUMMARIES) == set(COMMANDS)
    for name in COMMANDS:
        assert SUMMARIES[name] == cli.get_command(ctx, name).get_short_help_str(1000), name
    from importlib.metadata import entry_points

    ours = {e.value: e.name for e in entry_points(group=ENTRY_POINT_GROUP)
            if e.value in ENTRY_POINT_SUMMARIES}
    assert set(ours) == set(ENTRY_POINT_SUMMARIES)
    for value, name in ours.items():
        command = cli.get_command(ctx, name)
        assert ENTRY_POINT_SUMMARIES[value] == command.get_short_help_str(1000), name


def test_settings_default_workspace_is_the_store_default():
    from pipelines.settings import DEFAULT_WORKSPACE, Settings
    from pipelines.store import DEFAULT_WORKSPACE as STORE_DEFAULT

    assert DEFAULT_WORKSPACE == STORE_DEFAULT == Settings.model_fields["workspace"].default
