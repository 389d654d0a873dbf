/* lvdun GCJ-02 shift (MIT, part of lvdun). Amap tiles are drawn in GCJ-02 ("Mars
 * coordinates"), hundreds of metres off WGS84 / CGCS2000. While an Amap basemap is shown,
 * every lvdun vector layer is moved by the same formula as geo/shift.py wgs84_to_gcj02,
 * so that points land where they are on the basemap; on any other basemap they go back.
 * Features keep their original coordinates in feature.geometry. */
(function () {
  "use strict";

  var lvdun = window.lvdun;
  var A = 6378245.0;
  var EE = 0.00669342162296594323;
  var PI = Math.PI;
  var BOX = [72.004, 0.8293, 137.8347, 55.8271];

  /** The GCJ-02 offset [dlon, dlat] in degrees at WGS84 lon, lat (geo/shift.py _gcj_shift). */
  function offset(lon, lat) {
    var x = lon - 105.0;
    var y = lat - 35.0;
    var wave = ((20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0) / 3.0;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    dlat += wave + ((20.0 * Math.sin(y * PI) + 40.0 * Math.sin((y / 3.0) * PI)) * 2.0) / 3.0;
    dlat += ((160.0 * Math.sin((y / 12.0) * PI) + 320.0 * Math.sin((y * PI) / 30.0)) * 2.0) / 3.0;
    var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    dlon += wave + ((20.0 * Math.sin(x * PI) + 40.0 * Math.sin((x / 3.0) * PI)) * 2.0) / 3.0;
    dlon += ((150.0 * Math.sin((x / 12.0) * PI) + 300.0 * Math.sin((x / 30.0) * PI)) * 2.0) / 3.0;
    var rad = (lat / 180.0) * PI;
    var magic = 1.0 - EE * Math.sin(rad) * Math.sin(rad);
    var sqrtMagic = Math.sqrt(magic);
    dlat = (dlat * 180.0) / (((A * (1.0 - EE)) / (magic * sqrtMagic)) * PI);
    dlon = (dlon * 180.0) / ((A / sqrtMagic) * Math.cos(rad) * PI);
    return [dlon, dlat];
  }

  /** WGS84 / CGCS2000 [lon, lat] -> GCJ-02 [lon, lat]; unchanged outside the China box. */
  lvdun.wgsToGcj = function (lon, lat) {
    if (lon < BOX[0] || lon > BOX[2] || lat < BOX[1] || lat > BOX[3]) {
      return [lon, lat];
    }
    var d = offset(lon, lat);
    return [lon + d[0], lat + d[1]];
  };

  /** Whether lvdun layers are currently drawn in GCJ-02 (an Amap basemap is shown). */
  lvdun.gcj = false;

  /** GeoJSON [lon, lat] -> LatLng in the current display coordinates. */
  lvdun.coordsToLatLng = function (coords) {
    if (!lvdun.gcj) {
      return new L.LatLng(coords[1], coords[0]);
    }
    var shifted = lvdun.wgsToGcj(coords[0], coords[1]);
    return new L.LatLng(shifted[1], shifted[0]);
  };

  /** Put one path of a GeoJSON layer where its feature's coordinates say, shifted or not. */
  lvdun.placePath = function (path) {
    var geometry = path.feature && path.feature.geometry;
    if (!geometry) {
      return;
    }
    var fn = lvdun.coordsToLatLng;
    var coords = geometry.coordinates;
    switch (geometry.type) {
      case "Point":
        path.setLatLng(fn(coords));
        break;
      case "MultiPoint":
        var i = 0;
        path.eachLayer(function (marker) {
          marker.setLatLng(fn(coords[i++]));
        });
        break;
      case "LineString":
        path.setLatLngs(L.GeoJSON.coordsToLatLngs(coords, 0, fn));
        break;
      case "MultiLineString":
      case "Polygon":
        path.setLatLngs(L.GeoJSON.coordsToLatLngs(coords, 1, fn));
        break;
      case "MultiPolygon":
        path.setLatLngs(L.GeoJSON.coordsToLatLngs(coords, 2, fn));
        break;
      default:
        break; // GeometryCollection: not used by lvdun layers
    }
  };

  /** Re-place every path of every lvdun vector layer (after the shift state changed). */
  lvdun.replaceAll = function () {
    var layers = lvdun.vectorLayers || [];
    for (var i = 0; i < layers.length; i++) {
      var paths = layers[i].lvdunPaths || [];
      for (var j = 0; j < paths.length; j++) {
        lvdun.placePath(paths[j]);
      }
    }
  };

  /**
   * Shift lvdun layers to GCJ-02 while one of the named basemaps is shown.
   * names: the layer-control names of the GCJ-02 (Amap) basemaps.
   */
  lvdun.gcjBasemaps = function (map, names) {
    map.on("baselayerchange", function (event) {
      var gcj = names.indexOf(event.name) >= 0;
      if (gcj === lvdun.gcj) {
        return;
      }
      lvdun.gcj = gcj;
      lvdun.replaceAll();
      map.fire("lvdun:shift", { gcj: gcj });
    });
  };
})();
