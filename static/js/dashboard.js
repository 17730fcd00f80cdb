/* Draws the dashboard charts from the JSON the server embedded (#chart-data). A click on a
   bar or point opens the calls it counts (the URLs come with the data: data.doors). */
(function () {
  "use strict";
  var el = document.getElementById("chart-data");
  if (!el || typeof Chart === "undefined") { return; }
  var data = JSON.parse(el.textContent);
  var doors = data.doors || {};
  var palette = ["#166534", "#b45309", "#7c3aed", "#b42318", "#64748b"];
  // One tooltip lists every series of the hovered day (or hour), not just the one under the pointer.
  var common = { responsive: true, maintainAspectRatio: false, animation: false, elements: { point: { radius: 0, hitRadius: 6 } },
                 interaction: { mode: "index", intersect: false },
                 plugins: { legend: { position: "bottom" }, tooltip: { mode: "index", intersect: false } } };

  // The URL under the pointer: the bar segment (or point) itself when the pointer is on one,
  // else the day's (or hour's) total (data.doors.total); urls(datasetIndex) lists a dataset's.
  function target(chart, event, urls, columns) {
    var hit = chart.getElementsAtEventForMode(event, "nearest", { intersect: true }, false);
    if (hit.length) {
      var list = urls(hit[0].datasetIndex);
      if (list && list[hit[0].index]) { return list[hit[0].index]; }
    }
    var column = chart.getElementsAtEventForMode(event, "index", { intersect: false }, false);
    return column.length && columns ? columns[column[0].index] : null;
  }
  // columns: the URL of a whole day's (or hour's) column, opened when no bar is under the pointer.
  function opener(urls, columns) {
    return {
      onClick: function (event, elements, chart) {
        var url = target(chart, event, urls, columns);
        if (url) { window.location.href = url; }
      },
      onHover: function (event, elements, chart) {
        var canvas = event.native && event.native.target;
        if (canvas) { canvas.style.cursor = target(chart, event, urls, columns) ? "pointer" : "default"; }
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
    options: Object.assign({}, common, opener(function (i) { return (doors.status || [])[i]; }, doors.total),
      { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }) });
  draw("chart-rate", { type: "line", data: { labels: data.labels, datasets: [{ label: data.answer_rate_label,
    data: data.answer_rate, borderColor: "#1d4ed8", backgroundColor: "#1d4ed8", spanGaps: false, tension: 0.2 }] },
    options: Object.assign({}, common, opener(function () { return doors.rate; }, doors.rate),
      { scales: { y: { beginAtZero: true, max: 100 } } }) });
  // Bars: a one-day period has one point, which a line does not draw.
  draw("chart-callbacks", { type: "bar", data: { labels: data.cb_labels, datasets: datasets(data.callbacks) },
    options: Object.assign({}, common, { scales: { y: { beginAtZero: true } } }) });
})();
