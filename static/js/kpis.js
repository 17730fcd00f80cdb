/* Draws the KPIs page's chart from the JSON the server embedded (#kpis-data): each rate per
   period (a line each, in percent; a gap where a period was not mirrored or a vendor sends
   nothing); a point opens the calls its rate is computed over (d.doors). */
embeddedChart("kpis-data", "chart-kpis", function (d, canvas) {
  "use strict";
  var keys = Object.keys(d.rates);
  new Chart(canvas, {
    type: "line",
    data: {
      labels: d.labels,
      datasets: keys.map(function (key) {
        return { label: d.names[key], spanGaps: false,
                 data: d.rates[key].map(function (v) { return v === null ? null : v * 100; }) };
      })
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      onClick: function (event, elements) {
        if (!elements.length) { return; }
        var doors = d.doors[keys[elements[0].datasetIndex]];
        var url = doors && doors[elements[0].index];
        if (url) { window.location.href = url; }
      },
      onHover: function (event, elements) {
        var target = event.native && event.native.target;
        if (target) { target.style.cursor = elements.length ? "pointer" : "default"; }
      },
      scales: { y: { beginAtZero: true, suggestedMax: 100 } }
    }
  });
});
