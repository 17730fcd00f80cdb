// The live wallboard (/o/<slug>/live/): asks the portal for the figures every 30 seconds
// and writes them in place (the server formats them in the reader's language): the figures,
// the tiles' colours, the hourly bars against their usual band, the agents' tiles. A TV has
// no one to scroll: when the agents' tiles do not fit their box, they are shown a page at a
// time, the next every few seconds, with "page 2 of 3" in the footer. No build step.
(function () {
  "use strict";
  var body = document.body;
  var source = body.getAttribute("data-source");
  var every = Math.max(5, parseInt(body.getAttribute("data-poll"), 10) || 30) * 1000;
  var stale = document.querySelector(".unreachable");
  var STATES = ["ok", "amber", "red"];
  var pageEvery = Math.max(2, parseInt(body.getAttribute("data-page-seconds"), 10) || 12) * 1000;
  var pager = document.querySelector("[data-pager]");
  var pageWords = document.getElementById("t-page");
  var shownPage = 0;

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
    if (!list.length && none) { box.appendChild(el("p", "sub", none.content.textContent)); }
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
    paginate();
  }

  // How many tiles fit the box at once: every tile shown, those whose bottom is inside it.
  function perPage(box, tiles) {
    tiles.forEach(function (t) { t.hidden = false; });
    var bottom = box.getBoundingClientRect().bottom + 0.5;
    var fit = tiles.filter(function (t) { return t.getBoundingClientRect().bottom <= bottom; });
    return Math.max(1, fit.length);
  }

  // Show page `shownPage` of the agents' tiles (all of them when they fit).
  function paginate() {
    var box = document.querySelector("[data-agents]");
    if (!box || !pager) { return; }
    var tiles = Array.prototype.slice.call(box.querySelectorAll(".agent"));
    var size = perPage(box, tiles);
    var pages = Math.ceil(tiles.length / size) || 1;
    if (shownPage >= pages) { shownPage = 0; }
    tiles.forEach(function (t, i) {
      t.hidden = Math.floor(i / size) !== shownPage;
    });
    pager.hidden = pages < 2;
    box.setAttribute("data-page", String(shownPage + 1));
    box.setAttribute("data-pages", String(pages));
    if (pageWords) {
      pager.textContent = pageWords.content.textContent.replace("{page}", String(shownPage + 1))
        .replace("{pages}", String(pages));
    }
  }

  function turnPage() {
    var box = document.querySelector("[data-agents]");
    var pages = box ? parseInt(box.getAttribute("data-pages"), 10) || 1 : 1;
    if (pages > 1) {
      shownPage = (shownPage + 1) % pages;
      paginate();
    }
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
  paginate();
  window.setInterval(turnPage, pageEvery);
  window.addEventListener("resize", paginate);
  window.setTimeout(poll, every);
}());
