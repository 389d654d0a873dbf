"""Settings of lvdun, read once from ``LVDUN_`` environment variables at each entry point.

The command line (:func:`pipelines.cli.options.settings`) and the web app
(:mod:`webmap.app.settings`, which adds the server's own fields) each read them once and
pass the values down; no library function reads the environment.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]

#: :data:`pipelines.store.DEFAULT_WORKSPACE`, not imported: the store loads geopandas, and
#: ``lvdun --help`` reads these settings (a test checks that the two agree).
DEFAULT_WORKSPACE = "lvdun.gpkg"


class Settings(BaseSettings):
    """What every lvdun entry point may need to know; each field reads ``LVDUN_<FIELD>``.

    Examples
    --------
    >>> Settings(workspace="demo/lvdun.gpkg").workspace
    'demo/lvdun.gpkg'
    """

    model_config = SettingsConfigDict(env_prefix="LVDUN_", extra="ignore")

    workspace: str = Field(DEFAULT_WORKSPACE,
                           description="A .gpkg file or a postgresql:// URL.")
    tianditu_key: str | None = Field(None, description="天地图 tk key for its basemaps.")
    dask_scheduler: str | None = Field(
        None, description="dask.distributed scheduler address for --engine dask; none: a "
        "local threaded scheduler.")
    lang: Literal["zh", "en"] = Field(
        "zh", description="Language of what people read: zh (Chinese, the default) or en.")
    photo_warn_m: float = Field(
        500.0, gt=0, description="Metres from its lead beyond which an evidence photo is "
        "flagged (CLI output and the history note).")
