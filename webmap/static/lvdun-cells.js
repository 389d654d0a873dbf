/* lvdun server aggregates (MIT, part of lvdun): the map page of `lvdun serve` over many
 * leads. Zoomed out, where the view holds more leads than the page draws, it asks the
 * server for the lead counts per grid cell (GET /api/map/cells, the filters of the panel
 * sent along) and draws one square per cell with its count, coloured by its share of open
 * problems (问题, 整改中) or, when the status filter picks some statuses, by the status
 * most of its leads have; a click zooms into the cell. Zoomed in, the leads of the view
 * themselves (GET /api/map/leads?bbox=..., filtered on the server too). The legend counts
 * are the cells' totals. Everything from the server is set as text. */
(function () {
  "use strict";

  var lvdun = window.lvdun;
  var DIMENSIONS = ["activity", "batch", "reserve", "zone"];

  function countLabel(n) {
    return n >= 10000 ? Math.round(n / 1000) + "k" : String(n);
  }

  /**
   * The query of the panel's filters as the API takes them (summary.params maps each
   * value the panel shows to the API's values); null when nothing can match.
   */
  lvdun.filterQuery = function (values, summary) {
    var parts = [];
    if (values.status) {
      if (!values.status.length) {
        return null;
      }
      parts.push("status=" + encodeURIComponent(values.status.join(",")));
    }
    for (var d = 0; d < DIMENSIONS.length; d++) {
      var dim = DIMENSIONS[d];
      if (!values[dim]) {
        continue;
      }
      var names = summary.filters[dim] || [];
      var wanted = [];
      var empty = false;
      values[dim].forEach(function (value) {
        var at = names.indexOf(value);
        (at < 0 ? [] : summary.params[dim][at]).forEach(function (param) {
          if (param === null) {
            empty = true;
          } else if (wanted.indexOf(param) < 0) {
            wanted.push(param);
          }
        });
      });
      if (!wanted.length && !empty) {
        return null;
      }
      wanted.forEach(function (param) {
        parts.push(dim + "=" + encodeURIComponent(param));
      });
      if (empty) {
        parts.push("empty=" + dim);
      }
    }
    return parts.join("&");
  };

  /**
   * Draw the leads layer of the app page from the server: cells zoomed out, leads zoomed in.
   * app: {map, call(path) -> Promise of {ok, status, body}, setLayer(layer, body)};
   * summary: the answer of GET /api/map/summary.
   * Returns the state (the app keeps it as lvdunApp.cells): {layer, refresh(), mode(),
   * cells(), total()}.
   */
  lvdun.serverCells = function (app, leads, summary) {
    var map = app.map;
    // cells above the reserves (which would take their clicks), below tooltips and popups
    if (!map.getPane("lvdunCells")) {
      map.createPane("lvdunCells").style.zIndex = 450;
    }
    var renderer = L.canvas({ pane: "lvdunCells" });
    var group = L.featureGroup().addTo(map);
    var spec = summary.aggregate;
    var mode = null;
    var shown = 0;
    var total = 0;
    var sequence = 0;
    var timer = null;
    var statusFilter = null;

    function viewBox(pad) {
      var b = map.getBounds().pad(pad);
      return [Math.max(b.getWest(), -180), Math.max(b.getSouth(), -85.06),
              Math.min(b.getEast(), 180), Math.min(b.getNorth(), 85.06)].map(function (v) {
        return v.toFixed(5);
      }).join(",");
    }

    function tooltip(cell) {
      var div = document.createElement("div");
      var head = document.createElement("b");
      head.textContent = cell.n.toLocaleString() + " 条线索";
      div.appendChild(head);
      Object.keys(app.labels).forEach(function (code) {
        if (cell.by_status[code]) {
          div.appendChild(document.createElement("br"));
          div.appendChild(document.createTextNode(app.labels[code] + " " +
                                                  cell.by_status[code].toLocaleString()));
        }
      });
      div.appendChild(document.createElement("br"));
      div.appendChild(document.createTextNode("问题未销号占 " + Math.round(open(cell) / cell.n * 100) +
                                              "%（点击放大）"));
      return div;
    }

    function open(cell) {
      return (cell.by_status.problem || 0) + (cell.by_status.rectifying || 0);
    }

    function fillOf(cell, colours) {
      if (!statusFilter) {
        return lvdun.openShareColour(open(cell) / cell.n);
      }
      var best = null;
      Object.keys(cell.by_status).forEach(function (code) {
        if (best === null || cell.by_status[code] > cell.by_status[best]) {
          best = code;
        }
      });
      return colours[best] || "#999999";
    }

    function counts(body) {
      leads.lvdunServerCounts = mode === "cells" ? {
        byStatus: body.by_status, shown: body.total, total: summary.total
      } : null;
      if (window.lvdunMap) {
        window.lvdunMap.refilter();
      }
    }

    function drawCells(body) {
      if (mode !== "cells") {
        mode = "cells";
        app.setLayer(leads, { data: null, filters: summary.filters, numberMatched: 0 });
      }
      group.clearLayers();
      var colours = window.lvdunMap ? window.lvdunMap.statusColours() : {};
      body.cells.forEach(function (cell) {
        var bounds = L.latLngBounds([cell.bbox[1], cell.bbox[0]], [cell.bbox[3], cell.bbox[2]]);
        var box = L.rectangle(bounds, {
          color: "#4d4d4d", weight: 1, fillColor: fillOf(cell, colours), fillOpacity: 0.75,
          renderer: renderer
        });
        box.lvdunCell = cell;
        box.bindTooltip(tooltip(cell), { sticky: true });
        box.on("click", function () {
          map.fitBounds(bounds, { maxZoom: spec.belowZoom });
        });
        group.addLayer(box);
        var label = L.marker(bounds.getCenter(), {
          interactive: false,
          icon: L.divIcon({ className: "lvdun-cell-count", html: "", iconSize: [40, 16] })
        });
        label.on("add", function () {
          label.getElement().textContent = countLabel(cell.n);
        });
        group.addLayer(label);
      });
      shown = body.cells.length;
      total = body.total;
      counts(body);
      if (app.notice) {
        app.notice.style.display = "none";
      }
      map.fire("lvdun:cells", { cells: shown, total: total });
    }

    function drawLeads(query, seq) {
      var limit = leads.lvdunSpec.limit || 20000;
      return app.call("/map/leads?bbox=" + viewBox(0.2) + "&limit=" + limit +
                      (query ? "&" + query : "")).then(function (result) {
        if (seq !== sequence || !result.ok || !result.body) {
          return;
        }
        group.clearLayers();
        mode = "leads";
        shown = 0;
        leads.lvdunServerCounts = null;
        app.setLayer(leads, result.body);
        total = result.body.numberMatched || 0;
        map.fire("lvdun:cells", { cells: 0, total: total });
      });
    }

    /** Ask the server for what the view shows now. */
    function refresh() {
      var seq = ++sequence;
      if (!map.hasLayer(leads)) {
        group.clearLayers();
        return Promise.resolve();
      }
      var values = window.lvdunMap ? window.lvdunMap.filterValues() : { status: null };
      statusFilter = values.status;
      var query = lvdun.filterQuery(values, summary);
      var zoom = map.getZoom();
      if (query === null) { // a filter keeps nothing
        mode = "cells";
        drawCells({ cells: [], total: 0, by_status: {} });
        return Promise.resolve();
      }
      if (zoom >= spec.belowZoom) {
        return drawLeads(query, seq);
      }
      var z = Math.min(Math.max(Math.round(zoom), 0), spec.maxCellZoom);
      return app.call("/map/cells?z=" + z + "&bbox=" + viewBox(0.1) +
                      (query ? "&" + query : "")).then(function (result) {
        if (seq !== sequence) {
          return null;
        }
        if (!result.ok || !result.body) {
          throw new Error("cannot load cells: " + result.status);
        }
        if (result.body.total > spec.above) {
          drawCells(result.body);
          return null;
        }
        return drawLeads(query, seq);
      });
    }

    function later() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 200);
    }

    map.on("moveend", later);
    map.on("lvdun:filterchange", later);
    map.on("overlayadd overlayremove", later);
    return {
      layer: group,
      refresh: refresh,
      mode: function () {
        return mode;
      },
      cells: function () {
        return shown;
      },
      total: function () {
        return total;
      }
    };
  };
})();
