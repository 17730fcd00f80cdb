/* The rule page's small chart: the same hour of the week in past weeks, then the judged
   hour, as bars against the usual band (two dashed lines) — from #band-chart. */
embeddedChart("band-chart", "chart-band", function (data, canvas) {
  "use strict";
  var last = data.values.length - 1;
  var colours = data.values.map(function (v, i) {
    if (i !== last) { return "#94a3b8"; }
    return (v !== null && (v < data.low || v > data.high)) ? "#b42318" : "#166534";
  });
  function line(label, value, colour) {
    return { type: "line", label: label, data: data.labels.map(function () { return value; }),
             borderColor: colour, borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0, fill: false };
  }
  new Chart(canvas, {
    type: "bar",
    data: { labels: data.labels, datasets: [
      { label: data.value_label, data: data.values, backgroundColor: colours },
      line(data.band_label, data.low, "#64748b"), line(data.band_label, data.high, "#64748b")
    ] },
    options: { responsive: true, maintainAspectRatio: false, animation: false,
               plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } }
  });
});
