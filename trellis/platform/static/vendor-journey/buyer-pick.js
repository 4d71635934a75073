// A typed buyer that fits several firms: the page offers them as buttons that send the
// form again with the buyer picked (that works without JavaScript). With JavaScript a
// button only fills the buyer box, so the vendor sees the buyer before saving; the
// box's error and the offers go away.
(function () {
  "use strict";
  var box = document.getElementById("buyer");
  var offers = document.getElementById("buyer-picks");
  if (!box || !offers) { return; }
  offers.addEventListener("click", function (event) {
    var button = event.target.closest("[data-pick]");
    if (!button) { return; }
    event.preventDefault();
    box.value = button.getAttribute("data-pick");
    box.removeAttribute("aria-invalid");
    box.removeAttribute("aria-describedby");
    var error = document.getElementById("buyer-error");
    if (error) { error.remove(); }
    var field = box.closest(".field");
    if (field) { field.classList.remove("has-error"); }
    offers.remove();
    box.focus();
  });
}());
