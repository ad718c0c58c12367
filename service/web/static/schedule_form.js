// Schedule forms: only the fields of the chosen action are shown (and sent), and the next
// firings of the cron in the chosen zone are previewed while one types.
(function () {
  "use strict";
  document.querySelectorAll("form.schedule-form").forEach(function (form) {
    var action = form.querySelector("select[name=action]");
    function showAction() {
      form.querySelectorAll("fieldset[data-action]").forEach(function (fieldset) {
        var chosen = fieldset.getAttribute("data-action") === action.value;
        fieldset.hidden = !chosen;
        fieldset.disabled = !chosen;
      });
    }
    if (action) { action.addEventListener("change", showAction); showAction(); }

    var preview = form.querySelector("#preview");
    var cron = form.querySelector("input[name=cron]");
    var zone = form.querySelector("select[name=timezone]");
    var timer = null;
    function refresh() {
      var query = new URLSearchParams({ cron: cron.value, timezone: zone.value });
      fetch(form.getAttribute("data-preview") + "?" + query.toString(), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html !== null) { preview.innerHTML = html; } });
    }
    function later() { clearTimeout(timer); timer = setTimeout(refresh, 400); }
    if (preview && cron && zone) {
      cron.addEventListener("input", later);
      zone.addEventListener("change", refresh);
    }
  });
})();
