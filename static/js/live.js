// The live wallboard (/o/<slug>/live/): asks the portal for the figures every few seconds
// and writes them in place (the server formats them in the reader's language). No build step.
(function () {
  "use strict";
  var body = document.body;
  var source = body.getAttribute("data-source");
  var every = Math.max(5, parseInt(body.getAttribute("data-poll"), 10) || 30) * 1000;
  var stale = document.querySelector(".stale");

  function show(figures) {
    Object.keys(figures).forEach(function (name) {
      var node = document.querySelector('[data-field="' + name + '"]');
      if (node && node.textContent !== figures[name]) { node.textContent = figures[name]; }
    });
  }

  function poll() {
    fetch(source, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (answer) {
        if (!answer.ok) { throw new Error(answer.status); }
        return answer.json();
      })
      .then(function (figures) { show(figures); stale.hidden = true; })
      .catch(function () { stale.hidden = false; })
      .then(function () { window.setTimeout(poll, every); });
  }
  window.setTimeout(poll, every);
}());
