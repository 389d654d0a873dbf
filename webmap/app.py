"""The web app behind ``lvdun serve``: the map page and the leads API (FastAPI)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import FastAPI, Query
from fastapi.responses import HTMLResponse, Response

from pipelines.store import open_workspace
from pipelines.views import leads_view
from webmap.publish import map_html
from webmap.settings import Settings

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    """Return the app serving the workspace named in ``settings``."""
    app = FastAPI(title="lvdun", description="绿盾线索 web app")

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        with open_workspace(settings.workspace, create=False) as ws:
            return map_html(ws, title=settings.title, tianditu_key=settings.tianditu_key)

    @app.get("/api/leads.geojson")
    def leads(
        status: Annotated[list[str] | None, Query()] = None,
        limit: Annotated[int | None, Query(ge=1)] = None,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Response:
        with open_workspace(settings.workspace, create=False) as ws:
            view = leads_view(ws)
        if status:
            view = view[view["status"].isin(status)]
        size = min(limit or settings.page_size, settings.max_page_size)
        page = view.iloc[offset : offset + size]
        return Response(page.to_json(drop_id=True), media_type="application/geo+json")

    return app
