// A refused form: focus moves to the summary of what to correct, so it is read out first.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
