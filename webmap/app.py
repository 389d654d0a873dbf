"""The web app behind ``lvdun serve``: the map page, the login page and the API (FastAPI).

:func:`create_app` takes the :class:`~webmap.settings.Settings` read at the entry point;
nothing here reads the environment. Domain errors become HTTP responses in one handler,
with the codes of :data:`webmap.errors.HTTP_STATUS`; the OpenAPI docs are at ``/docs``.

Examples
--------
>>> import uvicorn
>>> app = create_app(Settings(workspace="demo/lvdun.gpkg"))  # doctest: +SKIP
>>> uvicorn.run(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from geo.errors import LvdunError
from webmap.api import api_router, tiles_router
from webmap.context import AppContext, WorkspacePool
from webmap.errors import http_status
from webmap.map import build_app_map
from webmap.settings import Settings

__all__ = ["create_app"]

log = logging.getLogger(__name__)

_TEMPLATES = Path(__file__).resolve().parent / "templates"
_API = "/api"
_LOGIN = "/login"


@cache
def _login_template() -> str:
    return (_TEMPLATES / "login.html").read_text(encoding="utf-8")


def _error_response(request: Request, exc: Exception) -> JSONResponse:
    """One response for every lvdun error: its code from the table, its message, details."""
    code = http_status(exc)
    body = {"error": type(exc).__name__, "detail": str(exc), **getattr(exc, "details", {})}
    headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
    if code >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
    else:
        log.info("%s %s: %d %s", request.method, request.url.path, code, exc)
    return JSONResponse(body, status_code=code, headers=headers)


def _map_page(ctx: AppContext) -> str:
    ws = ctx.pool.get()
    kinds = [kind for kind in ("admin", "reserves", "wetlands", "mines", "leads")
             if ws.count(kind)]
    bounds = ctx.catalog.bounds(ws) or ws.extent("reserves")
    many = ws.count("leads") > ctx.settings.map_view_loading
    m = build_app_map(layers=kinds, bounds=bounds, api=_API, login=_LOGIN,
                      title=ctx.settings.title, tianditu_key=ctx.settings.tianditu_key,
                      activities=ctx.catalog.activities(ws),
                      view_limit=ctx.settings.map_view_limit if many else None)
    return m.get_root().render()


def create_app(settings: Settings) -> FastAPI:
    """Return the web app serving the workspace named in ``settings``.

    Raises
    ------
    StoreError
        When the workspace does not exist or cannot be opened.
    """
    pool = WorkspacePool(settings.workspace)
    pool.get()  # fail now, not at the first request, when the workspace is missing
    ctx = AppContext(settings=settings, pool=pool)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        pool.close()

    app = FastAPI(
        title="lvdun",
        summary="绿盾线索: the leads of a workspace, their status and history.",
        description=(
            "Log in with the token of `lvdun users add` (button *Authorize*). Viewers read "
            "every lead, reserve editors read and change the leads of their reserves only, "
            "admins everything. Status changes follow the workflow of `lvdun status set` "
            "and need the version you saw."
        ),
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.lvdun = ctx
    app.add_exception_handler(LvdunError, _error_response)  # type: ignore[arg-type]
    app.include_router(api_router)
    app.include_router(tiles_router)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return ctx.cached(ctx.pool.get(), "page:/", lambda: _map_page(ctx))

    @app.get(_LOGIN, response_class=HTMLResponse, include_in_schema=False)
    def login() -> str:
        return (_login_template().replace("__TITLE__", escape(settings.title))
                .replace("__API__", _API))

    log.info("serving %s", pool.location)
    return app
