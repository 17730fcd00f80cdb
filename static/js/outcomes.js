/* Draws the Outcomes page's chart from the JSON the server embedded (#outcomes-data):
   resolved calls and repeat contacts per period (bars), cost per resolved call (line). */
(function () {
  "use strict";
  var el = document.getElementById("outcomes-data");
  var canvas = document.getElementById("chart-outcomes");
  if (!el || !canvas || typeof Chart === "undefined") { return; }
  var d = JSON.parse(el.textContent);
  new Chart(canvas, {
    data: {
      labels: d.labels,
      datasets: [
        { type: "bar", label: canvas.dataset.resolved, data: d.resolved, stack: "s", yAxisID: "y" },
        { type: "bar", label: canvas.dataset.repeats, data: d.repeats, stack: "s", yAxisID: "y" },
        { type: "line", label: canvas.dataset.cost, data: d.cost_per_resolved, yAxisID: "y1",
          spanGaps: false }
      ]
    },
    options: {
      responsive: true, maintainAspectRatio: false,
      scales: { y: { stacked: true, beginAtZero: true },
                y1: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } } }
    }
  });
})();
