"""The web app behind ``lvdun serve``: the map page, the login page and the API (FastAPI).

:func:`create_app` takes the :class:`~webmap.app.settings.Settings` read at the entry point;
nothing here reads the environment. Domain errors become HTTP responses in one handler,
with the codes of :data:`webmap.errors.HTTP_STATUS`; the OpenAPI docs are at ``/docs``,
drawn by the Swagger UI vendored in ``webmap/static`` (no CDN: the docs work offline).

Every response carries the headers of :data:`SECURITY_HEADERS` (one middleware,
:class:`SecurityHeaders`): a Content-Security-Policy that lets the pages run their inline
scripts and styles, load images from the online basemaps' tile servers and talk to this
server only, and refuses to be framed. The login page follows its ``next`` parameter only
to a URL of this origin (checked in the page, which is served without echoing it).

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
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo.errors import LvdunError
from layers.i18n import set_language
from pipelines.errors import NotFoundError
from pipelines.escape import html_text
from webmap.app.aggregates import cells_router, warm_up
from webmap.app.api import api_router, tiles_router
from webmap.app.context import AppContext, WorkspacePool
from webmap.app.field import FIELD_ASSETS, evidence_router, field_router
from webmap.app.ogc import ogc_router
from webmap.app.review_api import review_router
from webmap.app.settings import Settings
from webmap.errors import http_status
from webmap.map.build import build_app_map
from webmap.map.offline import STATIC_DIR

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "MAP_PAGE_POLICY",
    "SECURITY_HEADERS",
    "SecurityHeaders",
    "create_app",
]

log = logging.getLogger(__name__)

_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
_API = "/api"
_LOGIN = "/login"
_STATIC = "/static"
#: Files of ``webmap/static`` the app serves at ``/static/``: what ``/docs`` loads.
_DOCS_ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css")
#: Tile servers of the online basemaps the map page offers (webmap/map.py).
_TILE_HOSTS = ("https://tile.openstreetmap.org", "https://*.tianditu.gov.cn",
               "https://*.is.autonavi.com")


def _policy(*, script: str = "'self' 'unsafe-inline'") -> str:
    """The Content-Security-Policy of the app, with ``script`` as its script-src."""
    return "; ".join([
        "default-src 'self'",
        f"script-src {script}",
        "style-src 'self' 'unsafe-inline'",
        f"img-src 'self' data: blob: {' '.join(_TILE_HOSTS)}",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


#: The pages inline their scripts and styles; images may be data: and blob: URLs (chips)
#: or basemap tiles; nothing else leaves this server, and no page may frame this one.
CONTENT_SECURITY_POLICY = _policy()
#: The map page also needs ``'unsafe-eval'``: the vendored leaflet-measure compiles its
#: lodash templates with ``Function()`` when it loads. Only that page gets it.
MAP_PAGE_POLICY = _policy(script="'self' 'unsafe-inline' 'unsafe-eval'")
#: Headers added to every response (the map page ``/`` has :data:`MAP_PAGE_POLICY`).
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
#: Paths whose pages have a policy of their own.
_PAGE_POLICIES = {"/": MAP_PAGE_POLICY}


class SecurityHeaders:
    """ASGI middleware setting :data:`SECURITY_HEADERS` on every HTTP response (the map
    page's policy is :data:`MAP_PAGE_POLICY`).

    Parameters
    ----------
    app
        The application it wraps.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers when the response starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        policy = _PAGE_POLICIES.get(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if policy is not None:
                    headers["Content-Security-Policy"] = policy
            await send(message)

        await self.app(scope, receive, send_with_headers)


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
    many = ctx.catalog.count(ws) > ctx.settings.map_view_loading
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
    set_language(settings.lang)
    pool = WorkspacePool(settings.workspace)
    pool.get()  # fail now, not at the first request, when the workspace is missing
    ctx = AppContext(settings=settings, pool=pool)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.map_warm_up:
            warm_up(ctx)
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
        docs_url=None,  # served below with local assets
        redoc_url=None,  # would load ReDoc from a CDN
    )
    app.state.lvdun = ctx
    app.add_exception_handler(LvdunError, _error_response)  # type: ignore[arg-type]
    app.add_middleware(SecurityHeaders)
    app.include_router(review_router)  # first: its /leads/{id}/photos/{n} route
    app.include_router(evidence_router)  # before /leads/{id:path} too
    app.include_router(cells_router)
    app.include_router(api_router)
    app.include_router(tiles_router)
    app.include_router(field_router)
    app.include_router(ogc_router)  # OGC API – Features for GIS clients

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{_STATIC}/swagger-ui.css",
            swagger_favicon_url="data:,",
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
        )

    @app.get(f"{_STATIC}/{{name}}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        if name not in _DOCS_ASSETS + FIELD_ASSETS:
            raise NotFoundError(f"no file {name!r} here")
        return FileResponse(STATIC_DIR / name)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return ctx.cached(ctx.pool.get(), "page:/", lambda: _map_page(ctx))

    @app.get(_LOGIN, response_class=HTMLResponse, include_in_schema=False)
    def login() -> str:
        return (_login_template().replace("__TITLE__", html_text(settings.title))
                .replace("__API__", _API))

    log.info("serving %s", pool.location)
    return app
