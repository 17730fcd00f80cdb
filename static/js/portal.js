// Behaviour shared by every page. No inline script anywhere: the Content-Security-Policy
// allows only files under /static/ (script-src 'self').
(function () {
  "use strict";
  // The language picker submits on change (a button is shown without JavaScript).
  var lang = document.getElementById("lang-select");
  if (lang) {
    lang.addEventListener("change", function () { lang.form.submit(); });
  }
  // Report filters: custom dates only make sense with the "custom" preset, so choosing a
  // date selects it.
  document.querySelectorAll(".filters input[type=date]").forEach(function (el) {
    el.addEventListener("change", function () {
      var range = document.getElementById("id_range");
      if (range) { range.value = "custom"; }
    });
  });
  // Alert rule form: only the fields its condition reads (a threshold for above, below and
  // a change; a percent change compares with a window; the anomaly condition has a
  // sensitivity and a direction), and the webhook's format once a webhook is set (typed, or
  // stored: data-webhook-stored). Hidden fields are still sent; the server ignores what the
  // condition does not read. Without JavaScript every field shows.
  var rule = document.querySelector("form[data-rule-form]");
  var condition = rule && rule.querySelector("select[name=condition]");
  if (condition) {
    var only = {threshold: /^(above|below|change_.*)$/, compare_to: /^change_/,
                sensitivity: /^anomaly$/, anomaly_direction: /^anomaly$/};
    var url = rule.querySelector("input[name=webhook_url]");
    var show = function (name, shown) {
      var box = rule.querySelector('[data-field="' + name + '"]');
      if (box) { box.hidden = !shown; }
    };
    var windowBox = rule.querySelector("select[name=window]");
    var metric = rule.querySelector("select[name=metric]");
    var minimum = rule.querySelector("input[name=min_calls]");
    var byKind = function () {
      Object.keys(only).forEach(function (name) { show(name, only[name].test(condition.value)); });
      show("webhook_format", rule.hasAttribute("data-webhook-stored") || (url && url.value !== ""));
    };
    // On a change of kind (never on load: a stored rule keeps its figures).
    var preset = function () {
      // The anomaly judges hours: its window is 1 h (the server stores it so in any case).
      if (windowBox && condition.value === "anomaly") { windowBox.value = "1h"; }
      // A minimum left as offered follows the kind of rule (reports.alerts.models
      // default_min_calls): 5 calls usually expected for an anomaly on calls, else 20 calls.
      if (minimum && metric && (minimum.value === "5" || minimum.value === "20")) {
        minimum.value = metric.value === "calls" && condition.value === "anomaly" ? "5" : "20";
      }
      byKind();
    };
    condition.addEventListener("change", preset);
    if (metric) { metric.addEventListener("change", preset); }
    if (url) { url.addEventListener("input", byKind); }
    byKind();
  }
})();
