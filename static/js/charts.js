/* The one start of a chart drawn from JSON the server embedded: find the data (a
   <script type="application/json"> written by the chart_json filter) and the canvas, give up
   quietly when either or Chart.js is missing, and hand both to the page's own drawing. Loaded
   by templates/reports/includes/chart_scripts.html before the page's script. */
window.embeddedChart = function (dataId, canvasId, draw) {
  "use strict";
  var el = document.getElementById(dataId);
  var canvas = document.getElementById(canvasId);
  if (!el || !canvas || typeof Chart === "undefined") { return; }
  draw(JSON.parse(el.textContent), canvas);
};
