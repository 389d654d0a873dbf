/* lvdun map helpers (MIT, part of lvdun): vector layers, legend and title of the maps
 * written by webmap/map.py. The map builder escapes every data value and label in Python
 * (html.escape) before writing it into the file; these functions only arrange them. */
(function () {
  "use strict";

  var lvdun = {};
  var EMPTY = "\u2014";

  /** The JSON block the map builder wrote into the page, parsed; null for no id. */
  lvdun.readJson = function (id) {
    if (!id) {
      return null;
    }
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  };

  /**
   * The escaped cells of a feature: a number c in column j stands for cellDicts[j][c]
   * (cells shared by many features are written once per layer).
   */
  lvdun.cells = function (layer, properties) {
    var v = properties.v || [];
    var dicts = layer.lvdunSpec.cellDicts;
    if (!dicts) {
      return v;
    }
    var out = new Array(v.length);
    for (var j = 0; j < v.length; j++) {
      out[j] = typeof v[j] === "number" ? dicts[j][v[j]] : v[j];
    }
    return out;
  };

  /** Popup table: escaped labels beside escaped cells; `optional` rows only when filled. */
  lvdun.popupHtml = function (labels, cells, optional) {
    var rows = [];
    for (var i = 0; i < labels.length; i++) {
      var cell = cells[i];
      if (!cell && optional && optional.indexOf(i) >= 0) {
        continue;
      }
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
   * The size factor of markers and thickened outlines at a zoom level.
   * steps: [[belowZoom, factor]] by increasing zoom (the first that applies), or null.
   */
  lvdun.zoomScale = function (steps, zoom) {
    if (steps) {
      for (var i = 0; i < steps.length; i++) {
        if (zoom < steps[i][0]) {
          return steps[i][1];
        }
      }
    }
    return 1;
  };

  /**
   * Thicken the outline of polygons while the map is zoomed out (below `belowZoom`),
   * so that small patches (a few hundred m²) still show as dots of their colour; at
   * overview zooms the dots shrink with the markers (spec.scale).
   */
  function boostSmallPolygons(layer, styleOf, boost) {
    var boosted = null; // the outline weight now given to polygons; 0: none

    layer.lvdunPathStyle = function (path) {
      var style = styleOf(path.feature);
      if (!boosted || path instanceof L.CircleMarker) {
        return style;
      }
      return L.extend({}, style, { weight: Math.max(style.weight || 1, boosted) });
    };

    function restyle(force) {
      var map = layer._map;
      if (!map) {
        return;
      }
      var zoom = map.getZoom();
      var weight = zoom < boost.belowZoom
        ? boost.weight * lvdun.zoomScale(layer.lvdunSpec.scale, zoom) : 0;
      if (weight === boosted && force !== true) {
        return;
      }
      boosted = weight;
      var paths = layer.lvdunPaths;
      for (var i = 0; i < paths.length; i++) {
        if (!(paths[i] instanceof L.CircleMarker) && paths[i].setStyle) {
          paths[i].setStyle(layer.lvdunPathStyle(paths[i]));
        }
      }
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
    layer.on("lvdun:data", function () {
      restyle(true);
    });
  }

  /**
   * A circle marker drawn as another shape: unit `vertices` scaled by the radius. With
   * `scale` (see lvdun.zoomScale) it is drawn smaller, ring included, at overview zooms.
   */
  lvdun.ShapeMarker = L.CircleMarker.extend({
    options: { vertices: null, scale: null },
    _project: function () {
      this._lvdunScale = lvdun.zoomScale(this.options.scale, this._map.getZoom());
      this._radius = this.options.radius * this._lvdunScale;
      L.CircleMarker.prototype._project.call(this);
    },
    _updatePath: function () {
      if (this.options.vertices && this.options.vertices.length) {
        this._renderer._lvdunUpdateShape(this);
      } else {
        this._renderer._updateCircle(this);
      }
    }
  });

  /*
   * Paths hidden by the filters (path.lvdunHidden) stay in their layer and in the canvas's
   * list: they are skipped when drawing and when hit-testing. Filtering 10^5 leads then
   * costs one redraw, not 10^5 removals and insertions.
   */
  var drawPoly = L.Canvas.prototype._updatePoly;
  var drawCircle = L.Canvas.prototype._updateCircle;
  var fillStroke = L.Canvas.prototype._fillStroke;
  L.Canvas.include({
    /** Fill and stroke a path; a scaled-down marker gets its ring scaled too. */
    _fillStroke: function (ctx, layer) {
      var scale = layer._lvdunScale;
      if (!scale || scale === 1) {
        fillStroke.call(this, ctx, layer);
        return;
      }
      var weight = layer.options.weight;
      layer.options.weight = weight * scale;
      fillStroke.call(this, ctx, layer);
      layer.options.weight = weight;
    },
    _updatePoly: function (layer, closed) {
      if (!layer.lvdunHidden) {
        drawPoly.call(this, layer, closed);
      }
    },
    _updateCircle: function (layer) {
      if (!layer.lvdunHidden) {
        drawCircle.call(this, layer);
      }
    }
  });
  [L.Polyline, L.Polygon, L.CircleMarker].forEach(function (kind) {
    var contains = kind.prototype._containsPoint;
    kind.include({
      _containsPoint: function (point, closed) {
        return !this.lvdunHidden && contains.call(this, point, closed);
      }
    });
  });

  /** Redraw the whole canvas of a layer's paths now (after many paths changed). */
  lvdun.redrawAll = function (layer) {
    var paths = layer.lvdunPaths || [];
    for (var i = 0; i < paths.length; i++) {
      var renderer = paths[i]._renderer;
      if (renderer && renderer._map) {
        if (renderer instanceof L.Canvas) {
          renderer._redrawBounds = null;
          renderer._redraw();
        } else {
          layer.eachLayer(function (path) {
            path.redraw();
          });
        }
        return;
      }
    }
  };

  L.Canvas.include({
    _lvdunUpdateShape: function (layer) {
      if (!this._drawing || layer._empty() || layer.lvdunHidden) {
        return;
      }
      var p = layer._point;
      var ctx = this._ctx;
      var r = Math.max(Math.round(layer._radius), 1);
      var v = layer.options.vertices;
      ctx.beginPath();
      ctx.moveTo(p.x + v[0][0] * r, p.y + v[0][1] * r);
      for (var i = 1; i < v.length; i++) {
        ctx.lineTo(p.x + v[i][0] * r, p.y + v[i][1] * r);
      }
      ctx.closePath();
      this._fillStroke(ctx, layer);
    }
  });

  L.SVG.include({
    _lvdunUpdateShape: function (layer) {
      var p = layer._point;
      var r = Math.max(Math.round(layer._radius), 1);
      var v = layer.options.vertices;
      var d = "M" + (p.x + v[0][0] * r) + "," + (p.y + v[0][1] * r);
      for (var i = 1; i < v.length; i++) {
        d += "L" + (p.x + v[i][0] * r) + "," + (p.y + v[i][1] * r);
      }
      this._setPath(layer, layer._empty() ? "M0 0" : d + "z");
    }
  });

  /** Every layer made by lvdun.vectorLayer, for the GCJ-02 shift and the filters. */
  lvdun.vectorLayers = [];

  /**
   * A GeoJSON layer whose features carry a style key `k` and escaped popup cells `v`.
   * spec: {styles: {key: pathOptions}, fallback: pathOptions, radius: number,
   *        labels: [escaped label], tooltip: [cell index],
   *        boost: null | {belowZoom: number, weight: number},
   *        filters: {dimension: [raw value]}, shapes: [shape of each activity],
   *        vertices: {shape: [[x, y]]}, source: null | url of the layer in the web app,
   *        kind: "leads" | "reserves" | ...}
   * Leads carry `f`, their index in each filter dimension; `f[0]` picks the marker shape.
   * The layer keeps every path in `layer.lvdunPaths` (also those filtered out).
   */
  lvdun.vectorLayer = function (data, spec) {
    var styles = spec.styles || {};
    var fallback = spec.fallback || {};
    var radius = spec.radius || 5;
    var vertices = spec.vertices || {};

    function styleOf(feature) {
      return styles[feature.properties.k] || fallback;
    }

    function shapeOf(feature) {
      var f = feature.properties.f;
      var shapes = layer.lvdunSpec.shapes;
      if (!f || !shapes) {
        return null;
      }
      return vertices[shapes[f[0]]] || null;
    }

    var layer = L.geoJSON(null, {
      style: styleOf,
      coordsToLatLng: function (coords) {
        return lvdun.coordsToLatLng(coords);
      },
      pointToLayer: function (feature, latlng) {
        var options = L.extend(
          { radius: radius, vertices: shapeOf(feature), scale: spec.scale || null },
          styleOf(feature)
        );
        return new lvdun.ShapeMarker(latlng, options);
      },
      onEachFeature: function (feature, path) {
        layer.lvdunPaths.push(path);
      }
    });
    layer.lvdunPaths = [];
    layer.lvdunSpec = L.extend({ labels: [], tooltip: [] }, spec);
    layer.lvdunPathStyle = function (path) {
      return styleOf(path.feature);
    };

    /** Replace the layer's features (and the parts of the spec sent with them). */
    layer.lvdunSetData = function (collection, more) {
      layer.clearLayers();
      layer.lvdunPaths = [];
      L.extend(layer.lvdunSpec, more || {});
      layer.addData(collection);
      layer.fire("lvdun:data", { count: layer.lvdunPaths.length });
    };

    /** Restyle one path after its feature's properties changed (e.g. a new status). */
    layer.lvdunRestyle = function (path) {
      if (path.setStyle) {
        path.setStyle(layer.lvdunPathStyle(path));
      }
      if (path instanceof lvdun.ShapeMarker) {
        path.options.vertices = shapeOf(path.feature);
        path.redraw();
      }
    };

    if (data) {
      layer.addData(data);
    }
    bindPopupAndTooltip(layer);
    if (spec.boost) {
      boostSmallPolygons(layer, styleOf, spec.boost);
    }
    if (spec.outlineAbove) {
      outlineAbove(layer, styleOf);
    }
    lvdun.vectorLayers.push(layer);
    return layer;
  };

  /** The pane of outlines drawn above every lvdun layer (below tooltips and popups). */
  var OUTLINE_PANE = "lvdunOutlines";

  /**
   * Draw the outlines of a polygon layer a second time, above every other lvdun layer,
   * in a pane of their own that takes no clicks: where leads crowd over a reserve at an
   * overview zoom, its boundary stays visible. The outlines follow the layer: shown and
   * hidden with it, rebuilt when its data changes, shifted with it (lvdun.vectorLayers).
   */
  function outlineAbove(layer, styleOf) {
    var outline = L.geoJSON(null, {
      pane: OUTLINE_PANE,
      interactive: false,
      style: function (feature) {
        var style = styleOf(feature);
        var out = { fill: false };
        ["color", "weight", "opacity", "dashArray"].forEach(function (key) {
          if (style[key] !== undefined) {
            out[key] = style[key];
          }
        });
        return out;
      },
      coordsToLatLng: function (coords) {
        return lvdun.coordsToLatLng(coords);
      },
      pointToLayer: function () {
        return null;
      },
      onEachFeature: function (feature, path) {
        outline.lvdunPaths.push(path);
      }
    });
    outline.lvdunPaths = [];
    outline.lvdunSpec = { kind: "outlines" };

    function rebuild() {
      outline.clearLayers();
      outline.lvdunPaths = [];
      var features = [];
      for (var i = 0; i < layer.lvdunPaths.length; i++) {
        var feature = layer.lvdunPaths[i].feature;
        if (feature && feature.geometry && feature.geometry.type !== "Point" &&
            feature.geometry.type !== "MultiPoint") {
          features.push(feature);
        }
      }
      outline.addData({ type: "FeatureCollection", features: features });
    }

    layer.on("add", function () {
      var map = layer._map;
      if (!map.getPane(OUTLINE_PANE)) {
        var pane = map.createPane(OUTLINE_PANE);
        pane.style.zIndex = 450; // above the overlay pane (400), below markers and popups
        pane.style.pointerEvents = "none";
      }
      map.addLayer(outline);
    });
    layer.on("remove", function () {
      if (outline._map) {
        outline._map.removeLayer(outline);
      }
    });
    layer.on("lvdun:data", rebuild);
    rebuild();
    layer.lvdunOutline = outline;
    lvdun.vectorLayers.push(outline);
  }

  /**
   * One popup and one tooltip per layer, filled from the path under the pointer: binding
   * them to each of 10^5 paths would cost seconds when the map opens.
   */
  function bindPopupAndTooltip(layer) {
    var popup = L.popup({ maxWidth: 460, minWidth: 240, maxHeight: 440 });
    var tooltip = L.tooltip({ sticky: true });
    var hovered = null;

    function hasCells(path) {
      return path && path.feature && path.feature.properties.v;
    }

    layer.lvdunOpenPopup = function (path, latlng) {
      if (!hasCells(path) || !layer.lvdunSpec.labels.length || !layer._map) {
        return;
      }
      if (!latlng) {
        latlng = path.getBounds ? path.getBounds().getCenter() : path.getLatLng();
      }
      popup.lvdunPath = path;
      popup.setLatLng(latlng).setContent(lvdun.popupContent(layer, path)).openOn(layer._map);
    };
    layer.lvdunPopup = popup;

    layer.on("click", function (event) {
      layer.lvdunOpenPopup(event.propagatedFrom || event.layer, event.latlng);
    });
    layer.on("mouseover", function (event) {
      var path = event.propagatedFrom || event.layer;
      if (!hasCells(path) || !layer.lvdunSpec.tooltip.length || !layer._map) {
        return;
      }
      hovered = path;
      var cells = lvdun.cells(layer, path.feature.properties);
      tooltip.setContent(lvdun.tooltipHtml(layer.lvdunSpec.tooltip, cells));
      tooltip.setLatLng(event.latlng).addTo(layer._map);
    });
    layer.on("mousemove", function (event) {
      if (hovered) {
        tooltip.setLatLng(event.latlng);
      }
    });
    layer.on("mouseout", function () {
      hovered = null;
      tooltip.remove();
    });
    layer.on("remove", function () {
      tooltip.remove();
      popup.remove();
    });
  }

  /**
   * The [lon, lat] of a feature as written (CGCS2000, never shifted to GCJ-02): a point's
   * own coordinates, else the centre of the geometry's bounding box.
   */
  lvdun.featureLonLat = function (geometry) {
    if (!geometry || !geometry.coordinates) {
      return null;
    }
    if (geometry.type === "Point") {
      return geometry.coordinates.slice(0, 2);
    }
    var box = [Infinity, Infinity, -Infinity, -Infinity];
    (function walk(c) {
      if (typeof c[0] === "number") {
        box = [Math.min(box[0], c[0]), Math.min(box[1], c[1]),
               Math.max(box[2], c[0]), Math.max(box[3], c[1])];
        return;
      }
      for (var i = 0; i < c.length; i++) {
        walk(c[i]);
      }
    })(geometry.coordinates);
    return isFinite(box[0]) ? [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2] : null;
  };

  /** Degrees as 度分秒, e.g. 125°30′12.34″; seconds with 2 decimals (about 0.3 m). */
  lvdun.dms = function (degrees) {
    var hundredths = Math.round(Math.abs(degrees) * 360000);
    var d = Math.floor(hundredths / 360000);
    var m = Math.floor((hundredths % 360000) / 6000);
    var sec = (hundredths % 6000) / 100;
    return d + "\u00b0" + (m < 10 ? "0" : "") + m + "\u2032" +
      (sec < 10 ? "0" : "") + sec.toFixed(2) + "\u2033";
  };

  /** The two forms of a lon/lat: decimal (6 places) and 度分秒 with 东经/西经, 北纬/南纬. */
  lvdun.coordinateTexts = function (lonlat) {
    var lon = lonlat[0];
    var lat = lonlat[1];
    return {
      decimal: lon.toFixed(6) + ", " + lat.toFixed(6),
      dms: (lon < 0 ? "西经 " : "东经 ") + lvdun.dms(lon) + " " +
        (lat < 0 ? "南纬 " : "北纬 ") + lvdun.dms(lat)
    };
  };

  /** Copy text: the clipboard API where the page may use it, else a selected textarea. */
  lvdun.copyText = function (text, done) {
    function fallback() {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (err) {
        ok = false;
      }
      document.body.removeChild(area);
      done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () {
        done(true);
      }, fallback);
    } else {
      fallback();
    }
  };

  /** The coordinates block of a lead's popup: both forms, each with a copy button. */
  function coordinatesBlock(parent, lonlat) {
    var texts = lvdun.coordinateTexts(lonlat);
    var table = L.DomUtil.create("table", "lvdun-popup lvdun-coords", parent);
    [["坐标（CGCS2000，经度, 纬度）", texts.decimal, "decimal"],
     ["坐标（度分秒）", texts.dms, "dms"]].forEach(function (row) {
      var tr = L.DomUtil.create("tr", "", table);
      L.DomUtil.create("th", "", tr).textContent = row[0];
      var td = L.DomUtil.create("td", "", tr);
      var value = L.DomUtil.create("span", "lvdun-coord", td);
      value.setAttribute("data-form", row[2]);
      value.textContent = row[1];
      var button = L.DomUtil.create("button", "lvdun-copy", td);
      button.type = "button";
      button.textContent = "复制";
      button.title = "复制坐标";
      L.DomEvent.on(button, "click", function (event) {
        L.DomEvent.stop(event);
        lvdun.copyText(row[1], function (ok) {
          button.textContent = ok ? "已复制" : "请手动复制";
        });
      });
    });
    return table;
  }

  /**
   * The popup of a path: the escaped table, the coordinates of a lead, plus what the web
   * app adds (lvdun.appPopup).
   */
  lvdun.popupContent = function (layer, path) {
    var spec = layer.lvdunSpec;
    var html = lvdun.popupHtml(spec.labels, lvdun.cells(layer, path.feature.properties),
                               spec.optional);
    var app = layer.lvdunSpec.source && lvdun.appPopup;
    var lonlat = spec.kind === "leads" ? lvdun.featureLonLat(path.feature.geometry) : null;
    if (!app && !lonlat) {
      return html;
    }
    var div = L.DomUtil.create("div", "lvdun-popup-box");
    div.innerHTML = html;
    if (lonlat) {
      coordinatesBlock(div, lonlat);
    }
    if (app) {
      lvdun.appPopup(layer, path, L.DomUtil.create("div", "lvdun-edit", div));
    }
    return div;
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
