// Rounds page: a "Clear this row" button per patient (a tapped radio cannot be untapped) and a
// running count of the rows that will be saved, so the nurse sees what one tap on Save will chart.
(function () {
  "use strict";
  var form = document.getElementById("round-form");
  if (!form) return;
  var rows = Array.prototype.slice.call(form.querySelectorAll("[data-round-row]"));
  var save = form.querySelector(".round-save");
  var count = form.querySelector(".round-count");

  function filled(row) {
    if (row.querySelector("input[type=radio]:checked")) return true;
    var concern = row.querySelector("input[type=text][name$='-concern']");
    return !!(concern && concern.value.trim());
  }

  function update() {
    var n = 0;
    rows.forEach(function (row) {
      var on = filled(row);
      row.classList.toggle("is-filled", on);
      if (on) n += 1;
    });
    save.textContent = n ? "Save " + n + (n === 1 ? " check" : " checks") : "Save checked patients";
    count.textContent = n ? n + " of " + rows.length + " patients filled in" : "No patient filled in yet";
  }

  rows.forEach(function (row) {
    var clear = row.querySelector(".row-clear");
    if (!clear) return;
    clear.hidden = false;
    clear.addEventListener("click", function () {
      Array.prototype.forEach.call(row.querySelectorAll("input"), function (el) {
        if (el.form !== form) return;
        if (el.type === "radio") el.checked = false;
        else if (el.type === "text") el.value = "";
      });
      form.dispatchEvent(new Event("change", { bubbles: true }));
    });
  });
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
})();
