// While a scale is filled in: its running total and band, and which items are still unanswered.
// A guide only: the server works out the score that is saved. Without JavaScript nothing shows.
(function () {
  "use strict";
  var panel = document.querySelector("[data-running-total]");
  if (!panel) { return; }
  var form = panel.closest("form");
  var keys = panel.getAttribute("data-items").split(" ").filter(Boolean);
  var labels = panel.getAttribute("data-labels").split("|");
  var bands = (panel.getAttribute("data-bands") || "").split(";").filter(Boolean).map(function (text) {
    var parts = text.split(":");
    var range = parts[0].split("-");
    return {low: Number(range[0]), high: Number(range[1]), band: parts.slice(1).join(":")};
  });
  var line = panel.querySelector(".running-line");
  var missingLine = panel.querySelector(".running-missing");

  function bandOf(total) {
    for (var i = 0; i < bands.length; i += 1) {
      if (total >= bands[i].low && total <= bands[i].high) { return bands[i].band; }
    }
    return "";
  }

  function update() {
    var total = 0;
    var missing = [];
    keys.forEach(function (key, i) {
      var checked = form.querySelector('input[name="' + key + '"]:checked');
      if (checked) {
        total += Number(checked.value);
      } else {
        missing.push((i + 1) + ". " + labels[i]);
      }
    });
    var band = bandOf(total);
    var text = panel.getAttribute("data-what") + ": " + total + " of " + panel.getAttribute("data-max");
    if (band) { text += " · " + band + (missing.length ? " so far" : ""); }
    var derived = panel.getAttribute("data-derived");
    if (derived) { text += " (" + derived + ")"; }
    line.textContent = text;
    missingLine.textContent = missing.length
      ? missing.length + " of " + keys.length + " items unanswered: " + missing.join(", ")
      : "Every item answered.";
    panel.classList.toggle("complete", missing.length === 0);
  }

  panel.hidden = false;
  form.addEventListener("change", update);
  update();
}());
