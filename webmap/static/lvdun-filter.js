/* lvdun filters and search (MIT, part of lvdun): in-page filters of the leads by status,
 * activity type, batch, reserve and zone, a search box for lead ids and reserve names, and
 * window.lvdunMap, a small API for scripts and tests. Runs without a server.
 *
 * Filter values arrive raw (layer.lvdunSpec.filters) and are only ever set as text
 * (textContent, option.text); popup cells are escaped by the map builder. */
(function () {
  "use strict";

  var lvdun = window.lvdun;
  var DIMENSIONS = ["activity", "batch", "reserve", "zone"];
  var TITLES = { activity: "活动类型", batch: "批次", reserve: "保护区", zone: "功能区" };
  var SELECTS = { batch: true, reserve: true };
  var MAX_RESULTS = 8;

  function el(tag, className, parent, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    if (parent) {
      parent.appendChild(node);
    }
    return node;
  }

  var ENTITIES = { lt: "<", gt: ">", quot: '"', "#x27": "'", amp: "&" };

  /** The text of a cell escaped by Python's html.escape, as the user reads it. */
  function cellText(html) {
    return String(html || "").replace(/&(lt|gt|quot|#x27|amp);/g, function (m, name) {
      return ENTITIES[name];
    });
  }

  /** The raw id of a lead path (cached on the path). */
  function leadId(leads, path) {
    if (path.lvdunId === undefined) {
      var p = path.feature.properties;
      path.lvdunId = p.i !== undefined ? p.i : cellText(lvdun.cells(leads, p)[0]);
      path.lvdunKey = path.lvdunId.toLowerCase();
    }
    return path.lvdunId;
  }

  /** Hide or show a path (and the markers of a MultiPoint) without removing it. */
  function setHidden(path, hidden) {
    path.lvdunHidden = hidden;
    if (path.eachLayer) {
      path.eachLayer(function (child) {
        child.lvdunHidden = hidden;
      });
    }
  }

  function redraw(path) {
    if (path.redraw && path._map) {
      path.redraw();
    } else if (path.eachLayer) {
      path.eachLayer(redraw);
    }
  }

  function statusOf(path) {
    var k = path.feature.properties.k || "";
    var cut = k.indexOf(".");
    return cut < 0 ? k : k.slice(0, cut);
  }

  /**
   * The filter panel and the search box over the leads layer.
   * options: {statuses: [[code, label, colour]], title: string}
   */
  lvdun.leadControls = function (map, leads, reserves, options) {
    var state = { status: null, activity: null, batch: null, reserve: null, zone: null };
    var visible = 0;
    var panel;
    var countText;
    var body;

    function matches(path) {
      var f = path.feature.properties.f || [];
      if (state.status && !state.status[statusOf(path)]) {
        return false;
      }
      for (var d = 0; d < DIMENSIONS.length; d++) {
        var wanted = state[DIMENSIONS[d]];
        if (wanted && !wanted[f[d]]) {
          return false;
        }
      }
      return true;
    }

    /** Show the leads that pass every filter, hide the others. */
    function apply() {
      if (!leads) {
        return;
      }
      var paths = leads.lvdunPaths;
      var byStatus = {};
      var changed = [];
      visible = 0;
      for (var i = 0; i < paths.length; i++) {
        var path = paths[i];
        var show = matches(path);
        if (show) {
          visible++;
          var code = statusOf(path);
          byStatus[code] = (byStatus[code] || 0) + 1;
        }
        if (Boolean(path.lvdunHidden) === show) {
          setHidden(path, !show);
          changed.push(path);
        }
      }
      if (changed.length > 200) {
        lvdun.redrawAll(leads);
      } else {
        changed.forEach(redraw);
      }
      var server = leads.lvdunServerCounts; // the counts of the server's cells, when drawn
      if (server) {
        byStatus = server.byStatus;
      }
      if (countText) {
        countText.textContent = server
          ? server.shown.toLocaleString() + " / " + server.total.toLocaleString()
          : visible.toLocaleString() + " / " + paths.length.toLocaleString();
      }
      var counts = map.getContainer().querySelectorAll(".lvdun-legend .count[data-status]");
      for (var c = 0; c < counts.length; c++) {
        var n = byStatus[counts[c].getAttribute("data-status")] || 0;
        counts[c].textContent = n.toLocaleString();
      }
      map.fire("lvdun:filter", { visible: visible });
    }

    // What the user left out, by value (not index): kept when the data is replaced
    // (the web app reloads the leads of the view as the map moves).
    var excluded = {};
    var chosen = {};

    function checkboxes(parent, dim, entries) {
      var box = el("fieldset", "lvdun-dim", parent);
      box.setAttribute("data-dim", dim);
      el("legend", null, box, dim === "status" ? "核查状态" : TITLES[dim]);
      var left = excluded[dim] || {};
      entries.forEach(function (entry) {
        var label = el("label", null, box);
        var input = el("input", null, label);
        input.type = "checkbox";
        input.checked = !left[entry.key];
        input.value = String(entry.value);
        input.setAttribute("data-key", entry.key);
        if (entry.colour) {
          el("span", "dot", label).style.background = entry.colour;
        }
        label.appendChild(document.createTextNode(entry.label));
      });

      function read() {
        var inputs = box.querySelectorAll("input");
        var wanted = {};
        var all = true;
        excluded[dim] = {};
        for (var i = 0; i < inputs.length; i++) {
          if (inputs[i].checked) {
            wanted[inputs[i].value] = true;
          } else {
            all = false;
            excluded[dim][inputs[i].getAttribute("data-key")] = true;
          }
        }
        state[dim] = all ? null : wanted;
      }
      read();
      box.addEventListener("change", function () {
        read();
        apply();
        map.fire("lvdun:filterchange");
      });
    }

    function select(parent, dim, values) {
      var label = el("label", "lvdun-dim", parent, TITLES[dim] + " ");
      label.setAttribute("data-dim", dim);
      var input = el("select", null, label);
      el("option", null, input, "全部").value = "";
      values.forEach(function (value, index) {
        el("option", null, input, value).value = String(index);
      });
      if (chosen[dim] !== undefined && chosen[dim] !== null) {
        var at = values.indexOf(chosen[dim]);
        if (at < 0) { // chosen before, absent from the data now: still the choice
          el("option", null, input, chosen[dim]).value = "-1";
        }
        input.value = String(at);
      }

      function read() {
        var wanted = {};
        wanted[input.value] = true;
        state[dim] = input.value === "" ? null : wanted;
        chosen[dim] = input.value === "" ? null : input.options[input.selectedIndex].text;
      }
      read();
      input.addEventListener("change", function () {
        read();
        apply();
        map.fire("lvdun:filterchange");
      });
    }

    /** (Re)build the filter fields from the values of the current data. */
    function build() {
      var filters = (leads && leads.lvdunSpec.filters) || {};
      state = { status: null, activity: null, batch: null, reserve: null, zone: null };
      body.innerHTML = "";
      checkboxes(body, "status", (options.statuses || []).map(function (s) {
        return { value: s[0], key: s[0], label: s[1], colour: s[2] };
      }));
      DIMENSIONS.forEach(function (dim) {
        var values = filters[dim] || [];
        if (SELECTS[dim]) {
          select(body, dim, values);
        } else {
          checkboxes(body, dim, values.map(function (value, index) {
            return { value: index, key: value, label: value };
          }));
        }
      });
      var reset = el("button", "lvdun-reset", body, "全部显示");
      reset.type = "button";
      reset.addEventListener("click", function () {
        excluded = {};
        chosen = {};
        build();
        apply();
        map.fire("lvdun:filterchange");
      });
    }

    // -- search ---------------------------------------------------------------------
    function leadHits(query) {
      var hits = [];
      var paths = leads ? leads.lvdunPaths : [];
      for (var i = 0; i < paths.length && hits.length < MAX_RESULTS; i++) {
        var id = leadId(leads, paths[i]);
        if (paths[i].lvdunKey.indexOf(query) >= 0) {
          hits.push({ kind: "lead", label: id, path: paths[i] });
        }
      }
      return hits;
    }

    function reserveHits(query) {
      var byName = {};
      var names = [];
      var paths = reserves ? reserves.lvdunPaths : [];
      for (var i = 0; i < paths.length; i++) {
        var name = cellText(lvdun.cells(reserves, paths[i].feature.properties)[0]);
        if (name.toLowerCase().indexOf(query) < 0) {
          continue;
        }
        if (!byName[name]) {
          byName[name] = L.latLngBounds([]);
          names.push(name);
        }
        byName[name].extend(paths[i].getBounds());
      }
      var leadReserves = (leads && leads.lvdunSpec.filters && leads.lvdunSpec.filters.reserve) || [];
      leadReserves.forEach(function (name) {
        if (!byName[name] && name.toLowerCase().indexOf(query) >= 0) {
          byName[name] = null;
          names.push(name);
        }
      });
      return names.slice(0, MAX_RESULTS).map(function (name) {
        return { kind: "reserve", label: name, bounds: byName[name] };
      });
    }

    function search(text) {
      var query = String(text || "").trim().toLowerCase();
      if (!query) {
        return [];
      }
      return reserveHits(query).concat(leadHits(query));
    }

    function leadsBounds(name) {
      var index = ((leads && leads.lvdunSpec.filters.reserve) || []).indexOf(name);
      var bounds = L.latLngBounds([]);
      (leads ? leads.lvdunPaths : []).forEach(function (path) {
        if (path.feature.properties.f && path.feature.properties.f[2] === index) {
          bounds.extend(path.getBounds ? path.getBounds() : path.getLatLng());
        }
      });
      return bounds;
    }

    function go(hit) {
      if (hit.kind === "lead") {
        openLead(hit.path);
      } else {
        var bounds = hit.bounds || leadsBounds(hit.label);
        if (bounds.isValid()) {
          map.fitBounds(bounds, { padding: [20, 20], maxZoom: 15 });
        }
      }
    }

    function openLead(path) {
      if (!map.hasLayer(leads)) {
        map.addLayer(leads);
      }
      if (path.lvdunHidden) {
        setHidden(path, false); // shown even when filtered out, until the filters change
        redraw(path);
      }
      if (path.getBounds) {
        map.fitBounds(path.getBounds(), { maxZoom: 16 });
      } else {
        map.setView(path.getLatLng(), Math.max(map.getZoom(), 14));
      }
      leads.lvdunOpenPopup(path);
    }

    function findLead(id) {
      var paths = leads ? leads.lvdunPaths : [];
      for (var i = 0; i < paths.length; i++) {
        if (leadId(leads, paths[i]) === id) {
          return paths[i];
        }
      }
      return null;
    }

    // -- the control ------------------------------------------------------------------
    var control = L.control({ position: "topleft" });
    control.onAdd = function () {
      panel = L.DomUtil.create("div", "lvdun-filter leaflet-control");
      var input = el("input", "lvdun-search", panel);
      input.type = "search";
      input.placeholder = "查找线索编号或保护区";
      input.setAttribute("aria-label", "查找线索编号或保护区名称");
      var results = el("ul", "lvdun-results", panel);
      var current = [];
      var timer = null;
      function show() {
        current = search(input.value);
        results.innerHTML = "";
        current.forEach(function (hit) {
          var item = el("li", "lvdun-hit " + hit.kind, results);
          el("span", "kind", item, hit.kind === "lead" ? "线索" : "保护区");
          item.appendChild(document.createTextNode(hit.label));
          item.addEventListener("click", function () {
            go(hit);
          });
        });
      }
      input.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(show, 120);
      });
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          show();
          if (current.length) {
            go(current[0]);
          }
        }
      });
      var details = el("details", null, panel);
      var summary = el("summary", null, details, "筛选 ");
      countText = el("span", "count", summary);
      body = el("div", "lvdun-filter-body", details);
      build();
      L.DomEvent.disableClickPropagation(panel);
      L.DomEvent.disableScrollPropagation(panel);
      return panel;
    };
    control.addTo(map);

    if (leads) {
      leads.on("lvdun:data", function () {
        build();
        apply();
      });
      apply();
    }

    /**
     * The values each filter keeps, by dimension (status codes, else the values the
     * panel shows); null for a dimension that keeps everything.
     */
    function filterValues() {
      var filters = (leads && leads.lvdunSpec.filters) || {};
      var out = { status: state.status ? Object.keys(state.status) : null };
      DIMENSIONS.forEach(function (dim) {
        var wanted = state[dim];
        if (!wanted) {
          out[dim] = null;
          return;
        }
        out[dim] = Object.keys(wanted).map(function (index) {
          return index === "-1" ? chosen[dim] : (filters[dim] || [])[Number(index)];
        }).filter(function (value) {
          return value !== undefined && value !== null;
        });
      });
      return out;
    }

    /** A small API for scripts and browser tests. */
    window.lvdunMap = {
      filterValues: filterValues,
      /** {status code: colour} of the leads. */
      statusColours: function () {
        var colours = {};
        (options.statuses || []).forEach(function (s) {
          colours[s[0]] = s[2];
        });
        return colours;
      },
      map: map,
      leads: leads,
      reserves: reserves,
      /** Leads passing the filters while the leads layer is shown. */
      visibleCount: function () {
        return leads && map.hasLayer(leads) ? visible : 0;
      },
      /** Leads passing the filters and inside the current view. */
      inViewCount: function () {
        if (!leads || !map.hasLayer(leads)) {
          return 0;
        }
        var view = map.getBounds();
        var n = 0;
        leads.eachLayer(function (path) {
          if (path.lvdunHidden) {
            return;
          }
          var where = path.getBounds ? path.getBounds() : path.getLatLng();
          if (view.intersects ? view.intersects(where) : view.contains(where)) {
            n++;
          }
        });
        return n;
      },
      totalCount: function () {
        return leads ? leads.lvdunPaths.length : 0;
      },
      /** Keep only these values of a dimension (status codes or raw values); null: all. */
      setFilter: function (dim, values) {
        var box = panel.querySelector('[data-dim="' + dim + '"]');
        if (!box) {
          throw new Error("no filter " + dim);
        }
        var sel = box.querySelector("select");
        if (sel) {
          var list = leads.lvdunSpec.filters[dim] || [];
          sel.value = values && values.length ? String(list.indexOf(values[0])) : "";
          sel.dispatchEvent(new Event("change"));
          return visible;
        }
        var inputs = box.querySelectorAll("input");
        var names = dim === "status" ? null : leads.lvdunSpec.filters[dim] || [];
        for (var i = 0; i < inputs.length; i++) {
          var value = names ? names[Number(inputs[i].value)] : inputs[i].value;
          inputs[i].checked = !values || values.indexOf(value) >= 0;
        }
        box.dispatchEvent(new Event("change"));
        return visible;
      },
      search: function (text) {
        return search(text).map(function (hit) {
          return { kind: hit.kind, label: hit.label };
        });
      },
      /** Status code of a lead as drawn, or null when it is not on the map. */
      leadStatus: function (id) {
        var path = findLead(id);
        return path ? statusOf(path) : null;
      },
      /** Pan to a lead and return its position in the map container (for a click). */
      pixelOf: function (id) {
        var path = findLead(id);
        if (!path) {
          return null;
        }
        var where = path.getBounds ? path.getBounds().getCenter() : path.getLatLng();
        map.setView(where, Math.max(map.getZoom(), 14), { animate: false });
        var point = map.latLngToContainerPoint(where);
        var box = map.getContainer().getBoundingClientRect();
        return { x: box.left + point.x, y: box.top + point.y };
      },
      openPopup: function (id) {
        var path = findLead(id);
        if (path) {
          openLead(path);
        }
        return Boolean(path);
      },
      latLngOf: function (id) {
        var path = findLead(id);
        if (!path) {
          return null;
        }
        var where = path.getBounds ? path.getBounds().getCenter() : path.getLatLng();
        return [where.lat, where.lng];
      },
      gcj: function () {
        return lvdun.gcj;
      },
      refilter: apply
    };
    return window.lvdunMap;
  };
})();
