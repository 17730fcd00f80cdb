/* Draws the dashboard charts from the JSON the server embedded (#chart-data). A click on a
   bar or point opens the calls it counts (the URLs come with the data: data.doors). */
(function () {
  "use strict";
  var el = document.getElementById("chart-data");
  if (!el || typeof Chart === "undefined") { return; }
  var data = JSON.parse(el.textContent);
  var doors = data.doors || {};
  var palette = ["#166534", "#b45309", "#7c3aed", "#b42318", "#64748b"];
  var common = { responsive: true, maintainAspectRatio: false, animation: false, elements: { point: { radius: 0, hitRadius: 6 } },
                 plugins: { legend: { position: "bottom" } } };

  // The URL of the clicked element: urls(datasetIndex) is the list of that dataset's points.
  function opener(urls) {
    return {
      onClick: function (event, elements) {
        if (!elements.length) { return; }
        var list = urls(elements[0].datasetIndex);
        var url = list && list[elements[0].index];
        if (url) { window.location.href = url; }
      },
      onHover: function (event, elements) {
        var target = event.native && event.native.target;
        if (!target) { return; }
        var list = elements.length && urls(elements[0].datasetIndex);
        target.style.cursor = list && list[elements[0].index] ? "pointer" : "default";
      }
    };
  }
  function datasets(groups, type) {
    return Object.keys(groups).map(function (label, i) {
      // Never-mirrored days are null: a gap, never drawn as zero.
      return { label: label, data: groups[label], backgroundColor: palette[i % palette.length],
               borderColor: palette[i % palette.length], type: type, spanGaps: false };
    });
  }
  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) { new Chart(canvas, config); }
  }
  draw("chart-status", { type: "bar", data: { labels: data.labels, datasets: datasets(data.status) },
    options: Object.assign({}, common, opener(function (i) { return (doors.status || [])[i]; }),
      { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }) });
  draw("chart-rate", { type: "line", data: { labels: data.labels, datasets: [{ label: data.answer_rate_label,
    data: data.answer_rate, borderColor: "#1d4ed8", backgroundColor: "#1d4ed8", spanGaps: false, tension: 0.2 }] },
    options: Object.assign({}, common, opener(function () { return doors.rate; }),
      { scales: { y: { beginAtZero: true, max: 100 } } }) });
  draw("chart-callbacks", { type: "line", data: { labels: data.cb_labels, datasets: datasets(data.callbacks) },
    options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } }) });
})();
