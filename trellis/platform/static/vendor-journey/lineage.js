// The lineage picture scrolls inside its own box (the page never grows wider than the
// screen). Its hint ("swipe left and right...") shows only while the picture is wider than
// its box: on a phone, or a narrow window, and again after the window is resized.
(function () {
  "use strict";
  document.querySelectorAll("[data-lineage]").forEach(function (box) {
    var hint = document.getElementById(box.getAttribute("data-lineage"));
    if (!hint) { return; }
    function update() { hint.hidden = box.scrollWidth <= box.clientWidth + 1; }
    update();
    if (window.ResizeObserver) { new ResizeObserver(update).observe(box); }
    else { window.addEventListener("resize", update); }
  });
}());
