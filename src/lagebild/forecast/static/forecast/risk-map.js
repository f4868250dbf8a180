/* Risk map of a zone (/prognose/zone/<id>/): the forecast cells coloured by expected events
 * and the zone's outline. All figures are also in the table on the page; this only draws them.
 */
(function () {
  "use strict";

  var CLASSES = ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"];
  var OUTLINE = { color: "#111827", weight: 3, fill: false, interactive: false };

  function numberDe(value, digits) {
    return Number(value).toLocaleString("de-DE", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  function init() {
    var el = document.getElementById("forecast-map");
    if (!el || !window.L || !window.Lagebild) { return; }
    var status = document.getElementById(el.dataset.statusId);
    var handle = window.Lagebild.createMap(el, {});
    var map = handle.map;
    var areaData = document.getElementById("forecast-area");
    var outline = null;
    if (areaData) {
      outline = L.geoJSON(JSON.parse(areaData.textContent), { style: function () { return OUTLINE; } }).addTo(map);
      if (outline.getLayers().length) { map.fitBounds(outline.getBounds(), { padding: [8, 8] }); }
    }
    fetch(el.dataset.geojsonUrl, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        var max = 0;
        data.features.forEach(function (f) { max = Math.max(max, f.properties.expected); });
        var cells = L.geoJSON(data, {
          style: function (feature) {
            var share = max > 0 ? feature.properties.expected / max : 0;
            var colour = CLASSES[Math.min(CLASSES.length - 1, Math.floor(share * CLASSES.length))];
            return { color: colour, weight: 0, fillColor: colour, fillOpacity: 0.75 };
          },
          onEachFeature: function (feature, layer) {
            layer.bindTooltip("Rang " + feature.properties.rank + ": " + numberDe(feature.properties.expected, 2) +
              " erwartete Feststellungen", { sticky: true });
          }
        }).addTo(map);
        if (outline) { outline.bringToFront(); }
        status.textContent = "Karte: " + data.features.length + " Zellen mit erwarteten Feststellungen.";
        if (!outline && cells.getLayers().length) { map.fitBounds(cells.getBounds(), { padding: [8, 8] }); }
      })
      .catch(function () {
        status.textContent = "Die Karte konnte nicht geladen werden. Die Zahlen stehen unten.";
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
