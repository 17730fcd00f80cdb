/* Draws the Outcomes page's chart from the JSON the server embedded (#outcomes-data):
   resolved calls and repeat contacts per period (bars), cost per resolved call (line); each
   opens its calls in the explorer (d.doors). */
embeddedChart("outcomes-data", "chart-outcomes", function (d, canvas) {
  "use strict";
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
      // A bar or point opens the calls it counts (the line: the resolved calls it divides by).
      onClick: function (event, elements) {
        if (!elements.length) { return; }
        var doors = elements[0].datasetIndex === 1 ? d.doors.repeat_contacts : d.doors.resolved;
        var url = doors && doors[elements[0].index];
        if (url) { window.location.href = url; }
      },
      onHover: function (event, elements) {
        var canvas = event.native && event.native.target;
        if (canvas) { canvas.style.cursor = elements.length ? "pointer" : "default"; }
      },
      scales: { y: { stacked: true, beginAtZero: true },
                y1: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } } }
    }
  });
});
