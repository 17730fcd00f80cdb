/* The alert form's preview: each mirrored hour of the replayed days as a line, its usual
   band as two dashed lines, the hours the rule would have fired as red points — from
   #preview-chart (reports.alerts.views.form_preview). */
embeddedChart("preview-chart", "chart-preview", function (data, canvas) {
  "use strict";
  var pick = function (key) { return data.series.map(function (p) { return p[key]; }); };
  var band = function (key) {
    return { label: data.band_label, data: pick(key), borderColor: "#64748b", borderDash: [6, 4],
             borderWidth: 1, pointRadius: 0, fill: false, spanGaps: false };
  };
  new Chart(canvas, {
    type: "line",
    data: { labels: pick("t").map(function (t) { return t.replace("T", " "); }), datasets: [
      { label: data.value_label, data: pick("value"), borderColor: "#1d4ed8", borderWidth: 1.5,
        pointRadius: data.series.map(function (p) { return p.firing ? 3 : 0; }),
        pointBackgroundColor: "#b42318", pointBorderColor: "#b42318", fill: false },
      band("low"), band("high")
    ] },
    options: { responsive: true, maintainAspectRatio: false, animation: false,
               plugins: { legend: { display: false } },
               scales: { x: { ticks: { maxTicksLimit: 8 } }, y: { beginAtZero: true } } }
  });
});
