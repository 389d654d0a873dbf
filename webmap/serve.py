"""``lvdun serve``: run the web app with uvicorn (registered as an entry point)."""

from __future__ import annotations

import click

from pipelines.cli.options import handle_errors
from webmap.settings import Settings

__all__ = ["serve_cmd"]


@click.command("serve")
@click.option("-w", "--workspace", default=None,
              help="Workspace: a .gpkg file or a postgresql:// URL [default: $LVDUN_WORKSPACE "
                   "or ./lvdun.gpkg].")
@click.option("--host", default=None, help="Address to listen on [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [default: 8000].")
@handle_errors
def serve_cmd(workspace: str | None, host: str | None, port: int | None) -> None:
    """Serve the map and the leads API in the browser (FastAPI + uvicorn).

    Settings come from LVDUN_ environment variables (LVDUN_WORKSPACE, LVDUN_HOST,
    LVDUN_PORT, LVDUN_TIANDITU_KEY ...); options given here win.

    \b
    Example:
      lvdun serve -w demo/lvdun.gpkg --port 8000
    """
    import uvicorn

    from webmap.app import create_app

    overrides = {k: v for k, v in
                 {"workspace": workspace, "host": host, "port": port}.items() if v is not None}
    settings = Settings(**overrides)
    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level)
