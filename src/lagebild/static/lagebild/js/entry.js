/* Field entry form: map tap, device position, place suggestions and measure details.
 * Everything here is an enhancement: without JavaScript all inputs are visible and the
 * coordinates can be typed in the "Koordinaten" section.
 */
(function () {
  "use strict";

  var form = document.getElementById("incident-form");
  if (!form) { return; }
  var latInput = document.getElementById("id_lat");
  var lonInput = document.getElementById("id_lon");
  var status = document.getElementById("location-status");
  var addressInput = document.getElementById("id_address_text");
  var suggestions = document.getElementById("address-suggestions");

  function parse(value) {
    var number = parseFloat(String(value || "").replace(",", "."));
    return isNaN(number) ? null : number;
  }

  function say(message) {
    if (status) { status.textContent = message; }
  }

  // --- measures: show only the inputs a chosen measure needs --------------------------------
  function measureChecked(type) {
    var box = form.querySelector('input[name="measure_types"][value="' + type + '"]');
    return Boolean(box && box.checked);
  }

  function hasError(group) {
    return Boolean(group.querySelector(".field-error"));
  }

  function updateMeasureDetails() {
    form.querySelectorAll("[data-measure-detail]").forEach(function (group) {
      group.hidden = !measureChecked(group.dataset.measureDetail) && !hasError(group);
    });
  }
  form.querySelectorAll('input[name="measure_types"]').forEach(function (box) {
    box.addEventListener("change", updateMeasureDetails);
  });
  updateMeasureDetails();

  // --- person: age group only when a person is created -------------------------------------
  var personBox = document.getElementById("id_create_person");
  var personDetail = form.querySelector("[data-person-detail]");
  function updatePerson() {
    if (personBox && personDetail) { personDetail.hidden = !personBox.checked; }
  }
  if (personBox) { personBox.addEventListener("change", updatePerson); }
  updatePerson();

  // --- category: default caution amount from the catalogue rule ----------------------------
  var category = document.getElementById("id_category");
  var cautionInput = document.getElementById("id_caution_amount");
  var cautionHint = document.getElementById("caution-hint");
  var autoAmount = null;
  function updateCategory() {
    var option = category.options[category.selectedIndex];
    if (!option || !option.value) {
      if (cautionHint) { cautionHint.hidden = true; }
      return;
    }
    var allowed = option.dataset.cautionAllowed === "1";
    var amount = (option.dataset.cautionAmount || "").replace(".", ",").replace(/,00$/, "");
    if (cautionHint) { cautionHint.hidden = allowed; }
    if (cautionInput && (cautionInput.value === "" || cautionInput.value === autoAmount)) {
      cautionInput.value = allowed ? amount : "";
      autoAmount = cautionInput.value;
    }
  }
  if (category) {
    category.addEventListener("change", updateCategory);
    updateCategory();
  }

  // --- patrol: a joint patrol makes the record joint ---------------------------------------
  var patrol = document.getElementById("id_patrol");
  var joint = document.getElementById("id_joint");
  if (patrol && joint) {
    patrol.addEventListener("change", function () {
      var option = patrol.options[patrol.selectedIndex];
      if (option && option.dataset.joint === "1") { joint.checked = true; }
    });
  }

  // --- map -----------------------------------------------------------------------------------
  var mapEl = document.getElementById("entry-map");
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

  // --- place name for a point (offline gazetteer, geo app) ---------------------------------
  // The address field gets the nearest street or place unless the officer typed their own;
  // a name filled in here is replaced by the next tap, a typed one never.
  var autoAddress = null;
  var lookup = 0;
  function nameThePoint(lat, lon, how) {
    var url = mapEl && mapEl.dataset.reverseUrl;
    if (!url || !addressInput) { return; }
    var ticket = ++lookup;
    fetch(url + "?lat=" + lat.toFixed(6) + "&lon=" + lon.toFixed(6), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (data) {
      if (ticket !== lookup || !data.address_text) { return; }
      var typed = addressInput.value.trim();
      if (typed === "" || typed === autoAddress) {
        addressInput.value = data.address_text;
        autoAddress = data.address_text;
        say("Ort gesetzt (" + how + "): " + data.address_text + ". Die Ortsangabe können Sie ändern.");
      }
    }).catch(function () { /* the coordinates are set; the name is a convenience */ });
  }

  function setPoint(lat, lon, how, zoom, named) {
    opened = true;  // the officer has chosen: the map no longer moves by itself
    latInput.value = lat.toFixed(6);
    lonInput.value = lon.toFixed(6);
    showPoint(lat, lon, zoom);
    say("Ort gesetzt (" + how + "): " + lat.toFixed(5).replace(".", ",") + " / " + lon.toFixed(5).replace(".", ","));
    if (!named) { nameThePoint(lat, lon, how); }
  }

  function readJson(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (error) { return null; }
  }

  // Where the map opens: the point already set, else the officer's patrol area, else the
  // current position (only when the browser already allows it: no question on page load),
  // else the focus areas, where most of the work is, else the whole city.
  var opened = false;
  function fitFocusAreas() {
    if (opened || !handle.areas) { return; }
    var bounds = L.latLngBounds([]);
    handle.areas.eachLayer(function (layer) {
      if (layer.feature && layer.feature.properties.kind === "focus_area") { bounds.extend(layer.getBounds()); }
    });
    // Not animated: Leaflet drops a setView that arrives during a zoom animation, and the
    // position may arrive just then (the map then stayed at the focus areas).
    if (bounds.isValid()) { handle.map.fitBounds(bounds, { padding: [8, 8], animate: false }); } else { handle.fitAreas(); }
  }

  function openAtPosition() {
    if (!navigator.geolocation || !navigator.permissions || !navigator.permissions.query) { return; }
    navigator.permissions.query({ name: "geolocation" }).then(function (permission) {
      if (permission.state !== "granted") { return; }
      navigator.geolocation.getCurrentPosition(function (position) {
        if (opened) { return; }
        opened = true;
        handle.map.setView([position.coords.latitude, position.coords.longitude], 16, { reset: true });
      }, function () { /* stays at the focus areas */ }, { maximumAge: 60000, timeout: 10000 });
    }).catch(function () { /* no permissions API: stays at the focus areas */ });
  }

  if (mapEl && window.L && window.Lagebild) {
    handle = window.Lagebild.createMap(mapEl, {
      areasUrl: mapEl.dataset.areasUrl,
      interactiveAreas: false,
      onAreasLoaded: function () {
        if (ownArea) { ownArea.bringToFront(); }
        fitFocusAreas();
      }
    });
    var area = readJson("entry-map-area");
    var ownArea = null;
    if (area && area.feature) {
      ownArea = L.geoJSON(area.feature, {
        interactive: false,
        style: function () { return L.extend({ interactive: false }, window.Lagebild.areaStyles.own_area); }
      }).addTo(handle.map);
    }
    var startLat = parse(latInput.value);
    var startLon = parse(lonInput.value);
    if (startLat !== null && startLon !== null) {
      opened = true;
      showPoint(startLat, startLon, 0);
      handle.map.setView([startLat, startLon], 16);
    } else if (area && area.bounds) {
      opened = true;
      handle.map.fitBounds(area.bounds, { padding: [4, 4] });
    } else {
      openAtPosition();
    }
    if (mapEl.dataset.placesUrl) { window.Lagebild.showPlaces(handle, mapEl.dataset.placesUrl); }
    window.Lagebild.entryMap = handle.map;  // for browser tests and the console
    handle.map.on("click", function (event) {
      setPoint(event.latlng.lat, event.latlng.lng, "Karte", 0);
    });
    // Keyboard: arrow keys pan (Leaflet), Enter sets the point in the middle of the map.
    mapEl.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target === mapEl) {
        event.preventDefault();
        var centre = handle.map.getCenter();
        setPoint(centre.lat, centre.lng, "Kartenmitte", 0);
      }
    });
  }

  function typedPoint() {
    var lat = parse(latInput.value);
    var lon = parse(lonInput.value);
    if (lat !== null && lon !== null) { showPoint(lat, lon, 15); }
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
        setPoint(position.coords.latitude, position.coords.longitude, "Standort, Genauigkeit etwa " + accuracy + " m", 17);
      }, function (error) {
        positionButton.disabled = false;
        var reasons = {
          1: "Der Zugriff auf den Standort wurde nicht erlaubt.",
          2: "Der Standort ist nicht verfügbar.",
          3: "Die Standortbestimmung hat zu lange gedauert."
        };
        say((reasons[error.code] || "Der Standort konnte nicht ermittelt werden.") +
          " Bitte tippen Sie auf die Karte oder geben Sie eine Ortsangabe ein.");
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
    });
  }

  // --- place suggestions (htmx fills the list; a click sets the point) -----------------------
  if (suggestions) {
    suggestions.addEventListener("click", function (event) {
      var button = event.target.closest(".suggestion");
      if (!button) { return; }
      var lat = parse(button.dataset.lat);
      var lon = parse(button.dataset.lon);
      if (lat === null || lon === null) { return; }
      addressInput.value = button.dataset.name;
      autoAddress = null;
      setPoint(lat, lon, button.dataset.name, 17, true);
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

  // A double tap sends the form once. A later retry (slow network, browser resend) posts the
  // same hidden entry_key, which the server answers with the incident saved first.
  form.addEventListener("submit", function (event) {
    if (form.getAttribute("data-submitting") === "1") { event.preventDefault(); return; }
    form.setAttribute("data-submitting", "1");
    window.setTimeout(function () { form.removeAttribute("data-submitting"); }, 5000);
  });

  // Bring the first error into view so a phone user sees what to fix.
  var summary = document.getElementById("form-errors");
  if (summary) { summary.setAttribute("tabindex", "-1"); summary.focus(); }
})();
