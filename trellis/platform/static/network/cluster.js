/* The cluster picture: Cytoscape.js with positions computed on the server (preset layout),
   so 2,000 firms draw at once. Filters hide firms; a click opens the firm's panel. */
(function () {
  "use strict";
  var box = document.getElementById("net-cy");
  if (!box || typeof cytoscape !== "function") { return; }
  var t = document.getElementById("net-i18n").dataset;
  var panel = document.getElementById("net-panel");
  var lang = document.documentElement.lang || "zh-CN";
  var intFmt = new Intl.NumberFormat(lang);

  function money(fen) {            // integer fen -> "¥1,234.56" without floating point
    fen = Math.round(fen || 0);
    var sign = fen < 0 ? "-" : "";
    fen = Math.abs(fen);
    var cents = String(fen % 100).padStart(2, "0");
    return sign + "¥" + intFmt.format(Math.floor(fen / 100)) + "." + cents;
  }

  var TIER_COLOURS = { "0": "#0f6b5c", "1": "#2563eb", "2": "#7c3aed", "3": "#db2777",
                       "4": "#ea580c", "-1": "#0891b2", "-2": "#65a30d", "none": "#9ca3af" };
  var GRADE_COLOURS = { A: "#15803d", B: "#65a30d", C: "#ca8a04", D: "#ea580c", E: "#b91c1c" };

  function styles(mode) {
    var s = [
      { selector: "node", style: {
        "width": 14, "height": 14, "background-color": TIER_COLOURS.none,
        "label": "data(label)", "font-size": 9, "min-zoomed-font-size": 9,
        "text-valign": "bottom", "text-margin-y": 2, "color": "#1c2430",
        "border-width": 0 } },
      { selector: "node.anchor", style: {
        "shape": "star", "width": 46, "height": 46, "font-size": 14, "font-weight": "bold",
        "min-zoomed-font-size": 4, "background-color": TIER_COLOURS["0"],
        "border-width": 3, "border-color": "#f59e0b" } },
      { selector: "node.flagged", style: { "border-width": 3, "border-color": "#dc2626" } },
      { selector: "edge", style: {
        "width": "data(width)", "line-color": "#b8c3cf", "curve-style": "haystack",
        "haystack-radius": 0, "opacity": 0.55 } },
      { selector: "edge.cycle", style: {
        "line-color": "#dc2626", "opacity": 0.95, "curve-style": "bezier",
        "target-arrow-shape": "triangle", "target-arrow-color": "#dc2626", "z-index": 9 } },
      { selector: "edge.shared", style: {
        "width": 2, "line-color": "#f59e0b", "line-style": "dashed", "opacity": 0.95,
        "curve-style": "bezier", "z-index": 8 } },
      { selector: ".hidden", style: { "display": "none" } },
      { selector: ".faded", style: { "opacity": 0.12 } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#111827" } }
    ];
    Object.keys(TIER_COLOURS).forEach(function (tier) {
      if (tier === "0") { return; }
      var sel = tier === "none" ? "node.vendor.tier-none" : "node.vendor.tier-" + tier;
      s.splice(2, 0, { selector: sel, style: { "background-color": TIER_COLOURS[tier] } });
    });
    s.splice(2, 0, { selector: "node.vendor[tier > 3]",
                     style: { "background-color": TIER_COLOURS["4"] } });
    if (mode === "grade") {
      Object.keys(GRADE_COLOURS).forEach(function (g) {
        s.push({ selector: "node.vendor.grade-" + g,
                 style: { "background-color": GRADE_COLOURS[g] } });
      });
      s.push({ selector: "node.vendor[!grade]", style: { "background-color": "#d1d5db" } });
    }
    return s;
  }

  box.textContent = t.loading;
  fetch(box.dataset.elements, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (payload) { draw(payload.elements); })
    .catch(function () { box.textContent = "—"; });

  var cy;
  function draw(elements) {
    box.textContent = "";
    cy = cytoscape({
      container: box, elements: elements, layout: { name: "preset" },
      style: styles(box.dataset.colour), minZoom: 0.05, maxZoom: 4,
      textureOnViewport: elements.length > 1500, hideEdgesOnViewport: elements.length > 1500,
      pixelRatio: 1, boxSelectionEnabled: false
    });
    cy.fit(undefined, 20);
    readableLabels();
    cy.on("zoom", readableLabels);
    box.dataset.ready = "true";
    window.trellisNetwork = cy;  // for the browser tests and the curious
    cy.on("tap", "node", function (evt) { openPanel(evt.target); });
    cy.on("tap", function (evt) { if (evt.target === cy) { cy.elements().removeClass("faded"); } });
  }

  // Labels stay readable at any zoom: at least 11 px for a vendor (up to 400 firms; more
  // would cover each other, so a large cluster shows vendor names when zoomed in) and
  // 15 px bold for an anchor.
  function readableLabels() {
    if (!cy) { return; }
    var z = cy.zoom(), many = cy.nodes().length > 400;
    cy.batch(function () {
      cy.nodes(".anchor").style({ "font-size": Math.max(14, 15 / z), "min-zoomed-font-size": 0,
                                   "text-outline-color": "#ffffff", "text-outline-width": 2 / z });
      if (!many) {
        cy.nodes(".vendor").style({ "font-size": Math.max(9, 11 / z), "min-zoomed-font-size": 0,
                                     "text-outline-color": "#ffffff", "text-outline-width": 1.5 / z });
      }
    });
  }

  function applyFilters() {
    if (!cy) { return; }
    var tier = document.getElementById("net-tier").value;
    var industry = document.getElementById("net-industry").value;
    cy.batch(function () {
      cy.nodes().forEach(function (n) {
        var d = n.data();
        var tierOk = tier === "" || (tier === "none" ? d.tier === null || d.tier === undefined
                                                    : String(d.tier) === tier || d.role === "anchor");
        var indOk = industry === "" || d.industry === industry || d.role === "anchor";
        n.toggleClass("hidden", !(tierOk && indOk));
      });
    });
  }
  document.getElementById("net-tier").addEventListener("change", applyFilters);
  document.getElementById("net-industry").addEventListener("change", applyFilters);
  function legendFor(mode) {        // the legend explains the colours on screen
    var legend = document.getElementById("net-legend");
    if (!legend) { return; }
    legend.dataset.colour = mode;
    legend.querySelector(".legend-tier").hidden = mode === "grade";
    legend.querySelector(".legend-grade").hidden = mode !== "grade";
  }
  document.getElementById("net-colour").addEventListener("change", function (e) {
    legendFor(e.target.value);
    if (cy) { cy.style(styles(e.target.value)); readableLabels(); }
  });
  document.getElementById("net-fit").addEventListener("click", function () {
    if (cy) { cy.elements().removeClass("faded"); cy.fit(cy.elements(":visible"), 20); }
  });

  var search = document.getElementById("net-search");
  search.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !cy) { return; }
    e.preventDefault();
    var q = search.value.trim().toUpperCase();
    if (!q) { return; }
    var hit = cy.nodes().filter(function (n) {
      var d = n.data();
      return (d.uscc || "").indexOf(q) === 0 || (d.label || "").toUpperCase().indexOf(q) >= 0;
    });
    if (!hit.length) { panelMessage(t.notFound); return; }
    hit.removeClass("hidden");
    cy.animate({ fit: { eles: hit.closedNeighborhood(), padding: 60 }, duration: 300 });
    openPanel(hit[0]);
  });

  document.getElementById("net-png").addEventListener("click", function () {
    if (!cy) { return; }
    var blob = cy.png({ output: "blob", full: true, scale: 2, bg: "#ffffff", maxWidth: 8000 });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = box.dataset.pngName || "network.png";
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  });

  // A tier in words: the tier filter's own option texts (the server's words for each tier).
  function tierWords(tier) {
    var key = tier === null || tier === undefined ? "none" : String(tier);
    var option = document.querySelector('#net-tier option[value="' + key + '"]');
    return option ? option.textContent : t.notConnected;
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }
  function panelMessage(text) { panel.replaceChildren(el("p", text, "muted small")); }

  function partnerList(title, partners, total) {
    var frag = document.createDocumentFragment();
    frag.appendChild(el("h3", title + " (" + total + ")"));
    if (!partners.length) { frag.appendChild(el("p", t.none, "muted small")); return frag; }
    var ul = el("ul", null, "plain small");
    partners.slice(0, 8).forEach(function (p) {
      var li = el("li");
      var a = el("a", p.name);
      a.href = "#";
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        var n = cy.getElementById(String(p.id));
        if (n.length) { openPanel(n); cy.animate({ center: { eles: n }, duration: 250 }); }
      });
      li.appendChild(a);
      li.appendChild(document.createTextNode(" · " + money(p.volume_fen)));
      ul.appendChild(li);
    });
    frag.appendChild(ul);
    return frag;
  }

  function openPanel(node) {
    cy.elements().addClass("faded");
    node.closedNeighborhood().removeClass("faded");
    node.select();
    var url = box.dataset.neighbourhood.replace(/\/0\/neighbourhood$/, "/" + node.id() + "/neighbourhood");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (h) {
        if (h.error) { panelMessage(h.error.message); return; }
        var frag = document.createDocumentFragment();
        frag.appendChild(el("h2", h.firm.name));
        frag.appendChild(el("p", h.firm.uscc, "mono small"));
        var dl = el("dl", null, "net-facts small");
        [[t.tier, tierWords(h.tier)], [t.sales, money(h.sales_fen)],
         [t.purchases, money(h.purchases_fen)],
         [t.topBuyer, h.top_buyer_share === null ? "—" : Math.round(h.top_buyer_share * 100) + "%"]]
          .forEach(function (kv) { dl.appendChild(el("dt", kv[0])); dl.appendChild(el("dd", kv[1])); });
        frag.appendChild(dl);
        if (h.flags.length) {
          frag.appendChild(el("h3", t.flags));
          var ul = el("ul", null, "net-flags small");
          h.flags.forEach(function (f) {
            var key = "flag" + f.code.split("_").map(function (w) {
              return w.charAt(0).toUpperCase() + w.slice(1); }).join("");
            var label = t[key] || f.code;
            var extra = f.firm ? " " + f.firm : (f.firms ? ": " + f.firms.join(" → ") : "");
            if (f.code === "cut_vertex") { extra = " (" + f.dependents + ")"; }
            ul.appendChild(el("li", label + extra));
          });
          frag.appendChild(ul);
        }
        frag.appendChild(partnerList(t.buyers, h.buyers, h.buyer_count));
        frag.appendChild(partnerList(t.suppliers, h.suppliers, h.supplier_count));
        var link = el("a", t.open, "button small");
        link.href = box.dataset.firmPage.replace(/\/0$/, "/" + h.firm.id);
        frag.appendChild(link);
        panel.replaceChildren(frag);
      })
      .catch(function () { panelMessage("—"); });
  }
}());
