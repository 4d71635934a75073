/* A firm's monthly sales and purchases (Chart.js, served locally). */
(function () {
  "use strict";
  var canvas = document.getElementById("net-monthly");
  if (!canvas || typeof Chart !== "function") { return; }
  var lang = document.documentElement.lang || "zh-CN";
  var fmt = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
  fetch(canvas.dataset.src, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (payload) {
      var months = payload.months || [];
      // Chart axes need numbers: yuan as whole numbers, for drawing only.
      var yuan = function (fen) { return Math.round(fen / 100); };
      new Chart(canvas, {
        type: "bar",
        data: {
          labels: months.map(function (m) { return m.month; }),
          datasets: [
            { label: canvas.dataset.sales, data: months.map(function (m) { return yuan(m.sales_fen); }),
              backgroundColor: "#0f6b5c" },
            { label: canvas.dataset.purchases, data: months.map(function (m) { return yuan(m.purchases_fen); }),
              backgroundColor: "#c2410c" }
          ]
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          scales: { y: { ticks: { callback: function (v) { return "¥" + fmt.format(v); } } } },
          plugins: { tooltip: { callbacks: { label: function (c) {
            return c.dataset.label + ": ¥" + fmt.format(c.parsed.y); } } } }
        }
      });
    });
}());
