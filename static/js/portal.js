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
})();
