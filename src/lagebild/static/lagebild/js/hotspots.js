/* Hotspot map (/auswertung/brennpunkte/): density classes, Gi* cells and the area outline.
 *
 * The page renders all figures as text and tables; this script only draws them on the map.
 * Layers come from the page's JSON endpoint (data-map-url) and can be switched on and off.
 * Without tiles the district outlines from map.js give orientation.
 */
(function () {
  "use strict";

  var HOT = { color: "#7f0000", weight: 1, fillColor: "#d7301f", fillOpacity: 0.75 };
  var COLD = { color: "#08306b", weight: 1, fillColor: "#2166ac", fillOpacity: 0.75 };
  var OUTLINE = { color: "#111827", weight: 3, fill: false, interactive: false };

  function numberDe(value, digits) {
    return Number(value).toLocaleString("de-DE", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  function pText(p) {
    if (p < 0.0001) { return "< 0,0001"; }
    return numberDe(p, 4);
  }

  function row(list, term, value) {
    var dt = document.createElement("dt");
    dt.textContent = term;
    var dd = document.createElement("dd");
    dd.textContent = value;
    list.appendChild(dt);
    list.appendChild(dd);
  }

  function giPopup(props) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = props["class"] === "hot" ? "Brennpunkt (Gi*)" : "Kaltpunkt (Gi*)";
    box.appendChild(title);
    var list = document.createElement("dl");
    list.className = "hotspot-popup";
    row(list, "z:", numberDe(props.z, 2));
    row(list, "p:", pText(props.p));
    row(list, "Feststellungen in der Zelle:", String(props.count));
    box.appendChild(list);
    return box;
  }

  function init() {
    var el = document.getElementById("hotspot-map");
    if (!el || !window.L || !window.Lagebild) { return; }
    var status = document.getElementById(el.dataset.statusId);
    var handle = window.Lagebild.createMap(el, { areasUrl: el.dataset.areasUrl, interactiveAreas: false });
    fetch(el.dataset.mapUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      })
      .then(function (result) {
        var data = result.data;
        if (!result.ok) {
          status.textContent = "Die Karte konnte nicht berechnet werden; bitte die Angaben oben prüfen.";
          return;
        }
        var map = handle.map;
        var density = L.geoJSON(data.kde, {
          style: function (feature) {
            return { color: feature.properties.colour, weight: 0, fillColor: feature.properties.colour, fillOpacity: 0.8 };
          },
          onEachFeature: function (feature, layer) {
            layer.bindTooltip("Kerndichte: " + feature.properties.label, { sticky: true });
          }
        }).addTo(map);
        var giOptions = function (style) {
          return {
            style: function () { return style; },
            onEachFeature: function (feature, layer) { layer.bindPopup(giPopup(feature.properties)); }
          };
        };
        var hot = L.geoJSON({ type: "FeatureCollection", features: data.gi.features.filter(function (f) {
          return f.properties["class"] === "hot";
        }) }, giOptions(HOT)).addTo(map);
        var cold = L.geoJSON({ type: "FeatureCollection", features: data.gi.features.filter(function (f) {
          return f.properties["class"] === "cold";
        }) }, giOptions(COLD)).addTo(map);
        var outline = L.geoJSON(data.area, { style: function () { return OUTLINE; } }).addTo(map);
        var overlays = {
          "Kerndichte (Farbklassen)": density,
          "Gi*-Brennpunkte (rot)": hot,
          "Gi*-Kaltpunkte (blau)": cold,
          "Untersuchtes Gebiet": outline
        };
        L.control.layers(null, overlays, { collapsed: false }).addTo(map);
        if (outline.getLayers().length) {
          map.fitBounds(outline.getBounds(), { padding: [8, 8] });
        }
        status.textContent = "Karte: " + data.kde.features.length + " Dichteklassen über dem Mittelwert, " +
          hot.getLayers().length + " Brennpunkt- und " + cold.getLayers().length +
          " Kaltpunkt-Zellen. Ebenen oben rechts ein- und ausschalten.";
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
