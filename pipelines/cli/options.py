"""Options shared by every command, and how errors reach the terminal."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape

from geo.errors import LvdunError
from layers.i18n import _
from pipelines.settings import Settings

if TYPE_CHECKING:  # the store loads geopandas: imported when a command opens a workspace
    from pipelines.store import Workspace

__all__ = ["QUIET_KEY", "WORKSPACE_KEY", "console", "default_workspace", "err_console",
           "handle_errors", "open_ws", "quiet", "settings", "summary", "workspace_option"]

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@functools.cache
def settings() -> Settings:
    """The ``LVDUN_`` settings, read once when a command first needs them."""
    return Settings()


#: Keys of the root context's ``meta``: what ``lvdun -w WS -q`` set before the subcommand.
WORKSPACE_KEY, QUIET_KEY = "lvdun.workspace", "lvdun.quiet"


def _root_meta() -> dict[str, Any]:
    ctx = click.get_current_context(silent=True)
    return ctx.find_root().meta if ctx is not None else {}


def default_workspace() -> str:
    """The workspace of ``lvdun -w WS <command>``, else ``LVDUN_WORKSPACE`` or the default."""
    return _root_meta().get(WORKSPACE_KEY) or settings().workspace


def quiet() -> bool:
    """Whether ``lvdun -q`` asked for no summaries (and no progress bars)."""
    return bool(_root_meta().get(QUIET_KEY))


def summary(text: str) -> None:
    """Print a command's summary line, unless ``-q``; ``text`` is rich markup."""
    if not quiet():
        console.print(text)


workspace_option = click.option(
    "-w", "--workspace",
    default=default_workspace,
    show_default="lvdun -w, $LVDUN_WORKSPACE or ./lvdun.gpkg",
    help="Workspace: a .gpkg file or a postgresql:// URL.",
)


def open_ws(location: str, *, create: bool = False) -> Workspace:
    """Open the workspace named on the command line."""
    from pipelines.store import open_workspace

    ws = open_workspace(location, create=create)
    ws.open()
    return ws


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn lvdun's errors into a one-paragraph message and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LvdunError as exc:
            err_console.print(f"[bold red]{_('错误：')}[/]{escape(str(exc))}", soft_wrap=True)
            raise SystemExit(1) from None

    return wrapper


def parse_fields(values: tuple[str, ...]) -> dict[str, str]:
    """Parse ``--field CANON=COLUMN`` options."""
    out: dict[str, str] = {}
    for value in values:
        if "=" not in value:
            raise click.BadParameter(
                _("{value!r}：写成 CANON=COLUMN，例如 lead_id=编号").format(value=value),
                param_hint="--field")
        canon, column = value.split("=", 1)
        out[canon.strip()] = column.strip()
    return out
