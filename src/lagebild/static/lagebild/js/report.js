/* Public report form: place by map tap, device position or address suggestion; nearby
 * open reports of the same category; a check of the chosen photos.
 * Everything here is an enhancement: without JavaScript the address field and the
 * "Koordinaten" inputs work, and the server shows nearby reports before saving.
 */
(function () {
  "use strict";

  var form = document.getElementById("report-form");
  if (!form) { return; }
  var latInput = document.getElementById("id_lat");
  var lonInput = document.getElementById("id_lon");
  var status = document.getElementById("location-status");
  var addressInput = document.getElementById("id_address_text");
  var suggestions = document.getElementById("address-suggestions");
  var nearbyBox = document.getElementById("nearby-box");
  var serverNearby = document.getElementById("nearby-step");

  function parse(value) {
    var number = parseFloat(String(value || "").replace(",", "."));
    return isNaN(number) ? null : number;
  }

  function say(message) {
    if (status) { status.textContent = message; }
  }

  // --- nearby open reports of the same category --------------------------------------------
  var nearbyTimer = null;
  function loadNearby() {
    if (!nearbyBox || !form.dataset.nearbyUrl) { return; }
    var lat = parse(latInput.value);
    var lon = parse(lonInput.value);
    if (lat === null || lon === null) { nearbyBox.innerHTML = ""; return; }
    window.clearTimeout(nearbyTimer);
    nearbyTimer = window.setTimeout(function () {
      var url = form.dataset.nearbyUrl + "?lat=" + encodeURIComponent(lat) + "&lon=" + encodeURIComponent(lon);
      if (window.htmx) {
        window.htmx.ajax("GET", url, { target: nearbyBox, swap: "innerHTML" });
      } else {
        fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : ""; })
          .then(function (html) { nearbyBox.innerHTML = html; }).catch(function () {});
      }
    }, 250);
  }

  // --- map -----------------------------------------------------------------------------------
  var mapEl = document.getElementById("report-map");
  var handle = null;
  var marker = null;

  function showPoint(lat, lon, zoom) {
    if (!handle) { return; }
    if (marker) {
      marker.setLatLng([lat, lon]);
    } else {
      marker = window.Lagebild.pointMarker([lat, lon], { radius: 10, fillColor: "#0b5394" }).addTo(handle.map);
    }
    if (zoom) { handle.map.setView([lat, lon], Math.max(handle.map.getZoom(), zoom)); }
  }

  function setPoint(lat, lon, how, zoom) {
    latInput.value = lat.toFixed(6);
    lonInput.value = lon.toFixed(6);
    showPoint(lat, lon, zoom);
    say("Ort gesetzt (" + how + "): " + lat.toFixed(5).replace(".", ",") + " / " + lon.toFixed(5).replace(".", ","));
    loadNearby();
  }

  if (mapEl && window.L && window.Lagebild) {
    handle = window.Lagebild.createMap(mapEl, {
      areasUrl: mapEl.dataset.areasUrl,
      interactiveAreas: false,
      onAreasLoaded: function () {
        var lat = parse(latInput.value);
        var lon = parse(lonInput.value);
        if (lat === null || lon === null) { handle.fitAreas(); }
      }
    });
    handle.map.on("click", function (event) {
      setPoint(event.latlng.lat, event.latlng.lng, "Karte", 0);
    });
    mapEl.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target === mapEl) {
        event.preventDefault();
        var centre = handle.map.getCenter();
        setPoint(centre.lat, centre.lng, "Kartenmitte", 0);
      }
    });
    var startLat = parse(latInput.value);
    var startLon = parse(lonInput.value);
    if (startLat !== null && startLon !== null) {
      showPoint(startLat, startLon, 16);
      // The server already lists nearby reports when it stopped the submission for them.
      if (!serverNearby) { loadNearby(); }
    }
  }

  function typedPoint() {
    var lat = parse(latInput.value);
    var lon = parse(lonInput.value);
    if (lat !== null && lon !== null) { showPoint(lat, lon, 15); }
    loadNearby();
  }
  latInput.addEventListener("change", typedPoint);
  lonInput.addEventListener("change", typedPoint);

  // --- device position -----------------------------------------------------------------------
  var positionButton = document.getElementById("use-position");
  if (positionButton && navigator.geolocation) {
    positionButton.hidden = false;
    positionButton.addEventListener("click", function () {
      positionButton.disabled = true;
      say("Standort wird ermittelt …");
      navigator.geolocation.getCurrentPosition(function (position) {
        positionButton.disabled = false;
        var accuracy = Math.round(position.coords.accuracy || 0);
        setPoint(position.coords.latitude, position.coords.longitude, "Ihr Standort, Genauigkeit etwa " + accuracy + " m", 17);
      }, function (error) {
        positionButton.disabled = false;
        var reasons = {
          1: "Der Zugriff auf Ihren Standort wurde nicht erlaubt.",
          2: "Ihr Standort ist nicht verfügbar.",
          3: "Die Standortbestimmung hat zu lange gedauert."
        };
        say((reasons[error.code] || "Ihr Standort konnte nicht ermittelt werden.") +
          " Bitte tippen Sie auf die Karte oder geben Sie eine Adresse ein.");
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
    });
  }

  // --- address suggestions (htmx fills the list; a click sets the point) ---------------------
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
    suggestions.addEventListener("keydown", function (event) {
      var buttons = Array.prototype.slice.call(suggestions.querySelectorAll(".suggestion"));
      var index = buttons.indexOf(document.activeElement);
      if (index < 0) { return; }
      if (event.key === "ArrowDown" && index < buttons.length - 1) { event.preventDefault(); buttons[index + 1].focus(); }
      if (event.key === "ArrowUp") { event.preventDefault(); (index > 0 ? buttons[index - 1] : addressInput).focus(); }
      if (event.key === "Escape") { suggestions.innerHTML = ""; addressInput.focus(); }
    });
  }

  // --- photos: say early what the server would refuse ------------------------------------------
  var photoInput = document.getElementById("id_photos");
  var photoStatus = document.getElementById("photo-status");
  var MAX_PHOTOS = 3;
  var MAX_BYTES = 8 * 1024 * 1024;
  var TYPES = ["image/jpeg", "image/png", "image/webp"];
  if (photoInput && photoStatus) {
    photoInput.addEventListener("change", function () {
      var files = Array.prototype.slice.call(photoInput.files || []);
      var problems = [];
      if (files.length > MAX_PHOTOS) { problems.push("Bitte höchstens " + MAX_PHOTOS + " Fotos auswählen."); }
      files.forEach(function (file) {
        if (TYPES.indexOf(file.type) < 0) { problems.push("„" + file.name + "“ ist kein JPEG-, PNG- oder WebP-Bild."); }
        else if (file.size > MAX_BYTES) { problems.push("„" + file.name + "“ ist größer als 8 MB."); }
      });
      photoStatus.className = "photo-status" + (problems.length ? " field-error" : "");
      photoStatus.textContent = problems.length ? problems.join(" ") :
        (files.length ? files.length + (files.length === 1 ? " Foto" : " Fotos") + " ausgewählt." : "");
    });
  }

  // Bring the first problem into view so a phone user sees what to fix.
  var summary = document.getElementById("form-errors");
  if (serverNearby) { serverNearby.focus(); }
  else if (summary) { summary.setAttribute("tabindex", "-1"); summary.focus(); }
})();
