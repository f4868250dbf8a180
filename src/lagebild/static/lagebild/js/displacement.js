/* Displacement page: target, buffer rings/areas and control areas on one map.
 *
 * The GeoJSON (WGS84) is embedded in the page by the view; no further request. Without
 * tiles the polygons on the light background still show the design of the analysis.
 */
(function () {
  "use strict";

  var STYLES = {
    target: { color: "#b91c1c", weight: 3, fillColor: "#b91c1c", fillOpacity: 0.25 },
    ring: { color: "#b45309", weight: 1.5, fillColor: "#f59e0b" },
    buffer: { color: "#b45309", weight: 2, fillColor: "#f59e0b", fillOpacity: 0.2 },
    target_control: { color: "#1d4ed8", weight: 2, fillColor: "#1d4ed8", fillOpacity: 0.12 },
    buffer_control: { color: "#047857", weight: 2, fillColor: "#047857", fillOpacity: 0.12, dashArray: "6 4" }
  };

  function init() {
    var el = document.getElementById("displacement-map");
    if (!el || !window.L || !window.Lagebild) { return; }
    var source = document.getElementById(el.dataset.geojsonId);
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    var rings = data.features.filter(function (f) { return f.properties.role === "ring"; }).length;
    var ringIndex = 0;
    var handle = window.Lagebild.createMap(el, {});
    // Controls first, so that target and rings are drawn on top.
    var order = { target_control: 0, buffer_control: 1, buffer: 2, ring: 3, target: 4 };
    data.features.sort(function (a, b) { return order[a.properties.role] - order[b.properties.role]; });
    var layer = L.geoJSON(data, {
      style: function (feature) {
        var style = L.extend({}, STYLES[feature.properties.role] || STYLES.buffer);
        if (feature.properties.role === "ring") {
          // Inner rings darker: the distance decay reads from the map.
          style.fillOpacity = 0.35 - 0.25 * (ringIndex / Math.max(rings, 1));
          ringIndex += 1;
        }
        return style;
      },
      onEachFeature: function (feature, item) {
        item.bindTooltip(feature.properties.name + " (" + feature.properties.role_label + ")", { sticky: true });
      }
    }).addTo(handle.map);
    if (layer.getLayers().length) {
      handle.map.fitBounds(layer.getBounds(), { padding: [12, 12] });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
