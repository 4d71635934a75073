/* Poll an import run's progress until it finishes. */
(function () {
  "use strict";
  var box = document.getElementById("run");
  if (!box || box.dataset.finished === "true") { return; }
  function set(id, value) {
    var e = document.getElementById(id);
    if (e) { e.textContent = value === null || value === undefined || value === "" ? "—" : value; }
  }
  function label(v) { return box.dataset["label" + String(v).charAt(0).toUpperCase() + String(v).slice(1)] || v; }
  function poll() {
    fetch(box.dataset.src, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        document.getElementById("run-bar").value = s.percent;
        set("run-status", label(s.status));
        document.getElementById("run-status").className = "status-" + s.status;
        set("run-phase", label(s.phase)); set("run-done", s.rows_done); set("run-total", s.rows_total);
        set("run-rate", s.rows_per_second); set("run-errors", s.errors); set("run-message", s.message);
        if (s.errors || s.status === "refused" || s.status === "failed") {
          document.getElementById("run-report").hidden = false;
        }
        if (!s.finished) { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
}());
