/* lvdun layer control (MIT, part of lvdun): the vendored leaflet-groupedlayercontrol
 * (L.Control.GroupedLayers) with basemaps under a title, layers grouped by kind, names set
 * as text, and clicks and scrolls kept from the map. Switching the basemap fires
 * "baselayerchange" with the basemap's name, as Leaflet's own control does (the GCJ-02
 * shift of lvdun-shift.js listens to it). */
(function () {
  "use strict";

  var lvdun = window.lvdun;
  var Grouped = L.Control.GroupedLayers;
  var ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;" };

  /** Text as HTML that shows it as it is (the plugin writes names with innerHTML). */
  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return ENTITIES[c];
    });
  }

  lvdun.GroupedLayers = Grouped.extend({
    options: { baseTitle: "" },

    onAdd: function (map) {
      map.getSize(); // the plugin reads map._size when it opens
      var container = Grouped.prototype.onAdd.call(this, map);
      // The plugin only stops clicks on touch browsers (every Chromium for Leaflet 1.9):
      // a drag or a wheel over the control would move the map.
      L.DomEvent.disableClickPropagation(container);
      L.DomEvent.disableScrollPropagation(container);
      return container;
    },

    /** Rebuild the lists, with the title above the basemaps. */
    _update: function () {
      Grouped.prototype._update.call(this);
      var list = this._baseLayersList;
      if (!this._container || !this.options.baseTitle || !list.firstChild) {
        return;
      }
      var label = L.DomUtil.create("label", "leaflet-control-layers-group-label");
      L.DomUtil.create("span", "leaflet-control-layers-group-name", label).textContent =
        this.options.baseTitle;
      list.insertBefore(label, list.firstChild);
    },

    /** One entry, its name and group title escaped; events keep the names as they are. */
    _addItem: function (obj) {
      var shown = L.extend({}, obj, {
        name: escapeHtml(obj.name),
        group: L.extend({}, obj.group, { name: escapeHtml(obj.group.name) })
      });
      var label = Grouped.prototype._addItem.call(this, shown);
      label.setAttribute("data-layer", obj.name);
      if (obj.overlay && label.parentNode) {
        label.parentNode.setAttribute("data-group", obj.group.name);
      }
      return label;
    }
  });

  /**
   * Add the layer control to the map.
   * layers: [layer]; spec: {base: [[name, index]], groups: [[title, [[name, index]]]],
   *                         baseTitle, position, collapsed}, indices into `layers`.
   */
  lvdun.groupedLayers = function (map, layers, spec) {
    var control = new lvdun.GroupedLayers({}, {}, {
      baseTitle: spec.baseTitle,
      position: spec.position || "topright",
      collapsed: Boolean(spec.collapsed)
    });
    spec.base.forEach(function (entry) {
      control.addBaseLayer(layers[entry[1]], entry[0]);
    });
    spec.groups.forEach(function (group) {
      group[1].forEach(function (entry) {
        control.addOverlay(layers[entry[1]], entry[0], group[0]);
      });
    });
    control.addTo(map);
    keepLegendBelow(map, control);
    lvdun.layerControl = control;
    return control;
  };

  /**
   * Both sit on the right: cap the legend's height so that it ends below the control
   * (it scrolls instead of sliding under it on a short window).
   */
  function keepLegendBelow(map, control) {
    function fit() {
      var legend = map.getContainer().querySelector(".lvdun-legend");
      var box = control.getContainer();
      if (!legend || !box || box.parentNode === legend.parentNode) {
        return;
      }
      var room = legend.getBoundingClientRect().bottom - box.getBoundingClientRect().bottom - 10;
      legend.style.maxHeight = Math.max(room, 120) + "px";
    }
    fit();
    map.on("resize", fit);
  }
})();
