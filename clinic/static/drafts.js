// Keep what a nurse types in this browser until the server confirms it was saved, so an expired
// session, a CSRF failure, a database outage or a lost connection never loses an entry.
(function () {
  "use strict";
  var PREFIX = "clinic-draft:";
  var MAX_AGE_MS = 12 * 60 * 60 * 1000;
  var SKIP = { csrf_token: true, use_celsius: true };

  function read(key) {
    try { return JSON.parse(window.localStorage.getItem(PREFIX + key) || "null"); }
    catch (e) { return null; }
  }
  function forget(key) { try { window.localStorage.removeItem(PREFIX + key); } catch (e) { /* full or blocked */ } }

  function values(form) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.type === "submit" || el.type === "button") return;
      if ((el.type === "radio" || el.type === "checkbox")) {
        if (!data[el.name]) data[el.name] = [];
        if (el.checked) data[el.name].push(el.value);
      } else {
        data[el.name] = el.value;
      }
    });
    return data;
  }

  function apply(form, data) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !(el.name in data) || SKIP[el.name]) return;
      var v = data[el.name];
      if (el.type === "radio" || el.type === "checkbox") el.checked = v.indexOf(el.value) !== -1;
      else el.value = v;
      el.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  function differs(a, b) { return JSON.stringify(a) !== JSON.stringify(b); }

  // Drop drafts that the server has just saved, and stale ones. A save redirects here with
  // the saved form's key in the fragment (#saved=…), taken off the address once read.
  var match = /^#saved=([A-Za-z0-9_-]{1,64})$/.exec(window.location.hash);
  var savedKey = match ? match[1] : null;
  if (match && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  try {
    for (var i = window.localStorage.length - 1; i >= 0; i--) {
      var name = window.localStorage.key(i);
      if (!name || name.indexOf(PREFIX) !== 0) continue;
      var d = read(name.slice(PREFIX.length));
      if (!d || Date.now() - d.savedAt > MAX_AGE_MS ||
          (savedKey && d.values && d.values.idempotency_key === savedKey)) {
        window.localStorage.removeItem(name);
      }
    }
  } catch (e) { /* storage unavailable: nothing to clean */ }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-draft-key]"), function (form) {
    var key = form.getAttribute("data-draft-key");
    var initial = values(form);
    var draft = read(key);
    var banner = form.querySelector(".draft-banner");
    if (draft && banner && differs(draft.values, initial)) {
      banner.hidden = false;
      banner.querySelector(".draft-time").textContent = new Date(draft.savedAt).toLocaleString();
      banner.querySelector(".draft-restore").addEventListener("click", function () {
        apply(form, draft.values);
        banner.hidden = true;
      });
      banner.querySelector(".draft-discard").addEventListener("click", function () {
        forget(key);
        banner.hidden = true;
      });
    }
    function store() {
      try {
        window.localStorage.setItem(PREFIX + key, JSON.stringify({ savedAt: Date.now(), values: values(form) }));
      } catch (e) { /* storage full or blocked: the server-side form still keeps values */ }
    }
    form.addEventListener("input", store);
    form.addEventListener("change", store);
    form.addEventListener("submit", store);
  });

  // Logging out on purpose clears this device's drafts: workstations and tablets are shared.
  Array.prototype.forEach.call(document.querySelectorAll("form[data-logout]"), function (form) {
    form.addEventListener("submit", function () {
      try {
        for (var i = window.localStorage.length - 1; i >= 0; i--) {
          var name = window.localStorage.key(i);
          if (name && name.indexOf(PREFIX) === 0) window.localStorage.removeItem(name);
        }
      } catch (e) { /* storage unavailable */ }
    });
  });

  // Show the oxygen details only when oxygen is chosen.
  Array.prototype.forEach.call(document.querySelectorAll(".oxygen-detail"), function (box) {
    var form = box.closest("form");
    function sync() {
      var chosen = form.querySelector("input[name=air_or_oxygen]:checked");
      box.hidden = !(chosen && chosen.value === "oxygen");
    }
    form.addEventListener("change", sync);
    sync();
  });
})();
