/* Draws the Outcomes page's chart from the JSON the server embedded (#outcomes-data):
   resolved calls and repeat contacts per period (bars), the calls still pending (a grey
   hatched bar with their count: a recent day is not an outage), cost per resolved call
   (line); each opens its calls in the explorer (d.doors). */
embeddedChart("outcomes-data", "chart-outcomes", function (d, canvas) {
  "use strict";
  // Grey stripes: pending reads as "not known yet", not as a figure of its own colour.
  function hatch() {
    var tile = document.createElement("canvas");
    tile.width = tile.height = 8;
    var c = tile.getContext("2d");
    c.fillStyle = "#e5e7eb"; c.fillRect(0, 0, 8, 8);
    c.strokeStyle = "#9ca3af"; c.lineWidth = 2;
    c.beginPath(); c.moveTo(0, 8); c.lineTo(8, 0); c.stroke();
    return canvas.getContext("2d").createPattern(tile, "repeat");
  }
  // A bar opens the calls it counts (the line: the resolved calls it divides by).
  var doorsOf = [d.doors.resolved, d.doors.repeat_contacts, d.doors.pending, d.doors.resolved];
  new Chart(canvas, {
    data: {
      labels: d.labels,
      datasets: [
        // Colours given (the pending bar has its own, which turns Chart.js's defaults off).
        { type: "bar", label: canvas.dataset.resolved, data: d.resolved, stack: "s", yAxisID: "y",
          backgroundColor: "#166534" },
        { type: "bar", label: canvas.dataset.repeats, data: d.repeats, stack: "s", yAxisID: "y",
          backgroundColor: "#b45309" },
        { type: "bar", label: canvas.dataset.pending, data: d.pending, stack: "s", yAxisID: "y",
          backgroundColor: hatch(), borderColor: "#9ca3af", borderWidth: 1 },
        { type: "line", label: canvas.dataset.cost, data: d.cost_per_resolved, yAxisID: "y1",
          spanGaps: false, borderColor: "#1d4ed8", backgroundColor: "#1d4ed8" }
      ]
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      onClick: function (event, elements) {
        if (!elements.length) { return; }
        var doors = doorsOf[elements[0].datasetIndex];
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
