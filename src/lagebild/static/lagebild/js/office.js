/* Back office for citizen reports: staff entry (questions of the chosen category, map,
 * device position, place suggestions) and the photo redaction tool.
 * Everything is an enhancement: without JavaScript all questions are shown, coordinates
 * can be typed, and rectangles can be entered as numbers.
 */
(function () {
  "use strict";

  function parse(value) {
    var number = parseFloat(String(value || "").replace(",", "."));
    return isNaN(number) ? null : number;
  }

  // --- staff entry ---------------------------------------------------------------------------
  var form = document.getElementById("report-entry-form");
  if (form) {
    var service = document.getElementById("id_service");
    var groups = form.querySelectorAll("[data-service-questions]");
    var none = document.getElementById("no-questions");
    var updateQuestions = function () {
      var shown = 0;
      groups.forEach(function (group) {
        var match = service && group.dataset.serviceQuestions === service.value;
        group.hidden = !match;
        if (match) { shown += 1; }
      });
      if (none) { none.hidden = shown > 0 || !service || !service.value; }
    };
    if (service) { service.addEventListener("change", updateQuestions); }
    updateQuestions();

    var latInput = document.getElementById("id_lat");
    var lonInput = document.getElementById("id_lon");
    var status = document.getElementById("location-status");
    var addressInput = document.getElementById("id_address_text");
    var suggestions = document.getElementById("address-suggestions");
    var mapEl = document.getElementById("entry-map");
    var handle = null;
    var marker = null;
    var say = function (message) { if (status) { status.textContent = message; } };
    var showPoint = function (lat, lon, zoom) {
      if (!handle) { return; }
      if (marker) { marker.setLatLng([lat, lon]); } else {
        marker = window.Lagebild.pointMarker([lat, lon], { radius: 10, fillColor: "#0b5394" }).addTo(handle.map);
      }
      if (zoom) { handle.map.setView([lat, lon], Math.max(handle.map.getZoom(), zoom)); }
    };
    var setPoint = function (lat, lon, how, zoom) {
      latInput.value = lat.toFixed(6);
      lonInput.value = lon.toFixed(6);
      showPoint(lat, lon, zoom);
      say("Ort gesetzt (" + how + "): " + lat.toFixed(5).replace(".", ",") + " / " + lon.toFixed(5).replace(".", ","));
    };
    if (mapEl && window.L && window.Lagebild) {
      handle = window.Lagebild.createMap(mapEl, {
        areasUrl: mapEl.dataset.areasUrl,
        interactiveAreas: false,
        onAreasLoaded: function () {
          if (parse(latInput.value) === null || parse(lonInput.value) === null) { handle.fitAreas(); }
        }
      });
      handle.map.on("click", function (event) { setPoint(event.latlng.lat, event.latlng.lng, "Karte", 0); });
      mapEl.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && event.target === mapEl) {
          event.preventDefault();
          var centre = handle.map.getCenter();
          setPoint(centre.lat, centre.lng, "Kartenmitte", 0);
        }
      });
      var startLat = parse(latInput.value);
      var startLon = parse(lonInput.value);
      if (startLat !== null && startLon !== null) { showPoint(startLat, startLon, 16); }
    }
    var typed = function () {
      var lat = parse(latInput.value);
      var lon = parse(lonInput.value);
      if (lat !== null && lon !== null) { showPoint(lat, lon, 15); }
    };
    latInput.addEventListener("change", typed);
    lonInput.addEventListener("change", typed);

    var positionButton = document.getElementById("use-position");
    if (positionButton && navigator.geolocation) {
      positionButton.hidden = false;
      positionButton.addEventListener("click", function () {
        positionButton.disabled = true;
        say("Standort wird ermittelt …");
        navigator.geolocation.getCurrentPosition(function (position) {
          positionButton.disabled = false;
          setPoint(position.coords.latitude, position.coords.longitude,
            "Standort, Genauigkeit etwa " + Math.round(position.coords.accuracy || 0) + " m", 17);
        }, function () {
          positionButton.disabled = false;
          say("Der Standort konnte nicht ermittelt werden. Bitte tippen Sie auf die Karte oder geben Sie eine Ortsangabe ein.");
        }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
      });
    }

    if (suggestions && addressInput) {
      suggestions.addEventListener("click", function (event) {
        var button = event.target.closest(".suggestion");
        if (!button) { return; }
        var lat = parse(button.dataset.lat);
        var lon = parse(button.dataset.lon);
        if (lat === null || lon === null) { return; }
        addressInput.value = button.dataset.name;
        setPoint(lat, lon, button.dataset.name, 17);
        suggestions.innerHTML = "";
        addressInput.focus();
      });
      addressInput.addEventListener("keydown", function (event) {
        if (event.key === "Escape") { suggestions.innerHTML = ""; }
        if (event.key === "ArrowDown") {
          var first = suggestions.querySelector(".suggestion");
          if (first) { event.preventDefault(); first.focus(); }
        }
      });
    }
    var summary = document.getElementById("form-errors");
    if (summary) { summary.setAttribute("tabindex", "-1"); summary.focus(); }
  }

  // --- photo redaction: drag rectangles on the picture, they become lines of the textarea -----
  document.querySelectorAll("[data-redact-tool]").forEach(function (tool) {
    var image = tool.querySelector("img");
    var textarea = document.getElementById(tool.dataset.redactTool);
    if (!image || !textarea) { return; }
    var start = null;
    var box = null;
    var fraction = function (event) {
      var rect = image.getBoundingClientRect();
      return {
        x: Math.min(Math.max((event.clientX - rect.left) / rect.width, 0), 1),
        y: Math.min(Math.max((event.clientY - rect.top) / rect.height, 0), 1)
      };
    };
    var place = function (el, a, b) {
      el.style.left = (Math.min(a.x, b.x) * 100) + "%";
      el.style.top = (Math.min(a.y, b.y) * 100) + "%";
      el.style.width = (Math.abs(a.x - b.x) * 100) + "%";
      el.style.height = (Math.abs(a.y - b.y) * 100) + "%";
    };
    tool.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      start = fraction(event);
      box = document.createElement("div");
      box.className = "redact-box";
      tool.appendChild(box);
      place(box, start, start);
      tool.setPointerCapture(event.pointerId);
    });
    tool.addEventListener("pointermove", function (event) {
      if (start && box) { place(box, start, fraction(event)); }
    });
    tool.addEventListener("pointerup", function (event) {
      if (!start || !box) { return; }
      var end = fraction(event);
      var w = Math.abs(end.x - start.x) * 100;
      var h = Math.abs(end.y - start.y) * 100;
      if (w < 0.5 || h < 0.5) {
        box.remove();
      } else {
        var line = [Math.min(start.x, end.x) * 100, Math.min(start.y, end.y) * 100, w, h]
          .map(function (v) { return v.toFixed(1); }).join(", ");
        textarea.value = (textarea.value.trim() ? textarea.value.trim() + "\n" : "") + line;
      }
      start = null;
      box = null;
    });
  });
})();
