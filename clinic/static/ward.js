// Error summaries: focus moves to the summary when a form comes back refused, and each link in it
// moves focus to its field (a plain fragment link only scrolls). No inline script: the CSP forbids it.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) { return; }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) { return; }
    var target = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
    if (!target) { return; }
    event.preventDefault();
    var group = target.closest("fieldset") || target;
    group.scrollIntoView({block: "start"});
    target.focus({preventScroll: true});
  });
}());

// Date fields: the tablet draws them in its own locale ("12/01/2026, 09:16 PM"); the record shows
// "01 Dec 2026 21:16". Echo each typed date in the record's format beside the field.
(function () {
  "use strict";
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function spell(value) {
    var m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(value || "");
    if (!m) { return ""; }
    var text = m[3] + " " + MONTHS[Number(m[2]) - 1] + " " + m[1];
    return m[4] ? text + " " + m[4] + ":" + m[5] : text;
  }

  Array.prototype.forEach.call(
    document.querySelectorAll("input[type=datetime-local], input[type=date]"),
    function (input) {
      var echo = document.createElement("span");
      echo.className = "date-echo";
      echo.setAttribute("aria-live", "polite");
      input.insertAdjacentElement("afterend", echo);
      function update() {
        var text = spell(input.value);
        echo.textContent = text ? "= " + text + (input.type === "date" ? "" : " (unit clock)") : "";
      }
      input.addEventListener("input", update);
      input.addEventListener("change", update);
      update();
    }
  );
}());
