"""OGC API – Features under /ogc (webmap/app/ogc.py): collections, items, paging, CRSs,
the API's rights."""

from __future__ import annotations

import pytest

from tests.webmap.conftest import TestClient, auth
from webmap.app.factory import create_app
from webmap.app.ogc import CRS84, EPSG4490, ogc_router
from webmap.app.settings import Settings

ALL = {"L001", "L002", "L003", "L004", "L005", "L006"}


@pytest.fixture
def ogc(classified, tokens):
    app = create_app(Settings(workspace=classified.location))
    if not any(getattr(r, "path", "") == "/ogc" for r in app.routes):
        app.include_router(ogc_router)
    with TestClient(app) as test_client:
        yield test_client


def ids(response) -> set[str]:
    return {f["id"] for f in response.json()["features"]}


def test_landing_conformance_collections(ogc, tokens):
    headers = auth(tokens["viewer"])
    landing = ogc.get("/ogc", headers=headers).json()
    assert {link["rel"] for link in landing["links"]} >= {"conformance", "data", "self"}
    conf = ogc.get("/ogc/conformance", headers=headers).json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conf
    names = [c["id"] for c in ogc.get("/ogc/collections", headers=headers).json()["collections"]]
    assert names == ["leads", "reserves", "wetlands", "mines"]
    leads = ogc.get("/ogc/collections/leads", headers=headers).json()
    assert leads["crs"] == [CRS84, EPSG4490]
    minx, miny, maxx, maxy = leads["extent"]["spatial"]["bbox"][0]
    assert (minx, miny, maxx, maxy) == pytest.approx((126.42, 43.42, 127.5, 44.0))
    assert ogc.get("/ogc/collections/nothing", headers=headers).status_code == 404


def test_no_token_no_features(ogc):
    assert ogc.get("/ogc/collections/leads/items").status_code == 401


def test_items_paging_and_bbox(ogc, tokens):
    headers = auth(tokens["viewer"])
    first = ogc.get("/ogc/collections/leads/items?limit=4", headers=headers)
    assert first.headers["content-type"].startswith("application/geo+json")
    assert first.headers["content-crs"] == f"<{CRS84}>"
    body = first.json()
    assert (body["numberMatched"], body["numberReturned"]) == (6, 4)
    following = next(link["href"] for link in body["links"] if link["rel"] == "next")
    second = ogc.get(following, headers=headers).json()
    assert second["numberReturned"] == 2
    assert not [link for link in second["links"] if link["rel"] == "next"]
    assert ids(first) | {f["id"] for f in second["features"]} == ALL
    boxed = ogc.get("/ogc/collections/leads/items?bbox=126.4,43.4,126.6,43.6", headers=headers)
    assert ids(boxed) == {"L001", "L002", "L006"}
    reserves = ogc.get("/ogc/collections/reserves/items?bbox=126.75,43.41,126.76,43.43",
                       headers=headers).json()
    assert [f["properties"]["zone"] for f in reserves["features"]] == ["general_control"]
    assert "src_file" not in reserves["features"][0]["properties"]
    assert ogc.get("/ogc/collections/leads/items?bbox=1,2,x", headers=headers).status_code == 400


def test_crs_4490_is_latitude_first(ogc, tokens):
    headers = auth(tokens["viewer"])
    lon_lat = ogc.get("/ogc/collections/leads/items/L001", headers=headers)
    assert lon_lat.json()["geometry"]["coordinates"] == pytest.approx([126.5, 43.5])
    lat_lon = ogc.get(f"/ogc/collections/leads/items/L001?crs={EPSG4490}", headers=headers)
    assert lat_lon.headers["content-crs"] == f"<{EPSG4490}>"
    assert lat_lon.json()["geometry"]["coordinates"] == pytest.approx([43.5, 126.5])
    boxed = ogc.get(f"/ogc/collections/leads/items?bbox=43.4,126.4,43.6,126.6"
                    f"&bbox-crs={EPSG4490}", headers=headers)
    assert ids(boxed) == {"L001", "L002", "L006"}
    assert ogc.get("/ogc/collections/leads/items?crs=EPSG:3857",
                   headers=headers).status_code == 400


def test_editor_sees_only_their_reserve(ogc, tokens):
    headers = auth(tokens["editor2"])
    assert ids(ogc.get("/ogc/collections/leads/items", headers=headers)) == {"L003", "L004"}
    assert ogc.get("/ogc/collections/leads/items/L001", headers=headers).status_code == 403
    assert ogc.get("/ogc/collections/leads/items/L009", headers=headers).status_code == 404


def test_token_as_basic_password(ogc, tokens):
    import base64

    basic = base64.b64encode(f"qgis:{tokens['editor']}".encode()).decode()
    response = ogc.get("/ogc/collections/leads/items", headers={"Authorization": f"Basic {basic}"})
    bearer = ogc.get("/ogc/collections/leads/items", headers=auth(tokens["editor"]))
    assert ids(response) == ids(bearer) and "L004" not in ids(response) and "L001" in ids(response)
    wrong = base64.b64encode(b"qgis:nothing").decode()
    assert ogc.get("/ogc/collections/leads/items",
                   headers={"Authorization": f"Basic {wrong}"}).status_code == 401
