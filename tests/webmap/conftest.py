"""Fixtures of the web map and web app tests."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import geopandas as gpd
import pytest

from pipelines.users import add_user
from tests.webmap.frames import make_frames
from webmap.app.factory import create_app
from webmap.app.settings import Settings

with warnings.catch_warnings():
    # starlette 1.x suggests httpx2 for its TestClient when it finds httpx; httpx works.
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient

#: The users of the app tests: name, role, reserves.
USERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "viewer": ("省厅查看", "viewer", ()),
    "editor": ("甲保护区管理局", "editor", ("R01",)),
    "editor2": ("乙保护区管理局", "editor", ("R02",)),
    "admin": ("管理员", "admin", ()),
}


@pytest.fixture
def frames() -> dict[str, gpd.GeoDataFrame]:
    """All five layers, with 200 leads of every status (lead 0 has a hostile note)."""
    return make_frames(200)


@pytest.fixture
def tokens(classified) -> dict[str, str]:
    """A token per role in :data:`USERS`, added to the classified workspace."""
    return {key: add_user(classified, name, role, reserves=reserves)[1]
            for key, (name, role, reserves) in USERS.items()}


@pytest.fixture
def client(classified, tokens) -> Iterator[TestClient]:
    """The web app over the classified workspace (two reserves, six leads)."""
    with TestClient(create_app(Settings(workspace=classified.location))) as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    """Headers carrying ``token``."""
    return {"Authorization": f"Bearer {token}"}
