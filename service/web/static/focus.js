// After each navigation, focus goes to the page's heading, so a screen reader starts there;
// a refused form's error summary takes focus instead (error_summary.js).
(function () {
  "use strict";
  var heading = document.querySelector("main h1");
  if (!heading || document.getElementById("error-summary")) { return; }
  if (document.activeElement && document.activeElement !== document.body) { return; }
  heading.setAttribute("tabindex", "-1");
  heading.focus({ preventScroll: true });
})();
