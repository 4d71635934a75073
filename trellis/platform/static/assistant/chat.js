// The chat panel: posts the question to /api/v1/assistant/messages and shows the answer
// in place. Without JavaScript the same form posts to /assistant/ and works as a page.
(function () {
  "use strict";
  function post(form, url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json",
                "X-CSRFToken": form.querySelector("[name=csrf_token]").value},
      body: JSON.stringify(body || {})
    }).then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); });
  }
  function actionButtons(li, thread, form, action) {
    // A proposed action: nothing happens until the user presses Confirm.
    var box = document.createElement("div");
    box.className = "assistant-action";
    box.setAttribute("data-action", action.kind);
    box.setAttribute("data-action-id", action.id);
    [["confirm", form.getAttribute("data-yes"), "data-confirm"],
     ["cancel", form.getAttribute("data-no"), "data-cancel"]].forEach(function (d) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = d[1];
      b.setAttribute(d[2], "");
      if (d[0] === "cancel") { b.className = "secondary"; }
      b.addEventListener("click", function () {
        box.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
        var url = form.getAttribute("data-actions") + "/" + action.id + "/" + d[0] +
          "?lang=" + encodeURIComponent(form.getAttribute("data-lang"));
        post(form, url).then(function (res) {
          box.parentNode.removeChild(box);
          var m = res[1].reply;
          if (!res[0] || !m) { throw new Error("failed"); }
          item(thread, form.getAttribute("data-bot"), "assistant", m.text, m.links, form);
        }).catch(function () {
          item(thread, form.getAttribute("data-bot"), "assistant", form.getAttribute("data-error"), [], form);
        });
      });
      box.appendChild(b);
    });
    li.appendChild(box);
  }
  function item(thread, who, sender, text, links, form, action) {
    var li = document.createElement("li");
    li.className = "assistant-msg assistant-" + sender;
    li.setAttribute("data-sender", sender);
    var name = document.createElement("span");
    name.className = "assistant-who";
    name.textContent = who;
    var p = document.createElement("p");
    p.textContent = text;
    li.appendChild(name);
    li.appendChild(p);
    if (links && links.length) {
      var src = document.createElement("p");
      src.className = "assistant-links";
      src.textContent = form.getAttribute("data-source") + " ";
      links.forEach(function (l, i) {
        var a = document.createElement("a");
        a.href = l.href;
        a.textContent = l.label;
        a.setAttribute("data-source", "");
        if (i) { src.appendChild(document.createTextNode(" · ")); }
        src.appendChild(a);
      });
      li.appendChild(src);
    }
    if (action && action.id && action.state === "proposed") {
      actionButtons(li, thread, form, action);
    }
    thread.appendChild(li);
  }
  function wire(form) {
    var thread = form.parentNode.querySelector("[data-thread]");
    form.addEventListener("submit", function (ev) {
      if (!window.fetch) { return; }
      ev.preventDefault();
      var input = form.querySelector("[name=text]");
      var conv = form.querySelector("[name=c]");
      var text = input.value.trim();
      if (!text) { return; }
      var body = {text: text, lang: form.getAttribute("data-lang")};
      if (conv && conv.value) { body.conversation_id = parseInt(conv.value, 10); }
      item(thread, form.getAttribute("data-you"), "user", text, [], form);
      input.value = "";
      fetch(form.getAttribute("data-api"), {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json",
                  "X-CSRFToken": form.querySelector("[name=csrf_token]").value},
        body: JSON.stringify(body)
      }).then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
        .then(function (res) {
          if (!res[0]) { throw new Error("failed"); }
          if (conv) { conv.value = res[1].conversation_id; }
          var m = res[1].reply;
          item(thread, form.getAttribute("data-bot"), "assistant", m.text, m.links, form, m.action);
        })
        .catch(function () {
          item(thread, form.getAttribute("data-bot"), "assistant", form.getAttribute("data-error"), [], form);
        });
    });
  }
  document.querySelectorAll("form[data-assistant]").forEach(wire);
})();
