/* lvdun map helpers (MIT, part of lvdun): vector layers, legend and title of the maps
 * written by webmap/map.py. The map builder escapes every data value and label in Python
 * (html.escape) before writing it into the file; these functions only arrange them. */
(function () {
  "use strict";

  var lvdun = {};
  var EMPTY = "\u2014";

  /** Popup table: escaped labels beside escaped cells. */
  lvdun.popupHtml = function (labels, cells) {
    var rows = [];
    for (var i = 0; i < labels.length; i++) {
      var cell = cells[i];
      rows.push("<tr><th>" + labels[i] + "</th><td>" + (cell ? cell : EMPTY) + "</td></tr>");
    }
    return '<table class="lvdun-popup">' + rows.join("") + "</table>";
  };

  /** Tooltip: the first indexed cell in bold, the others after it. */
  lvdun.tooltipHtml = function (indices, cells) {
    var head = cells[indices[0]] || EMPTY;
    var rest = [];
    for (var i = 1; i < indices.length; i++) {
      if (cells[indices[i]]) {
        rest.push(cells[indices[i]]);
      }
    }
    return "<b>" + head + "</b>" + (rest.length ? "<br>" + rest.join(" \u00b7 ") : "");
  };

  /**
   * Thicken the outline of polygons while the map is zoomed out (below `belowZoom`),
   * so that small patches (a few hundred m²) still show as dots of their colour.
   */
  function boostSmallPolygons(layer, styleOf, boost) {
    var boosted = null;

    function restyle() {
      var map = layer._map;
      var on = map.getZoom() < boost.belowZoom;
      if (on === boosted) {
        return;
      }
      boosted = on;
      layer.eachLayer(function (path) {
        if (path instanceof L.CircleMarker) {
          return;
        }
        var style = styleOf(path.feature);
        var weight = Math.max(style.weight || 1, boost.weight);
        path.setStyle(on ? L.extend({}, style, { weight: weight }) : style);
      });
    }

    layer.on("add", function () {
      boosted = null;
      restyle();
      layer._map.on("zoomend", restyle);
    });
    layer.on("remove", function () {
      if (layer._map) {
        layer._map.off("zoomend", restyle);
      }
    });
  }

  /**
   * A GeoJSON layer whose features carry a style key `k` and escaped popup cells `v`.
   * spec: {styles: {key: pathOptions}, fallback: pathOptions, radius: number,
   *        labels: [escaped label], tooltip: [cell index],
   *        boost: null | {belowZoom: number, weight: number}}
   */
  lvdun.vectorLayer = function (data, spec) {
    var styles = spec.styles || {};
    var fallback = spec.fallback || {};
    var radius = spec.radius || 5;
    var labels = spec.labels || [];
    var tooltip = spec.tooltip || [];

    function styleOf(feature) {
      return styles[feature.properties.k] || fallback;
    }

    var layer = L.geoJSON(data, {
      style: styleOf,
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, L.extend({ radius: radius }, styleOf(feature)));
      },
      onEachFeature: function (feature, path) {
        var cells = feature.properties.v;
        if (!cells) {
          return;
        }
        if (labels.length) {
          path.bindPopup(function () {
            return lvdun.popupHtml(labels, cells);
          }, { maxWidth: 420 });
        }
        if (tooltip.length) {
          path.bindTooltip(function () {
            return lvdun.tooltipHtml(tooltip, cells);
          }, { sticky: true });
        }
      }
    });
    if (spec.boost) {
      boostSmallPolygons(layer, styleOf, spec.boost);
    }
    return layer;
  };

  /** A legend control; `html` is built and escaped by the map builder. */
  lvdun.addLegend = function (map, html, position) {
    var legend = L.control({ position: position || "bottomright" });
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "lvdun-legend leaflet-control");
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    legend.addTo(map);
    return legend;
  };

  /** The map title, centred at the top; set as text, never parsed as HTML. */
  lvdun.addTitle = function (map, text) {
    var div = L.DomUtil.create("div", "lvdun-title", map.getContainer());
    div.textContent = text;
    return div;
  };

  /** A metric-only scale bar. */
  lvdun.addScale = function (map, position) {
    return L.control.scale({ position: position || "bottomleft", imperial: false }).addTo(map);
  };

  window.lvdun = lvdun;
})();
