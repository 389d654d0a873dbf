"""``lvdun serve``: run the web app with uvicorn (registered as an entry point).

This module does not import :mod:`pipelines.cli`: that package loads the entry points of
``lvdun.commands`` (this one among them) when it is imported, so importing it from here
would be circular whenever this module is imported first (tests, doctests).
"""

from __future__ import annotations

import click

from geo.errors import LvdunError
from webmap.app.settings import Settings

__all__ = ["serve_cmd"]


@click.command("serve")
@click.option("-w", "--workspace", default=None,
              help="Workspace: a .gpkg file or a postgresql:// URL [default: $LVDUN_WORKSPACE "
                   "or ./lvdun.gpkg].")
@click.option("--host", default=None, help="Address to listen on [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [default: 8000].")
def serve_cmd(workspace: str | None, host: str | None, port: int | None) -> None:
    """Serve the map and the leads API in the browser (FastAPI + uvicorn).

    Users log in with a token from `lvdun users add`; the API docs are at /docs.
    Settings come from LVDUN_ environment variables (LVDUN_WORKSPACE, LVDUN_HOST,
    LVDUN_PORT, LVDUN_TITLE, LVDUN_TIANDITU_KEY, LVDUN_PAGE_SIZE ...); options win.

    \b
    Example:
      lvdun users add 省厅 --role viewer -w demo/lvdun.gpkg
      lvdun serve -w demo/lvdun.gpkg --port 8000

    \f
    Parameters
    ----------
    workspace : str or None
        ``--workspace``: a .gpkg file or a postgresql:// URL; None for the settings' default.
    host : str or None
        ``--host``: address to listen on; None for the settings' default.
    port : int or None
        ``--port``; None for the settings' default.
    """
    import uvicorn

    from webmap.app.factory import create_app

    overrides = {k: v for k, v in
                 {"workspace": workspace, "host": host, "port": port}.items() if v is not None}
    settings = Settings(**overrides)
    try:
        app = create_app(settings)
    except LvdunError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        raise SystemExit(1) from None
    click.echo(f"serving {settings.workspace} at http://{settings.host}:{settings.port}/ "
               f"(API docs at /docs)")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level)
