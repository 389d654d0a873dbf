"""Offline maps: Leaflet and its plugins inlined from ``webmap/static`` instead of CDNs.

folium links every script and stylesheet from a CDN (``default_js`` / ``default_css`` on
the map and on each plugin). A bureau opens the published map from disk, often without
internet, so :class:`OfflineMap` takes those links over when it renders: each one is
replaced by the vendored bundle it stands for (inlined ``<script>`` / ``<style>``, images
as ``data:`` URIs), resources lvdun maps never use (jQuery, Bootstrap, awesome-markers,
Font Awesome) are dropped, and an element asking for anything else raises
:class:`~webmap.errors.AssetError` rather than writing a map that breaks offline.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import folium
from branca.element import Element, Figure
from folium.elements import JSCSSMixin

from webmap.errors import AssetError

__all__ = [
    "BUNDLES",
    "FOLIUM_RESOURCES",
    "STATIC_DIR",
    "Bundle",
    "InlineAssets",
    "OfflineMap",
    "adopt_resources",
    "external_resources",
    "inline_css",
    "inline_js",
]

log = logging.getLogger(__name__)

#: The vendored files (a plain folder next to this module, shipped as package data).
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"


@dataclass(frozen=True)
class Bundle:
    """Vendored files that together replace one CDN resource set.

    Parameters
    ----------
    scripts, styles
        File names in ``webmap/static``, in load order.
    """

    scripts: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()


#: Vendored bundles in load order (Leaflet first, lvdun's own helpers last).
BUNDLES: dict[str, Bundle] = {
    "leaflet": Bundle(scripts=("leaflet.js",), styles=("leaflet.css",)),
    "fullscreen": Bundle(scripts=("Control.FullScreen.js",), styles=("Control.FullScreen.css",)),
    "measure": Bundle(scripts=("leaflet-measure.cn.js",), styles=("leaflet-measure.css",)),
    "lvdun": Bundle(
        scripts=("lvdun-map.js", "lvdun-shift.js", "lvdun-filter.js", "lvdun-cluster.js",
                 "lvdun-background.js"),
        styles=("lvdun-map.css",),
    ),
    "grouped-layers": Bundle(
        scripts=("leaflet.groupedlayercontrol.min.js", "lvdun-layers.js"),
        styles=("leaflet.groupedlayercontrol.min.css",),
    ),
    "lvdun-app": Bundle(scripts=("lvdun-cells.js", "lvdun-app.js")),
}

#: folium's resource names -> the bundle replacing them, or None for resources that lvdun
#: maps do not use (they only serve folium's Marker icons and Bootstrap-styled popups).
FOLIUM_RESOURCES: dict[str, str | None] = {
    "leaflet": "leaflet",
    "leaflet_css": "leaflet",
    "Control.Fullscreen.js": "fullscreen",
    "Control.FullScreen.css": "fullscreen",
    "leaflet_measure_js": "measure",
    "leaflet_measure_css": "measure",
    "leaflet.groupedlayercontrol.min.js": "grouped-layers",
    "leaflet.groupedlayercontrol.min.css": "grouped-layers",
    "jquery": None,
    "bootstrap": None,
    "bootstrap_css": None,
    "glyphicons_css": None,
    "awesome_markers": None,
    "awesome_markers_css": None,
    "awesome_markers_font_css": None,
    "awesome_rotate_css": None,
}

_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
_EXTERNAL = re.compile(
    r"""<script[^>]+src=["']https?:[^"']*|<link[^>]+href=["']https?:[^"']*""", re.IGNORECASE
)


@cache
def _static_bytes(name: str) -> bytes:
    """Return a file of ``webmap/static``; raise AssetError naming it if it is missing."""
    path = STATIC_DIR / name
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise AssetError(
            f"vendored file webmap/static/{name} is missing; reinstall lvdun or restore it "
            "from the npm tarball listed in webmap/static/LICENSES.txt"
        ) from exc


def _data_uri(match: re.Match[str], css_name: str) -> str:
    url = match.group(2).strip()
    if url.startswith(("data:", "#")):
        return match.group(0)
    name = url.rsplit("/", 1)[-1]
    mime = _MIME.get(name[name.rfind(".") :].lower()) if "." in name else None
    if mime is None:
        raise AssetError(f"{css_name} refers to {url!r}, which cannot be inlined")
    encoded = base64.b64encode(_static_bytes(name)).decode("ascii")
    return f'url("data:{mime};base64,{encoded}")'


@cache
def inline_css(name: str) -> str:
    """Return a vendored stylesheet with every ``url(...)`` image turned into a data URI.

    Parameters
    ----------
    name
        File name in ``webmap/static``.

    Returns
    -------
    str
        CSS text safe to place inside ``<style>``.
    """
    css = _static_bytes(name).decode("utf-8")
    css = _CSS_URL.sub(lambda m: _data_uri(m, name), css)
    if "</style" in css.lower():
        raise AssetError(f"{name} contains '</style' and cannot be inlined")
    return css


@cache
def inline_js(name: str) -> str:
    """Return a vendored script, safe to place inside ``<script>``.

    Parameters
    ----------
    name
        File name in ``webmap/static``.

    Returns
    -------
    str
        The script, with any ``</script`` sequence written as ``<\\/script``.
    """
    js = _static_bytes(name).decode("utf-8")
    return re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)


class InlineAssets(Element):
    """The ``<style>`` and ``<script>`` blocks of the given bundles, for the page header.

    Parameters
    ----------
    bundles
        Names from :data:`BUNDLES`; rendered in the order of :data:`BUNDLES`.
    """

    def __init__(self, bundles: Iterable[str]) -> None:
        super().__init__()
        self._name = "InlineAssets"
        wanted = set(bundles)
        unknown = wanted - BUNDLES.keys()
        if unknown:
            raise AssetError(f"unknown asset bundles: {sorted(unknown)}")
        self.bundles = [name for name in BUNDLES if name in wanted]

    def render(self, **kwargs: Any) -> str:
        """Return the inlined styles and scripts as HTML."""
        parts: list[str] = []
        for name in self.bundles:
            bundle = BUNDLES[name]
            parts.extend(f"<style>\n{inline_css(css)}\n</style>" for css in bundle.styles)
            parts.extend(f"<script>\n{inline_js(js)}\n</script>" for js in bundle.scripts)
        return "\n".join(parts)


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def adopt_resources(root: Element) -> set[str]:
    """Take the CDN links of every element under ``root`` over; return the bundles needed.

    Each :class:`~folium.elements.JSCSSMixin` element gets empty ``default_js`` and
    ``default_css`` (on the instance), so folium writes no ``<script src>`` or
    ``<link href>`` for it.

    Parameters
    ----------
    root
        The map (or any element) whose descendants are examined.

    Returns
    -------
    set of str
        Names of :data:`BUNDLES` replacing the links found.

    Raises
    ------
    AssetError
        If an element needs a resource that is not vendored, naming the element and URL.
    """
    needed: set[str] = set()
    missing: list[str] = []
    for element in _walk(root):
        if not isinstance(element, JSCSSMixin):
            continue
        for name, url in [*element.default_js, *element.default_css]:
            if name not in FOLIUM_RESOURCES:
                missing.append(f"{type(element).__name__} needs {name!r} ({url})")
            elif (bundle := FOLIUM_RESOURCES[name]) is not None:
                needed.add(bundle)
        element.default_js = []
        element.default_css = []
    if missing:
        raise AssetError(
            "these map elements need resources that are not vendored for offline use: "
            + "; ".join(missing)
            + ". Vendor them in webmap/static and list them in webmap.map.offline.BUNDLES."
        )
    return needed


def external_resources(html: str) -> list[str]:
    """Return the external ``<script src>`` and ``<link href>`` tags left in ``html``.

    Tile URLs of optional online basemaps live inside scripts and are not reported.

    Examples
    --------
    >>> external_resources('<script src="https://cdn.example/x.js"></script>')
    ['<script src="https://cdn.example/x.js']
    >>> external_resources("<script>L.tileLayer('https://t0.example/{z}')</script>")
    []
    """
    return _EXTERNAL.findall(html)


class OfflineMap(folium.Map):
    """A :class:`folium.Map` that renders with every script and stylesheet inlined.

    Takes the same arguments as :class:`folium.Map`. Rendering (``save``, ``_repr_html_``,
    ``get_root().render()``) inlines Leaflet, lvdun's helpers and the bundles of the
    plugins found on the map; see :func:`adopt_resources`.
    """

    #: More bundles to inline besides those the elements ask for (e.g. ``lvdun-app``).
    extra_bundles: frozenset[str] = frozenset()

    def render(self, **kwargs: Any) -> None:
        """Replace CDN links with inlined bundles, then render as folium does."""
        bundles = {"leaflet", "lvdun"} | set(self.extra_bundles) | adopt_resources(self)
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise AssetError("an OfflineMap can only render inside a branca Figure")
        # Appended after the charset <meta>, which must stay within the first 1024 bytes.
        figure.header.add_child(InlineAssets(bundles), name="lvdun_inline_assets")
        log.debug("inlining asset bundles %s", sorted(bundles))
        super().render(**kwargs)
