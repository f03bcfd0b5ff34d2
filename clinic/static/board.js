// Refresh the unit board in place at least every minute, keeping its sort and filter.
// Only the board's own container is replaced, and never while someone is typing in a form field,
// has focus inside the board, or the page is hidden, so nothing typed or being read is disturbed.
(function () {
  "use strict";
  var RETRY_MS = 5000;
  var live = document.getElementById("board-live");
  if (!live || !window.fetch || !window.DOMParser) return;
  var seconds = parseInt(live.getAttribute("data-refresh-seconds"), 10);
  var intervalMs = (seconds > 0 ? seconds : 60) * 1000;
  var note = document.querySelector(".refresh-note");
  var inFlight = false;
  var timer = null;
  var lastTry = Date.now();

  function busy() {
    var el = document.activeElement;
    if (!el || el === document.body) return false;
    if (el.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) return true;
    // A keyboard user on a link in the board would lose their place if it were replaced.
    return live.contains(el);
  }

  function say(text) {
    if (!note) return;
    note.textContent = text;
    note.hidden = !text;
  }

  function schedule(ms) {
    window.clearTimeout(timer);
    timer = window.setTimeout(tick, ms);
  }

  function tick() {
    if (document.hidden || busy() || inFlight) {
      // Try again shortly rather than wait a whole interval once the page is free.
      schedule(RETRY_MS);
      return;
    }
    refresh();
  }

  function refresh() {
    inFlight = true;
    lastTry = Date.now();
    window.fetch(window.location.href, {
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
      cache: "no-store",
    }).then(function (response) {
      if (response.ok && response.headers.get("X-Board-Fragment") === "1") {
        return response.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById("board-live");
          if (!fresh) throw new Error("no board in the answer");
          if (busy()) return; // focus moved into the page while the answer was on its way
          live.innerHTML = fresh.innerHTML;
          say("");
        });
      }
      if (response.ok || response.status === 401 || response.status === 403) {
        // Sent to the login page (session ended) or no longer allowed: take the board off the
        // screen by reloading, which shows why.
        window.location.reload();
        return;
      }
      throw new Error("status " + response.status);
    }).catch(function () {
      say("⚠ The board could not be updated just now. It shows the time of its last update below; " +
          "it will try again.");
    }).then(function () {
      inFlight = false;
      schedule(intervalMs);
    });
  }

  document.addEventListener("visibilitychange", function () {
    // Back on screen after an interval or more: bring the board up to date at once.
    if (!document.hidden && !inFlight && Date.now() - lastTry >= intervalMs) schedule(0);
  });
  // Exposed for tests and for anyone wanting an immediate update.
  window.clinicBoardRefresh = refresh;
  schedule(intervalMs);
})();
