(function () {
  "use strict";
  var el = document.getElementById("area-preview");
  if (!el || !window.L) { return; }
  var map = L.map(el);
  var tileUrl = document.body.dataset.tileUrl;
  if (tileUrl) { L.tileLayer(tileUrl, { maxZoom: 19 }).addTo(map); }
  function draw(geometry) {
    if (!geometry) { map.setView([51.5136, 7.4653], 11); return; }
    var layer = L.geoJSON(geometry, { style: { color: "#0b5394", weight: 2 } }).addTo(map);
    map.fitBounds(layer.getBounds());
  }
  var stored = JSON.parse(document.getElementById("area-geojson").textContent);
  draw(typeof stored === "string" ? JSON.parse(stored) : stored);
})();
