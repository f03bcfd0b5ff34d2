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
