"""Settings of the web app, read once from ``LVDUN_`` environment variables at start-up."""

from __future__ import annotations

from pydantic import Field

from pipelines.settings import Settings as LvdunSettings
from webmap.map.aggregate import AGGREGATE_ABOVE

__all__ = ["Settings"]


class Settings(LvdunSettings):
    """What ``lvdun serve`` needs to know; each field reads ``LVDUN_<FIELD>``.

    The fields of :class:`pipelines.settings.Settings` (workspace, 天地图 key...) and the
    server's own.

    Read at the entry point (:func:`webmap.app.serve.serve_cmd`) and handed to
    :func:`webmap.app.factory.create_app`; library code never reads the environment.

    Examples
    --------
    >>> Settings(workspace="demo/lvdun.gpkg").port
    8000
    """

    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8000, ge=0, le=65535, description="Port to listen on.")
    title: str = Field("绿盾线索", description="Title of the map page.")
    page_size: int = Field(1000, ge=1, description="Default GeoJSON page size.")
    max_page_size: int = Field(10000, ge=1, description="Largest GeoJSON page.")
    map_view_loading: int = Field(
        20000, ge=0, description="Above this many leads the map page loads the leads of "
        "its view only, again as the map moves (0: always).")
    map_view_limit: int = Field(20000, ge=1, description="Most leads the page loads at once.")
    map_cells_above: int = Field(
        AGGREGATE_ABOVE, ge=0, description="Above this many leads in view, zoomed out, the "
        "map page draws the lead counts per grid cell instead of the leads.")
    map_warm_up: bool = Field(True, description="Count the leads of the opening view "
                              "in the background when the app starts.")
    log_level: str = Field("info", description="uvicorn log level.")
