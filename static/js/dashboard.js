/* Draws the dashboard charts from the JSON the server embedded (#chart-data). */
(function () {
  "use strict";
  var el = document.getElementById("chart-data");
  if (!el || typeof Chart === "undefined") { return; }
  var data = JSON.parse(el.textContent);
  var palette = ["#166534", "#b45309", "#7c3aed", "#b42318", "#64748b"];
  var common = { responsive: true, maintainAspectRatio: false, animation: false, elements: { point: { radius: 0, hitRadius: 6 } },
                 plugins: { legend: { position: "bottom" } } };

  function datasets(groups, type) {
    return Object.keys(groups).map(function (label, i) {
      return { label: label, data: groups[label], backgroundColor: palette[i % palette.length],
               borderColor: palette[i % palette.length], type: type };
    });
  }
  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { new Chart(canvas, config); }
  }
  draw("chart-status", { type: "bar", data: { labels: data.labels, datasets: datasets(data.status) },
    options: Object.assign({}, common, { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }) });
  draw("chart-rate", { type: "line", data: { labels: data.labels, datasets: [{ label: data.answer_rate_label,
    data: data.answer_rate, borderColor: "#1d4ed8", backgroundColor: "#1d4ed8", spanGaps: true, tension: 0.2 }] },
    options: Object.assign({}, common, { scales: { y: { beginAtZero: true, max: 100 } } }) });
  draw("chart-callbacks", { type: "line", data: { labels: data.cb_labels, datasets: datasets(data.callbacks) },
    options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } }) });
})();
