"""OGC API – Features (Part 1 Core, GeoJSON; Part 2 CRS by reference) under ``/ogc``.

QGIS ("OGC API - Features" / OAPIF provider), ArcGIS Pro and GDAL's OAPIF driver add the
live layers of a running ``lvdun serve``: ``leads``, ``reserves``, ``wetlands``, ``mines``.
The rights are the API's: every route needs the API's token (as a bearer token, or as
the password of HTTP Basic authentication, the one QGIS 3.22 sends), and the leads are those of
the lead catalog (:class:`webmap.app.catalog.LeadCatalog`), so that an editor sees only
the leads of their reserves; the context layers are the ones the map page shows everyone
logged in.

Coordinates are CRS84 (longitude, latitude) by default; ``crs=`` the EPSG:4490 URI gives
CGCS2000 in its axis order (latitude first), as Part 2 requires. The stored geometries
are CGCS2000: the two systems agree to a few centimetres, so CRS84 coordinates are the
stored ones, and ``Content-Crs`` names the one answered.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any

import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from pipelines.errors import NotFoundError
from pipelines.users import User, authenticate
from webmap.app.api import Context, context, lead_query
from webmap.app.catalog import api_properties
from webmap.errors import RequestError

__all__ = ["COLLECTIONS", "CRS84", "EPSG4490", "ogc_router", "ogc_user"]

log = logging.getLogger(__name__)

ogc_router = APIRouter(prefix="/ogc", tags=["OGC API – Features"])

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
_GEOJSON = "application/geo+json"
#: Columns of the context layers kept from clients: where and when the server read them.
_INTERNAL = frozenset({"src_file", "src_row", "run_id"})
_JSON = "application/json"

#: collection -> (title, description, id column)
COLLECTIONS: dict[str, tuple[str, str, str]] = {
    "leads": ("线索", "绿盾 leads with their class and verification state", "lead_id"),
    "reserves": ("保护区功能区", "Nature reserves, one polygon per functional zone", "fid"),
    "wetlands": ("湿地", "Wetlands of the wetland list", "fid"),
    "mines": ("矿山", "Mines and their restoration", "fid"),
}

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]


def _token(request: Request) -> str | None:
    """The API token of ``Authorization: Bearer <token>`` or, for GIS clients that only
    send a user name and password (QGIS's Basic authentication), ``Basic`` with the token
    as the password."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2]
    return None


def ogc_user(request: Request) -> User:
    """The user holding the request's token (401 without a valid one), as the API."""
    return authenticate(context(request).pool.get(), _token(request))


CurrentUser = Annotated[User, Depends(ogc_user)]


def _json(value: Any, media: str = _JSON, **headers: str) -> Response:
    return Response(json.dumps(value, ensure_ascii=False, default=str), media_type=media,
                    headers=headers)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _collection(name: str) -> tuple[str, str, str]:
    if name not in COLLECTIONS:
        raise NotFoundError(f"no collection {name!r}; collections: {', '.join(COLLECTIONS)}")
    return COLLECTIONS[name]


def _crs(value: str | None) -> str:
    if value is None or value in (CRS84, "CRS84", "OGC:CRS84"):
        return CRS84
    if value in (EPSG4490, "EPSG:4490"):
        return EPSG4490
    raise RequestError(f"crs {value!r}: this server answers in {CRS84} or {EPSG4490}")


def _bbox(value: str | None, crs: str) -> tuple[float, float, float, float] | None:
    """The bbox in lon/lat; one in EPSG:4490 comes latitude first."""
    if value is None or not value.strip():
        return None
    try:
        parts = [float(v) for v in value.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not all(np.isfinite(parts)):
        raise RequestError(f"bbox {value!r}: give minx,miny,maxx,maxy, e.g. "
                           "bbox=126.3,43.3,126.8,43.7 (CRS84)")
    if crs == EPSG4490:
        parts = [parts[1], parts[0], parts[3], parts[2]]
    if parts[0] > parts[2] or parts[1] > parts[3]:
        raise RequestError(f"bbox {value!r}: the minimum comes before the maximum")
    return parts[0], parts[1], parts[2], parts[3]


def _geometries(geoms: Any, crs: str) -> list[str | None]:
    arr = np.asarray(geoms, dtype=object)
    if not len(arr):
        return []
    if crs == EPSG4490:
        arr = shapely.transform(arr, lambda xy: xy[:, ::-1])
    return list(shapely.to_geojson(arr))


def _clean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _features(frame: pd.DataFrame, name: str, crs: str) -> list[str]:
    key = COLLECTIONS[name][2]
    geoms = _geometries(frame.geometry.values if len(frame) else [], crs)
    out = []
    for geom, row in zip(geoms, frame.drop(columns="geometry").to_dict("records"),
                         strict=True):
        props = (api_properties(row) if name == "leads" else
                 {k: _clean(v) for k, v in row.items() if k not in _INTERNAL})
        fid = row["fid"] if key == "fid" else row[key]
        out.append(json.dumps({"type": "Feature", "id": _clean(fid), "geometry": None,
                               "properties": props}, ensure_ascii=False, default=str)
                   .replace('"geometry": null', f'"geometry": {geom or "null"}', 1))
    return out


@ogc_router.get("", summary="OGC API – Features landing page")
def _landing(request: Request, user: CurrentUser) -> Response:
    """Links to the API's conformance and collections."""
    base = _base(request)
    return _json({"title": "lvdun 绿盾", "description": "Live layers of the workspace",
                  "links": [
                      {"href": base, "rel": "self", "type": _JSON},
                      {"href": f"{base}/conformance", "rel": "conformance", "type": _JSON},
                      {"href": f"{base}/collections", "rel": "data", "type": _JSON},
                      {"href": str(request.base_url) + "openapi.json", "rel": "service-desc",
                       "type": "application/vnd.oai.openapi+json;version=3.0"},
                  ]})


@ogc_router.get("/conformance", summary="Conformance classes")
def _conformance(user: CurrentUser) -> Response:
    """The conformance classes the API implements."""
    return _json({"conformsTo": CONFORMANCE})


def _describe(request: Request, name: str, ctx: Any) -> dict[str, Any]:
    title, description, _ = _collection(name)
    base = f"{_base(request)}/collections/{name}"
    ws = ctx.pool.get()
    extent = ws.extent(name) if name != "leads" else ctx.catalog.bounds(ws)
    info: dict[str, Any] = {
        "id": name, "title": title, "description": description, "itemType": "feature",
        "crs": [CRS84, EPSG4490], "storageCrs": EPSG4490,
        "links": [{"href": base, "rel": "self", "type": _JSON},
                  {"href": f"{base}/items", "rel": "items", "type": _GEOJSON}],
    }
    if extent is not None:
        info["extent"] = {"spatial": {"bbox": [list(extent)], "crs": CRS84}}
    return info


@ogc_router.get("/collections", summary="The collections")
def _collections(request: Request, user: CurrentUser, ctx: Context) -> Response:
    """Leads, reserves, wetlands and mines."""
    return _json({"collections": [_describe(request, n, ctx) for n in COLLECTIONS],
                  "links": [{"href": f"{_base(request)}/collections", "rel": "self",
                             "type": _JSON}]})


@ogc_router.get("/collections/{name}", summary="One collection")
def _collection_page(name: str, request: Request, user: CurrentUser, ctx: Context) -> Response:
    """The collection's extent, CRSs and links."""
    return _json(_describe(request, name, ctx))


@ogc_router.get("/collections/{name}/items", summary="Features of a collection",
                response_class=Response, responses={200: {"content": {_GEOJSON: {}}}})
def _items(
    name: str,
    request: Request,
    user: CurrentUser,
    ctx: Context,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy")] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
    crs: Annotated[str | None, Query(description=f"{CRS84} (default) or {EPSG4490}")] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """A page of features, ``next`` linking to the following one."""
    _collection(name)
    answer, box_crs = _crs(crs), _crs(bbox_crs)
    box = _bbox(bbox, box_crs)
    size = min(limit or ctx.settings.page_size, ctx.settings.max_page_size)
    ws = ctx.pool.get()
    if name == "leads":
        query = replace(lead_query(user), bbox=box)
        page, total = ctx.catalog.select(ws, user, query, limit=size, offset=offset)
    else:
        page, total = ws.features_in_box(name, box, limit=size, offset=offset)
    self_url = str(request.url)
    links = [{"href": self_url, "rel": "self", "type": _GEOJSON}]
    if offset + len(page) < total:
        links.append({"href": str(request.url.include_query_params(
            offset=offset + len(page), limit=size)), "rel": "next", "type": _GEOJSON})
    meta = json.dumps({"numberMatched": total, "numberReturned": len(page),
                       "timeStamp": datetime.now(UTC).replace(microsecond=0).isoformat(),
                       "links": links}, ensure_ascii=False)
    body = (f'{{"type":"FeatureCollection","features":[{",".join(_features(page, name, answer))}],'
            f"{meta[1:-1]}}}")
    return Response(body, media_type=_GEOJSON, headers={"Content-Crs": f"<{answer}>"})


@ogc_router.get("/collections/{name}/items/{fid:path}", summary="One feature",
                response_class=Response, responses={200: {"content": {_GEOJSON: {}}}})
def _item(name: str, fid: str, request: Request, user: CurrentUser, ctx: Context,
         crs: Annotated[str | None, Query()] = None) -> Response:
    """One feature by id (a lead by its lead id, others by ``fid``)."""
    _collection(name)
    answer = _crs(crs)
    ws = ctx.pool.get()
    if name == "leads":
        ctx.catalog.lead(ws, user, fid)  # 404 or 403 as the API
        query = lead_query(user, lead_id=[fid])
        page, _ = ctx.catalog.select(ws, user, query, limit=1)
    else:
        if not fid.isdigit():
            raise NotFoundError(f"no feature {fid!r} in {name}")
        frame = ws.read_features(name)
        page = frame[frame["fid"] == int(fid)]
    if not len(page):
        raise NotFoundError(f"no feature {fid!r} in {name}")
    text = _features(page, name, answer)[0]
    return Response(text, media_type=_GEOJSON, headers={"Content-Crs": f"<{answer}>"})
