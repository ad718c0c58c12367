// Planning and sending take seconds: a form marked data-working shows that it is working and
// cannot be sent twice while it does.
(function () {
  "use strict";
  document.querySelectorAll("form[data-working]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var note = form.querySelector(".working");
      if (note) { note.hidden = false; }
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
      });
    });
  });
})();
