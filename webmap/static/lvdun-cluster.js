/* lvdun lead aggregates (MIT, part of lvdun): with many leads, zoomed out, the map draws
 * grid cells instead of the leads themselves, each with its count and coloured by its
 * share of open problems (问题, 整改中); clicking a cell zooms into it. Past the zoom
 * threshold the leads are drawn again. The cells follow the filters (lvdun:filter). */
(function () {
  "use strict";

  var lvdun = window.lvdun;
  var OPEN = { problem: true, rectifying: true };
  /** Fill by share of open problems: none, some, a third, half or more. */
  var RAMP = [[0, "#fff7bc"], [0.01, "#fec44f"], [0.2, "#fe9929"], [0.35, "#d95f0e"],
              [0.5, "#993404"]];

  function rampColour(share) {
    var colour = RAMP[0][1];
    for (var i = 0; i < RAMP.length; i++) {
      if (share >= RAMP[i][0]) {
        colour = RAMP[i][1];
      }
    }
    return colour;
  }

  /** The cells' fill for a share of open problems (the served page's cells use it too). */
  lvdun.openShareColour = rampColour;

  /** The status code of a lead path, from its style key ("problem.pt" -> "problem"). */
  function statusOf(path) {
    var key = (path.feature && path.feature.properties.k) || "";
    return key.split(".")[0];
  }

  function centreOf(path) {
    if (!path._lvdunCentre) {
      path._lvdunCentre = path.getLatLng ? path.getLatLng() : path.getBounds().getCenter();
    }
    return path._lvdunCentre;
  }

  /* Leads of a muted layer are neither drawn nor hit (as filtered-out ones). */
  var drawPoly = L.Canvas.prototype._updatePoly;
  var drawCircle = L.Canvas.prototype._updateCircle;
  var drawShape = L.Canvas.prototype._lvdunUpdateShape;
  function muted(path) {
    return path.lvdunGroup && path.lvdunGroup.lvdunMuted;
  }
  L.Canvas.include({
    _updatePoly: function (layer, closed) {
      if (!muted(layer)) {
        drawPoly.call(this, layer, closed);
      }
    },
    _updateCircle: function (layer) {
      if (!muted(layer)) {
        drawCircle.call(this, layer);
      }
    },
    _lvdunUpdateShape: function (layer) {
      if (!muted(layer)) {
        drawShape.call(this, layer);
      }
    }
  });
  [L.Polyline, L.Polygon, L.CircleMarker].forEach(function (kind) {
    var contains = kind.prototype._containsPoint;
    kind.include({
      _containsPoint: function (point, closed) {
        return !muted(this) && contains.call(this, point, closed);
      }
    });
  });

  /**
   * Aggregate the leads of `leads` while zoomed out.
   * spec: {minLeads: aggregate only above this many leads, belowZoom: aggregate below
   *        this zoom, cellPx: cell size in pixels, labels: {status: label}}
   * Returns the state, also kept as lvdun.aggregates: {layer, active(), cells()}.
   */
  lvdun.aggregateLeads = function (map, leads, spec) {
    var cells = L.featureGroup();
    var labels = spec.labels || {};
    var count = 0;
    var active = false;

    function mute(on) {
      if (Boolean(leads.lvdunMuted) !== on) {
        leads.lvdunMuted = on;
        lvdun.redrawAll(leads);
      }
    }

    function tooltip(cell) {
      var div = document.createElement("div");
      var head = document.createElement("b");
      head.textContent = cell.n.toLocaleString() + " 条线索";
      div.appendChild(head);
      Object.keys(labels).forEach(function (code) {
        if (cell.by[code]) {
          div.appendChild(document.createElement("br"));
          div.appendChild(document.createTextNode(labels[code] + " " +
                                                  cell.by[code].toLocaleString()));
        }
      });
      div.appendChild(document.createElement("br"));
      div.appendChild(document.createTextNode("问题未销号占 " + Math.round(cell.open / cell.n * 100) +
                                              "%（点击放大）"));
      return div;
    }

    function build() {
      cells.clearLayers();
      count = 0;
      var zoom = map.getZoom();
      var paths = leads.lvdunPaths;
      for (var p = 0; p < paths.length; p++) {
        paths[p].lvdunGroup = leads;
      }
      active = map.hasLayer(leads) && paths.length > spec.minLeads && zoom < spec.belowZoom;
      mute(active);
      if (!active) {
        return;
      }
      var size = spec.cellPx * 360 / (256 * Math.pow(2, zoom));
      var grid = {};
      for (var i = 0; i < paths.length; i++) {
        var path = paths[i];
        if (path.lvdunHidden) {
          continue;
        }
        var c = centreOf(path);
        var gx = Math.floor(c.lng / size);
        var gy = Math.floor(c.lat / size);
        var key = gx + ":" + gy;
        var cell = grid[key] || (grid[key] = { gx: gx, gy: gy, n: 0, open: 0, by: {} });
        var code = statusOf(path);
        cell.n++;
        cell.by[code] = (cell.by[code] || 0) + 1;
        if (OPEN[code]) {
          cell.open++;
        }
      }
      Object.keys(grid).forEach(function (key) {
        var cell = grid[key];
        var bounds = L.latLngBounds([cell.gy * size, cell.gx * size],
                                    [(cell.gy + 1) * size, (cell.gx + 1) * size]);
        var colour = rampColour(cell.open / cell.n);
        var box = L.rectangle(bounds, {
          color: "#4d4d4d", weight: 1, fillColor: colour, fillOpacity: 0.75
        });
        box.lvdunCell = cell;
        box.bindTooltip(tooltip(cell), { sticky: true });
        box.on("click", function () {
          map.fitBounds(bounds, { maxZoom: spec.belowZoom });
        });
        cells.addLayer(box);
        var label = L.marker(bounds.getCenter(), {
          interactive: false,
          icon: L.divIcon({ className: "lvdun-cell-count", html: "", iconSize: [40, 16] })
        });
        label.on("add", function () {
          label.getElement().textContent = cell.n >= 10000
            ? Math.round(cell.n / 1000) + "k" : String(cell.n);
        });
        cells.addLayer(label);
        count++;
      });
    }

    cells.addTo(map);
    map.on("zoomend", build);
    map.on("lvdun:filter", build);
    map.on("overlayadd overlayremove", build);
    leads.on("lvdun:data", function () {
      build();
    });
    build();
    lvdun.aggregates = {
      layer: cells,
      active: function () {
        return active;
      },
      cells: function () {
        return count;
      }
    };
    return lvdun.aggregates;
  };
})();
