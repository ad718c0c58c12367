// Starts Swagger UI on /docs (a file, not an inline script: the Content-Security-Policy allows
// only this site's script files). A logged-in browser's changes carry its session's CSRF token.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var csrfToken = root.dataset.csrfToken;
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapi,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    // No badge fetched from the public validator: nothing leaves this site.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    requestInterceptor: function (request) {
      if (csrfToken && new URL(request.url, window.location.href).origin === window.location.origin) {
        request.headers["X-CSRF-Token"] = csrfToken;
      }
      return request;
    }
  });
})();
