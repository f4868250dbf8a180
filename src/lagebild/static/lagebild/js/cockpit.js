/* CompStat cockpit: colours districts and focus areas by the chosen indicator (choropleth) and keeps
 * the form in step when htmx swaps the detail section. The page works without it: the values are
 * in the tables, the legend is server-rendered, and every link is a normal link.
 */
(function () {
  "use strict";

  var STYLES = {
    district: { color: "#374151", weight: 1.2, fillOpacity: 0.75 },
    focus_area: { color: "#111827", weight: 2.5, dashArray: "6 4", fillOpacity: 0.85 }
  };
  var SELECTED = { color: "#000000", weight: 4 };

  function initMap(el) {
    if (!el || el.dataset.ready || !window.L || !window.Lagebild) { return; }
    el.dataset.ready = "1";
    var source = document.getElementById(el.dataset.valuesId);
    if (!source) { return; }
    var values = JSON.parse(source.textContent);
    var handle = window.Lagebild.createMap(el, {
      areasUrl: el.dataset.areasUrl,
      onAreasLoaded: function (layer) {
        var focusLayers = [];
        layer.eachLayer(function (area) {
          var props = area.feature.properties;
          var byKind = values[props.kind] || {};
          var entry = byKind[String(props.id)];
          var style = L.extend({}, STYLES[props.kind] || STYLES.district, {
            fillColor: entry ? entry.colour : "#ffffff",
            fill: true
          });
          if (props.id === values.selected) { L.extend(style, SELECTED); }
          area.setStyle(style);
          area.unbindTooltip();
          area.bindTooltip(props.name + " (" + props.kind_label + "): " + (entry ? entry.label : "–"), { sticky: true });
          if (props.kind === "focus_area") { focusLayers.push(area); }
        });
        // Focus areas lie inside districts: draw them on top so both stay visible.
        focusLayers.forEach(function (area) { area.bringToFront(); });
        handle.fitAreas();
      }
    });
  }

  function syncForm(details) {
    var form = document.querySelector(".cockpit-form");
    if (!form || !details) { return; }
    ["indicator", "window"].forEach(function (name) {
      var field = form.elements[name];
      var value = details.dataset[name];
      if (field && value !== undefined) { field.value = value; }
    });
    document.querySelectorAll(".cockpit-table tr").forEach(function (row) {
      var link = row.querySelector("th a[hx-get]");
      if (!link) { return; }
      var selected = link.getAttribute("hx-get").indexOf("indicator=" + encodeURIComponent(details.dataset.indicator) + "&") !== -1;
      row.classList.toggle("selected", selected);
      if (selected) { link.setAttribute("aria-current", "true"); } else { link.removeAttribute("aria-current"); }
    });
  }

  function init(root) {
    initMap((root || document).querySelector("[data-cockpit-map]"));
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var details = document.getElementById("details");
    if (details && (event.target === details || details.contains(event.target) || event.target.id === "details")) {
      syncForm(details);
      init(details);
      details.focus({ preventScroll: true });
    }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
})();
