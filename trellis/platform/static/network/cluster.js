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
        "label": "data(label)", "font-size": 11, "min-zoomed-font-size": 0,
        "font-family": FONT, "text-valign": "bottom", "text-margin-y": 2, "color": "#1c2430",
        "text-outline-color": "#ffffff", "text-outline-width": 1.5, "border-width": 0 } },
      { selector: "node.anchor", style: {
        "shape": "star", "width": 46, "height": 46, "font-size": 14, "font-weight": "bold",
        "min-zoomed-font-size": 0, "background-color": TIER_COLOURS["0"], "z-index": 10,
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
      { selector: "node.nolabel", style: { "label": "" } },
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
    elements.forEach(function (e) {     // no names until placed (one style pass, not two)
      if (e.group === "nodes") { e.classes = (e.classes || "") + " nolabel"; }
    });
    cy = cytoscape({
      container: box, elements: elements, layout: { name: "preset" },
      style: styles(box.dataset.colour), minZoom: 0.05, maxZoom: 4,
      textureOnViewport: elements.length > 1500, hideEdgesOnViewport: elements.length > 1500,
      pixelRatio: 1, boxSelectionEnabled: false
    });
    fitView(cy.elements());
    box.appendChild(tip);
    var t0 = performance.now();
    rankLabels(elements);
    placeLabels();
    box.dataset.labelMs = String(Math.round(performance.now() - t0));  // for the tests
    cy.on("viewport", placeLabelsSoon);
    cy.on("mouseover", "node", showTip);
    cy.on("mouseout", "node", function () { tip.hidden = true; });
    cy.on("viewport", function () { tip.hidden = true; });
    box.dataset.ready = "true";
    window.trellisNetwork = cy;  // for the browser tests and the curious
    cy.on("tap", "node", function (evt) { openPanel(evt.target); });
    cy.on("tap", function (evt) { if (evt.target === cy) { cy.elements().removeClass("faded"); } });
  }

  // Labels stay readable and never cover each other (outside reader 8, R1: about 300 names
  // printed on top of each other, the anchors' names cut by them). A label is drawn at a
  // fixed size on screen (15 px bold for an anchor, 11 px for a vendor) and only where
  // there is room: anchors first, then vendors by their 12-month trade, largest first; a
  // label whose box would meet one already placed is left off (the firm's name is then
  // shown on hover, and in the panel on a click). Zooming in makes room for more names.
  var FONT = '"PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif';
  var ANCHOR_PX = 15, VENDOR_PX = 11, GAP = 5;
  var measure = document.createElement("canvas").getContext("2d");
  function textWidth(text, px, bold) {
    measure.font = (bold ? "bold " : "") + px + "px " + FONT;
    return measure.measureText(text).width;
  }
  var order = [];                   // nodes in label priority, with their label widths
  function rankLabels(elements) {
    var trade = {};
    elements.forEach(function (e) {
      if (e.group !== "edges" || !e.data.volume_fen) { return; }
      trade[e.data.source] = (trade[e.data.source] || 0) + e.data.volume_fen;
      trade[e.data.target] = (trade[e.data.target] || 0) + e.data.volume_fen;
    });
    order = cy.nodes().map(function (n) {
      var anchor = n.hasClass("anchor"), px = anchor ? ANCHOR_PX : VENDOR_PX;
      return { node: n, anchor: anchor, trade: trade[n.id()] || 0, px: px,
               width: textWidth(n.data("label") || "", px, anchor) };
    });
    order.sort(function (a, b) {
      return (b.anchor - a.anchor) || (b.trade - a.trade) || (a.node.id() < b.node.id() ? -1 : 1);
    });
  }
  // Where a label would be drawn, in screen pixels (with a GAP round it), on one side of
  // its node: a vendor's name is always below it; an anchor's may go above or beside it.
  var SIDES = {
    bottom: { "text-valign": "bottom", "text-halign": "center", "text-margin-x": 0, "text-margin-y": 4 },
    top: { "text-valign": "top", "text-halign": "center", "text-margin-x": 0, "text-margin-y": -4 },
    right: { "text-valign": "center", "text-halign": "right", "text-margin-x": 4, "text-margin-y": 0 },
    left: { "text-valign": "center", "text-halign": "left", "text-margin-x": -4, "text-margin-y": 0 }
  };
  function labelBox(item, side, dx) {
    var p = item.node.renderedPosition(), r = item.node.renderedHeight() / 2;
    var w = item.width, h = item.px * 1.35, x1, y1;
    dx = dx || 0;                   // a label below or above may slide sideways
    if (side === "bottom") { x1 = p.x - w / 2 + dx; y1 = p.y + r + 4; }
    else if (side === "top") { x1 = p.x - w / 2 + dx; y1 = p.y - r - 4 - h; }
    else if (side === "right") { x1 = p.x + r + 4; y1 = p.y - h / 2; }
    else { x1 = p.x - r - 4 - w; y1 = p.y - h / 2; }
    return { x1: x1 - GAP, x2: x1 + w + GAP, y1: y1 - GAP, y2: y1 + h + GAP };
  }
  function meets(a, b) { return a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2; }
  function placeLabels() {
    if (!cy) { return; }
    var z = cy.zoom(), w = cy.width(), h = cy.height(), cell = 120, grid = {}, shown = 0;
    function cells(b, fn) {
      for (var gx = Math.floor(b.x1 / cell); gx <= Math.floor(b.x2 / cell); gx++) {
        for (var gy = Math.floor(b.y1 / cell); gy <= Math.floor(b.y2 / cell); gy++) {
          if (fn(gx + ":" + gy) === false) { return false; }
        }
      }
      return true;
    }
    function free(b) {
      return cells(b, function (k) { return !(grid[k] || []).some(function (o) { return meets(o, b); }); });
    }
    function take(b) { cells(b, function (k) { (grid[k] = grid[k] || []).push(b); }); }
    function inside(b) { return b.x1 >= 0 && b.x2 <= w && b.y1 >= 0 && b.y2 <= h; }
    cy.nodes(".anchor").forEach(function (n) {      // no name over an anchor's star
      if (n.hasClass("hidden")) { return; }
      var p = n.renderedPosition(), r = n.renderedWidth() / 2;
      take({ x1: p.x - r, x2: p.x + r, y1: p.y - r, y2: p.y + r });
    });
    cy.batch(function () {
      order.forEach(function (item) {
        var n = item.node, side = null, shift = 0;
        if (!n.hasClass("hidden")) {
          if (item.anchor) {        // an anchor's name is always shown, whole, on screen
            var sides = ["bottom", "top", "right", "left"];
            side = sides.filter(function (sd) {
              var b = labelBox(item, sd); return inside(b) && free(b); })[0];
            if (!side) {              // near an edge: slide it below or above its star
              ["bottom", "top"].some(function (sd) {
                var b = labelBox(item, sd);
                var d = b.x1 < 0 ? -b.x1 : (b.x2 > w ? w - b.x2 : 0);
                if (inside(labelBox(item, sd, d)) && free(labelBox(item, sd, d))) {
                  side = sd; shift = d; return true;
                }
                return false;
              });
            }
            side = side || sides.filter(function (sd) { return free(labelBox(item, sd)); })[0] ||
                   "bottom";
          } else {
            var b = labelBox(item, "bottom");
            if (inside(b) && free(b)) { side = "bottom"; }   // whole, not cut by the edge
          }
        }
        if (side) {
          take(labelBox(item, side, shift));
          shown += 1;
          n.removeClass("nolabel");
          n.style(Object.assign({ "font-size": item.px / z,
                                  "text-outline-width": (item.anchor ? 2.5 : 1.5) / z,
                                  "text-margin-y": SIDES[side]["text-margin-y"] / z,
                                  "text-margin-x": (SIDES[side]["text-margin-x"] + shift) / z },
                                { "text-valign": SIDES[side]["text-valign"],
                                  "text-halign": SIDES[side]["text-halign"] }));
        } else if (!n.hasClass("nolabel")) {
          n.addClass("nolabel");
        }
      });
    });
    box.dataset.labels = String(shown);
  }
  // The whole picture on screen; but where it is so small that the anchors' names would
  // fall on each other (a large cluster on a phone), close enough to the anchors that
  // each name has its line: the rest is a pinch or a drag away.
  function fitView(eles) {
    cy.fit(eles, 20);
    var anchors = cy.nodes(".anchor").not(".hidden"), near = Infinity;
    anchors.forEach(function (a, i) {
      anchors.forEach(function (b, j) {
        if (j <= i) { return; }
        var pa = a.position(), pb = b.position();
        near = Math.min(near, Math.hypot(pa.x - pb.x, pa.y - pb.y));
      });
    });
    var star = anchors.length ? anchors[0].outerWidth() : 0;
    if (!isFinite(near) || near <= star) { return; }
    // a name's line between two stars: the name, its gaps and margins, on screen
    var need = (ANCHOR_PX * 1.35 + 2 * GAP + 12) / (near - star);
    if (cy.zoom() < need) {
      cy.zoom(Math.min(need, cy.maxZoom()));
      cy.center(anchors);
    }
  }

  // While the picture moves, vendor names are left off (they would grow, shrink and meet);
  // they are placed again once it has been still for a moment.
  var placing = null, moving = false;
  function placeLabelsSoon() {
    if (!moving) {
      moving = true;
      box.dataset.moving = "true";
      cy.batch(function () { cy.nodes(".vendor").not(".nolabel").addClass("nolabel"); });
    }
    clearTimeout(placing);
    placing = setTimeout(function () {
      moving = false;
      placeLabels();
      box.dataset.moving = "false";
    }, 150);
  }

  // The full name on hover (the picture is a canvas: this is its tooltip).
  var tip = document.createElement("div");
  tip.className = "net-tip";
  tip.hidden = true;
  function showTip(evt) {
    var n = evt.target, p = n.renderedPosition();
    tip.textContent = n.data("label") || "";
    tip.style.left = Math.round(p.x + 10) + "px";
    tip.style.top = Math.round(p.y - 28) + "px";
    tip.hidden = false;
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
    placeLabels();
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
    if (cy) { cy.style(styles(e.target.value)); placeLabels(); }
  });
  document.getElementById("net-fit").addEventListener("click", function () {
    if (cy) { cy.elements().removeClass("faded"); fitView(cy.elements(":visible")); }
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
