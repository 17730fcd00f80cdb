// The webhooks settings page: while "Register on every agent" runs (queued as a task), fetch
// the page again every 1.5 s and put the outcome per agent in place as soon as it is in, so
// nobody has to reload. Stops once it is in, or after two minutes.
(function () {
  "use strict";
  var box = document.getElementById("webhook-registration");
  if (!box || box.getAttribute("data-pending") !== "true") { return; }
  var tries = 0;
  function again() { if (tries < 80) { setTimeout(poll, 1500); } }
  function poll() {
    tries += 1;
    fetch(window.location.pathname, {credentials: "same-origin"})
      .then(function (answer) { return answer.ok ? answer.text() : ""; })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html")
          .getElementById("webhook-registration");
        if (!fresh) { again(); return; }
        box.replaceWith(fresh);
        box = fresh;
        if (fresh.getAttribute("data-pending") === "true") { again(); }
      })
      .catch(again);
  }
  setTimeout(poll, 1000);
})();
