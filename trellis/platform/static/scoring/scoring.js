/* Scoring pages: charts drawn with the locally served Chart.js; no inline script (CSP). */
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  if (typeof Chart !== "function") { return; }
  var lang = document.documentElement.lang || "zh-CN";
  var fmt = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
  var base = { responsive: true, maintainAspectRatio: false, animation: false };
  function json(el, name) { try { return JSON.parse(el.dataset[name] || "null"); } catch (e) { return null; } }

  var hist = document.getElementById("sc-hist");
  if (hist) {
    var bins = json(hist, "hist") || [];
    new Chart(hist, { type: "bar", options: base, data: {
      labels: bins.map(function (b) { return b.from + "–" + b.to; }),
      datasets: [{ label: hist.dataset.label, data: bins.map(function (b) { return b.count; }),
                   backgroundColor: "#0f6b5c" }] } });
  }

  var benford = document.getElementById("sc-benford");
  if (benford) {
    var digits = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];
    new Chart(benford, { type: "bar", options: base, data: { labels: digits, datasets: [
      { label: benford.dataset.labelObserved, data: json(benford, "observed"), backgroundColor: "#0f6b5c" },
      { label: benford.dataset.labelExpected, data: json(benford, "expected"), backgroundColor: "#9ca3af" }] } });
  }

  var flows = document.getElementById("sc-flows");
  if (flows) {
    fetch(flows.dataset.src, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (payload) {
        var m = payload.months || [];
        // Axes need numbers: whole yuan, for drawing only.
        var yuan = function (key) { return m.map(function (x) { return Math.round(x[key] / 100); }); };
        new Chart(flows, { type: "bar", data: {
          labels: m.map(function (x) { return x.month; }),
          datasets: [
            { label: flows.dataset.sales, data: yuan("sales_fen"), backgroundColor: "#0f6b5c" },
            { label: flows.dataset.purchases, data: yuan("purchases_fen"), backgroundColor: "#c2410c" },
            { label: flows.dataset.receipts, data: yuan("receipts_fen"), type: "line", borderColor: "#1d4ed8" },
            { label: flows.dataset.credit, data: yuan("credit_notes_fen"), backgroundColor: "#b91c1c" }] },
          options: Object.assign({}, base, { scales: { y: { ticks: { callback: function (v) { return "¥" + fmt.format(v); } } } } }) });
      });
  }

  var cal = document.getElementById("sc-calibration");
  if (cal) {
    var rows = json(cal, "rows") || [];
    new Chart(cal, { type: "bar", options: base, data: {
      labels: rows.map(function (r, i) { return String(i + 1); }),
      datasets: [
        { label: cal.dataset.predicted, data: rows.map(function (r) { return r.mean_pd; }), backgroundColor: "#9ca3af" },
        { label: cal.dataset.observed, data: rows.map(function (r) { return r.bad_rate; }), backgroundColor: "#0f6b5c" }] } });
  }

  var psi = document.getElementById("sc-psi");
  if (psi) {
    var chars = json(psi, "psi") || {};
    var labels = json(psi, "labels") || {};
    var names = Object.keys(chars);
    new Chart(psi, { type: "bar", options: Object.assign({}, base, { indexAxis: "y" }), data: {
      labels: names.map(function (n) { return labels[n] || n; }),
      datasets: [{ label: "PSI", data: names.map(function (n) { return chars[n].psi; }),
        backgroundColor: names.map(function (n) {
          var s = chars[n].status; return s === "shifted" ? "#b91c1c" : s === "investigate" ? "#c2410c" : "#0f6b5c"; }) }] } });
  }
})();
