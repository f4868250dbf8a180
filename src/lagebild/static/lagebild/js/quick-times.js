/* Quick buttons for a date-and-time field: "jetzt", "vor 15 min", "vor 1 h".
 *
 * Progressive enhancement: the buttons are hidden until this script runs; without it the
 * plain field works as before. Times are those of the server's clock (data-now, so a test's
 * frozen clock and a phone with a wrong clock give the same answer) on the city's wall clock
 * (data-time-zone). The chosen instant's UTC offset goes into a hidden field, so the hour
 * that occurs twice when summer time ends keeps its meaning; typing clears it.
 */
(function () {
  "use strict";

  function pad(number) { return String(number).padStart(2, "0"); }

  /* Wall-clock parts of `instant` in `zone`, and the zone's UTC offset then ("+01:00"). */
  function wallClock(instant, zone) {
    var format = new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, hourCycle: "h23",
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"
    });
    var parts = {};
    format.formatToParts(instant).forEach(function (part) { parts[part.type] = part.value; });
    var asUtc = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
    var minutes = Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60000);
    var sign = minutes < 0 ? "-" : "+";
    var offset = sign + pad(Math.floor(Math.abs(minutes) / 60)) + ":" + pad(Math.abs(minutes) % 60);
    return {
      value: parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" + parts.minute,
      time: parts.hour + ":" + parts.minute,
      offset: offset
    };
  }

  function setUp(group) {
    var input = document.getElementById(group.dataset.quickTimes);
    if (!input || !window.Intl) { return; }
    var offsetInput = document.getElementById(group.dataset.offsetInput || "");
    var status = document.getElementById(group.dataset.status || "");
    var zone = group.dataset.timeZone || "Europe/Berlin";
    var serverNow = Date.parse(group.dataset.now || "");
    // How far the server's clock is ahead of this device's, measured once at page load.
    var skew = isNaN(serverNow) ? 0 : serverNow - Date.now();
    group.hidden = false;
    group.querySelectorAll("button[data-minutes-ago]").forEach(function (button) {
      button.addEventListener("click", function () {
        var minutes = parseInt(button.dataset.minutesAgo, 10) || 0;
        var chosen = wallClock(new Date(Date.now() + skew - minutes * 60000), zone);
        input.value = chosen.value;
        if (offsetInput) { offsetInput.value = chosen.offset; }
        input.dispatchEvent(new Event("change", { bubbles: true }));
        if (status) { status.textContent = "Zeitpunkt gesetzt: " + chosen.time + " Uhr (" + button.textContent.trim() + ")."; }
      });
    });
    // A time typed or picked by hand is the officer's own: no offset from a button then.
    input.addEventListener("input", function () { if (offsetInput) { offsetInput.value = ""; } });
  }

  document.querySelectorAll("[data-quick-times]").forEach(setUp);
})();
