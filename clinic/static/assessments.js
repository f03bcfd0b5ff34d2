// Show a question only when the answer it follows is chosen (e.g. the suicide-risk screen after a
// yes to the self-harm question). Hidden questions are disabled so they are not sent; a section the
// server marked with an error stays visible until its controlling answer is changed. Without
// JavaScript every question shows.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("form.assessment-form"), function (form) {
    var sections = form.querySelectorAll("[data-show-if]");
    if (!sections.length) return;
    var keepOpen = [];
    Array.prototype.forEach.call(sections, function (section) {
      keepOpen.push(!!section.querySelector(".has-error"));
    });

    function chosen(name) {
      var checked = form.querySelector('input[name="' + name + '"]:checked');
      return checked ? checked.value : null;
    }

    function sync() {
      Array.prototype.forEach.call(sections, function (section, i) {
        var rule = section.getAttribute("data-show-if").split("=");
        section.hidden = !(keepOpen[i] || chosen(rule[0]) === rule[1]);
      });
      Array.prototype.forEach.call(sections, function (section) {
        Array.prototype.forEach.call(section.querySelectorAll("input"), function (input) {
          input.disabled = !!input.closest("[hidden]");
        });
      });
    }
    form.addEventListener("change", function (event) {
      Array.prototype.forEach.call(sections, function (section, i) {
        if (section.getAttribute("data-show-if").split("=")[0] === event.target.name) {
          keepOpen[i] = false;
        }
      });
      sync();
    });
    sync();
  });
})();
