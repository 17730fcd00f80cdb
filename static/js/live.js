// The live wallboard (/o/<slug>/live/): asks the portal for the figures every 30 seconds
// and writes them in place (the server formats them in the reader's language): the figures,
// the tiles' colours, the hourly bars against their usual band, the agents' tiles.
// No build step.
(function () {
  "use strict";
  var body = document.body;
  var source = body.getAttribute("data-source");
  var every = Math.max(5, parseInt(body.getAttribute("data-poll"), 10) || 30) * 1000;
  var stale = document.querySelector(".stale");
  var STATES = ["ok", "amber", "red"];

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function hours(list) {
    var box = document.querySelector("[data-hours]");
    if (!box) { return; }
    box.textContent = "";
    list.forEach(function (h) {
      var cell = el("div", "hour" + (h.state ? " " + h.state : ""));
      cell.title = h.label + ":00";
      var band = el("span", "band");
      band.style.bottom = h.band_bottom + "%";
      band.style.height = h.band_height + "%";
      cell.appendChild(band);
      if (h.calls !== null) {
        var bar = el("span", "bar");
        bar.style.height = h.height + "%";
        cell.appendChild(bar);
      }
      cell.appendChild(el("span", "label", h.hour % 3 === 0 ? h.label : ""));
      box.appendChild(cell);
    });
  }

  function agents(list) {
    var box = document.querySelector("[data-agents]");
    if (!box) { return; }
    var none = document.getElementById("t-none");
    box.textContent = "";
    if (!list.length && none) { box.appendChild(el("p", "sub", none.textContent)); }
    list.forEach(function (a) {
      var tile = el("div", "agent" + (a.state ? " " + a.state : ""));
      tile.appendChild(el("h3", "", a.name));
      if (a.environment) { tile.appendChild(el("p", "env", a.environment)); }
      var line = el("p");
      line.appendChild(el("strong", "", a.answer_rate));
      line.appendChild(document.createTextNode(" · " + a.calls));
      tile.appendChild(line);
      box.appendChild(tile);
    });
  }

  function show(figures) {
    Object.keys(figures).forEach(function (name) {
      var node = document.querySelector('[data-field="' + name + '"]');
      if (node && typeof figures[name] === "string" && node.textContent !== figures[name]) {
        node.textContent = figures[name];
      }
      var tile = document.querySelector('[data-state="' + name + '"]');
      if (tile) {
        STATES.forEach(function (s) { tile.classList.remove(s); });
        if (figures[name]) { tile.classList.add(figures[name]); }
      }
    });
    hours(figures.hours || []);
    agents(figures.agents || []);
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
