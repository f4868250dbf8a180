/* Quick buttons for date inputs: "Heute", "Gestern", "Letzte 7 Tage", "Dieser Monat" for a
 * Von/Bis range, "Heute", "Morgen" for a single date.
 *
 * Progressive enhancement as quick-times.js: the buttons are hidden until this script runs;
 * without it the plain fields work as before. "Today" is the server's clock (data-now, so a
 * test's frozen clock and a phone with a wrong clock give the same answer) on the city's wall
 * clock (data-time-zone), not the device's time zone.
 */
(function () {
  "use strict";

  var DAY = 86400000;

  function pad(number) { return String(number).padStart(2, "0"); }

  /* The calendar day of `instant` in `zone`, as a UTC midnight (date arithmetic without DST). */
  function wallDate(instant, zone) {
    var format = new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit"
    });
    var parts = {};
    format.formatToParts(instant).forEach(function (part) { parts[part.type] = part.value; });
    return new Date(Date.UTC(+parts.year, +parts.month - 1, +parts.day));
  }

  function inputValue(day) {
    return day.getUTCFullYear() + "-" + pad(day.getUTCMonth() + 1) + "-" + pad(day.getUTCDate());
  }

  function germanDate(day) {
    return pad(day.getUTCDate()) + "." + pad(day.getUTCMonth() + 1) + "." + day.getUTCFullYear();
  }

  /* [first day, last day] of a named range around `today`. */
  function range(name, today) {
    var year = today.getUTCFullYear(), month = today.getUTCMonth();
    switch (name) {
      case "yesterday": return [new Date(today - DAY), new Date(today - DAY)];
      case "tomorrow": return [new Date(+today + DAY), new Date(+today + DAY)];
      case "last-7-days": return [new Date(today - 6 * DAY), today];
      case "this-month": return [new Date(Date.UTC(year, month, 1)), new Date(Date.UTC(year, month + 1, 0))];
      default: return [today, today];
    }
  }

  function fill(input, day) {
    input.value = inputValue(day);
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function setUp(group) {
    var fromInput = document.getElementById(group.dataset.quickDates);
    if (!fromInput || !window.Intl) { return; }
    var toInput = document.getElementById(group.dataset.toInput || "");
    var status = document.getElementById(group.dataset.status || "");
    var zone = group.dataset.timeZone || "Europe/Berlin";
    var serverNow = Date.parse(group.dataset.now || "");
    // How far the server's clock is ahead of this device's, measured once at page load.
    var skew = isNaN(serverNow) ? 0 : serverNow - Date.now();
    group.hidden = false;
    group.querySelectorAll("button[data-range]").forEach(function (button) {
      button.addEventListener("click", function () {
        var days = range(button.dataset.range, wallDate(new Date(Date.now() + skew), zone));
        var label = button.textContent.trim();
        fill(fromInput, days[0]);
        if (toInput) {
          fill(toInput, days[1]);
          if (status) { status.textContent = "Zeitraum gesetzt: " + germanDate(days[0]) + " bis " + germanDate(days[1]) + " (" + label + ")."; }
        } else if (status) {
          status.textContent = "Datum gesetzt: " + germanDate(days[0]) + " (" + label + ").";
        }
      });
    });
  }

  document.querySelectorAll("[data-quick-dates]").forEach(setUp);
})();
