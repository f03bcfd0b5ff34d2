// Timeline points: show a point's value, time and author on tap, click, focus or hover
// (a tablet has no hover); each series is one tab stop, and arrow keys move between its points.
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  ready(function () {
    var chart = document.querySelector(".timeline-chart");
    var readout = document.getElementById("readout");
    if (!chart || !readout) { return; }
    var selected = null;
    function seriesOf(point) {
      return Array.prototype.filter.call(point.classList, function (c) { return c.indexOf("s-") === 0 || c.indexOf("m-") === 0; })[0];
    }
    function show(point) {
      if (!point || !point.classList || !point.classList.contains("pt")) { return; }
      if (selected) { selected.classList.remove("selected"); }
      selected = point;
      point.classList.add("selected");
      readout.textContent = point.getAttribute("aria-label");
      // One tab stop per series (a roving tabindex): the point last shown keeps it.
      Array.prototype.forEach.call(chart.querySelectorAll(".pt." + seriesOf(point) + "[tabindex='0']"), function (p) {
        p.setAttribute("tabindex", "-1");
      });
      point.setAttribute("tabindex", "0");
    }
    // A fingertip is wider than a point: a tap near one (within 24 px) picks the nearest.
    function nearest(x, y) {
      var best = null, bestDistance = 24 * 24;
      Array.prototype.forEach.call(chart.querySelectorAll(".pt"), function (point) {
        var box = point.getBoundingClientRect();
        var dx = box.left + box.width / 2 - x, dy = box.top + box.height / 2 - y;
        var distance = dx * dx + dy * dy;
        if (distance < bestDistance) { best = point; bestDistance = distance; }
      });
      return best;
    }
    chart.addEventListener("click", function (event) {
      var point = event.target.classList && event.target.classList.contains("pt")
        ? event.target : nearest(event.clientX, event.clientY);
      if (point) { show(point); point.focus(); }
    });
    chart.addEventListener("focusin", function (event) { show(event.target); });
    chart.addEventListener("mouseover", function (event) { show(event.target); });
    chart.addEventListener("keydown", function (event) {
      var point = event.target;
      if (!point.classList || !point.classList.contains("pt")) { return; }
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") { return; }
      var peers = chart.querySelectorAll(".pt." + seriesOf(point));
      var index = Array.prototype.indexOf.call(peers, point);
      var next = peers[index + (event.key === "ArrowRight" ? 1 : -1)];
      if (next) { next.focus(); event.preventDefault(); }
    });
  });
})();
