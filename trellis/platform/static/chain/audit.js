/* Poll a chain audit's progress; offer the report when it is done. */
(function () {
  "use strict";
  var box = document.getElementById("audit");
  if (!box || box.dataset.finished === "true") { return; }
  function set(id, value) {
    var e = document.getElementById(id);
    if (e) { e.textContent = value; }
  }
  function poll() {
    fetch(box.dataset.src, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        document.getElementById("audit-bar").value = s.percent;
        set("audit-state", s.state_words || s.state); set("audit-checked", s.checked); set("audit-total", s.total);
        if (s.finished) { window.location.reload(); } else { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
}());
