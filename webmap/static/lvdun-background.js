/* lvdun offline background (MIT, part of lvdun): country outlines with their names, drawn
 * under every lvdun layer while no online basemap is chosen, so that leads and mines have
 * a context on a machine without internet. The data is Natural Earth (public domain) from
 * the npm package world-atlas, written into the page as JSON (scripts/build_background.py). */
(function () {
  "use strict";

  var lvdun = window.lvdun;
  var PANE = "lvdunBackground";
  var CHINA = { color: "#8c7f6e", weight: 1.2, fillColor: "#f7f4ec", fillOpacity: 1 };
  var OTHER = { color: "#a6a6a6", weight: 0.8, fillColor: "#ebebeb", fillOpacity: 1 };

  /**
   * Draw `data` (a FeatureCollection, properties {name, china, label: [lon, lat]}) into
   * `group`, the base layer shown without an online basemap.
   */
  lvdun.offlineBackground = function (map, group, data) {
    if (!map.getPane(PANE)) {
      var pane = map.createPane(PANE);
      pane.style.zIndex = 150; // under the tiles (200) and every overlay (400)
      pane.style.pointerEvents = "none";
    }
    var renderer = L.canvas({ pane: PANE, padding: 0.5 });
    var outlines = L.geoJSON(data, {
      pane: PANE,
      renderer: renderer,
      interactive: false,
      style: function (feature) {
        return feature.properties.china ? CHINA : OTHER;
      }
    });
    group.addLayer(outlines);
    data.features.forEach(function (feature) {
      var where = feature.properties.label;
      var label = L.marker([where[1], where[0]], {
        pane: PANE,
        interactive: false,
        keyboard: false,
        icon: L.divIcon({ className: "lvdun-ground-label", html: "", iconSize: [90, 16] })
      });
      label.on("add", function () {
        label.getElement().textContent = feature.properties.name;
      });
      group.addLayer(label);
    });
    group.on("add", function () {
      L.DomUtil.addClass(map.getContainer(), "lvdun-offline-ground");
    });
    group.on("remove", function () {
      L.DomUtil.removeClass(map.getContainer(), "lvdun-offline-ground");
    });
    if (map.hasLayer(group)) {
      L.DomUtil.addClass(map.getContainer(), "lvdun-offline-ground");
    }
    lvdun.background = { group: group, outlines: outlines };
    return lvdun.background;
  };
})();
