/* Lagebild maps: one place that creates Leaflet maps for every page.
 *
 * Tiles come only from the configured URL (body data-tile-url); without it the map
 * shows area outlines and points on a light background, which is still useful offline;
 * the entry map adds the patrol's area and named places of the gazetteer (showPlaces).
 * Containers marked with data-lagebild-map="points" or "point" are set up automatically;
 * the entry form calls Lagebild.createMap itself.
 */
(function () {
  "use strict";

  var DEFAULT_CENTER = [51.5136, 7.4653];
  var AREA_STYLES = {
    city: { color: "#1f2937", weight: 2, fill: false },
    district: { color: "#4b5563", weight: 1.5, fill: false, dashArray: "" },
    focus_area: { color: "#b45309", weight: 2, fillColor: "#f59e0b", fillOpacity: 0.08, dashArray: "6 4" },
    patrol_zone: { color: "#0e7490", weight: 2, fillOpacity: 0.05, dashArray: "2 4" },
    own_area: { color: "#0e7490", weight: 3, fillColor: "#22d3ee", fillOpacity: 0.08 },
    video_area: { color: "#7c3aed", weight: 2, fillOpacity: 0.08 },
    statistical_district: { color: "#9ca3af", weight: 1, fill: false },
    custom: { color: "#374151", weight: 1.5, fillOpacity: 0.05 }
  };
  var POINT_STYLE = { radius: 6, color: "#ffffff", weight: 1.5, fillColor: "#b91c1c", fillOpacity: 0.85 };

  function text(tag, content, className) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    el.textContent = content;
    return el;
  }

  function fetchJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    });
  }

  /* Creates a map in `el`. Options: areasUrl, interactiveAreas (default true),
   * onAreasLoaded(layer). Returns {map, areas, fitAreas()}. */
  function createMap(el, options) {
    options = options || {};
    var body = document.body.dataset;
    var map = L.map(el, {
      preferCanvas: true,
      zoomSnap: 0.5,
      zoomControl: false,
      attributionControl: Boolean(body.tileUrl)
    });
    L.control.zoom({ zoomInTitle: "Vergrößern", zoomOutTitle: "Verkleinern" }).addTo(map);
    if (body.tileUrl) {
      L.tileLayer(body.tileUrl, { maxZoom: 19, attribution: body.tileAttribution || "" }).addTo(map);
    } else {
      el.classList.add("map-no-tiles");
    }
    map.setView(DEFAULT_CENTER, 12);
    var handle = { map: map, areas: null };
    handle.fitAreas = function () {
      if (handle.areas && handle.areas.getLayers().length) {
        map.fitBounds(handle.areas.getBounds(), { padding: [8, 8], animate: false });
      }
    };
    if (options.areasUrl) {
      fetchJson(options.areasUrl).then(function (data) {
        var interactive = options.interactiveAreas !== false;
        handle.areas = L.geoJSON(data, {
          interactive: interactive,
          style: function (feature) {
            var style = AREA_STYLES[feature.properties.kind] || AREA_STYLES.custom;
            return L.extend({ interactive: interactive }, style);
          },
          onEachFeature: function (feature, layer) {
            if (interactive) {
              layer.bindTooltip(feature.properties.name + " (" + feature.properties.kind_label + ")", { sticky: true });
            }
          }
        }).addTo(map);
        handle.areas.bringToBack();
        if (options.onAreasLoaded) { options.onAreasLoaded(handle.areas); }
      }).catch(function () {
        el.setAttribute("data-error", "Gebiete konnten nicht geladen werden.");
      });
    }
    return handle;
  }

  /* Named places of the gazetteer (streets, squares, stations) as small labelled dots, for
   * orientation on maps without tiles. Loaded for the visible part of the map from `url`
   * (GeoJSON, ?bbox=); labels from zoom PLACE_LABEL_ZOOM on, where they no longer pile up.
   * Not interactive: a tap on a label still reaches the map (e.g. to set a point). */
  var PLACE_LABEL_ZOOM = 14;
  function showPlaces(handle, url) {
    var map = handle.map;
    var layer = L.layerGroup().addTo(map);
    var shown = {};
    var timer = null;
    // Where labels would overlap, the earlier one (places and stations before streets, as the
    // server orders them) keeps its label; the others keep their dot.
    function declutter() {
      var taken = [];
      layer.eachLayer(function (marker) {
        var tooltip = marker.getTooltip();
        var el = tooltip && tooltip.getElement();
        if (!el) { return; }
        el.style.visibility = "";
        var r = el.getBoundingClientRect();
        var clash = taken.some(function (t) {
          return r.left < t.right && r.right > t.left && r.top < t.bottom && r.bottom > t.top;
        });
        if (clash) { el.style.visibility = "hidden"; } else { taken.push(r); }
      });
    }
    function load() {
      if (map.getZoom() < PLACE_LABEL_ZOOM) {
        layer.clearLayers();
        shown = {};
        return;
      }
      declutter();
      var b = map.getBounds().pad(0.2);
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
      fetchJson(url + "?bbox=" + bbox).then(function (data) {
        if (map.getZoom() < PLACE_LABEL_ZOOM) { return; }
        data.features.forEach(function (feature) {
          if (shown[feature.id]) { return; }
          shown[feature.id] = true;
          var c = feature.geometry.coordinates;
          L.circleMarker([c[1], c[0]], { radius: 3, color: "#374151", weight: 1, fillColor: "#374151", fillOpacity: 1, interactive: false })
            .bindTooltip(feature.properties.name, { permanent: true, direction: "right", offset: [4, 0], className: "place-label", interactive: false })
            .addTo(layer);
        });
        declutter();
      }).catch(function () { /* orientation only: the map works without the names */ });
    }
    map.on("moveend zoomend", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(load, 150);
    });
    load();
    handle.places = layer;
    return layer;
  }

  function pointMarker(latlng, style) {
    return L.circleMarker(latlng, L.extend({}, POINT_STYLE, style || {}));
  }

  function popupFor(props) {
    var box = document.createElement("div");
    box.appendChild(text("strong", props.category || "Feststellung"));
    box.appendChild(document.createElement("br"));
    box.appendChild(text("span", props.time || ""));
    if (props.url) {
      box.appendChild(document.createElement("br"));
      var link = text("a", "Details ansehen");
      link.href = props.url;
      box.appendChild(link);
    }
    return box;
  }

  function initPointsMap(el) {
    var status = el.dataset.statusId ? document.getElementById(el.dataset.statusId) : null;
    var handle = createMap(el, { areasUrl: el.dataset.areasUrl });
    var fitted = false;
    fetchJson(el.dataset.pointsUrl).then(function (data) {
      var layer = L.geoJSON(data, {
        pointToLayer: function (feature, latlng) { return pointMarker(latlng); },
        onEachFeature: function (feature, marker) { marker.bindPopup(popupFor(feature.properties)); }
      }).addTo(handle.map);
      var count = data.features.length;
      if (count) {
        handle.map.fitBounds(layer.getBounds(), { padding: [16, 16], maxZoom: 16 });
        fitted = true;
      }
      if (status) {
        status.textContent = count === 0 ? "Keine Feststellungen im gewählten Zeitraum." :
          count + " Feststellungen auf der Karte" + (data.truncated ? " (Anzeige begrenzt)." : ".");
      }
    }).catch(function () {
      if (status) { status.textContent = "Die Punkte konnten nicht geladen werden."; }
    });
    // Without points, show the whole city.
    var timer = window.setInterval(function () {
      if (handle.areas) {
        window.clearInterval(timer);
        if (!fitted) { handle.fitAreas(); }
      }
    }, 200);
    window.setTimeout(function () { window.clearInterval(timer); }, 10000);
  }

  function initPointMap(el) {
    var lat = parseFloat(el.dataset.lat);
    var lon = parseFloat(el.dataset.lon);
    var handle = createMap(el, { areasUrl: el.dataset.areasUrl });
    if (!isNaN(lat) && !isNaN(lon)) {
      pointMarker([lat, lon], { radius: 9 }).addTo(handle.map);
      // Without tiles a close zoom shows nothing but the dot; keep the area outlines in view.
      handle.map.setView([lat, lon], document.body.dataset.tileUrl ? 17 : 14);
    }
  }

  function init() {
    if (!window.L) { return; }
    document.querySelectorAll("[data-lagebild-map]").forEach(function (el) {
      var kind = el.dataset.lagebildMap;
      if (kind === "points") { initPointsMap(el); }
      if (kind === "point") { initPointMap(el); }
    });
  }

  window.Lagebild = window.Lagebild || {};
  window.Lagebild.createMap = createMap;
  window.Lagebild.pointMarker = pointMarker;
  window.Lagebild.showPlaces = showPlaces;
  window.Lagebild.areaStyles = AREA_STYLES;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
