// Starts Swagger UI on the docs page of a sanpi service. A file, not an inline script, so that the
// page's Content-Security-Policy can forbid inline scripts. No validator badge (it would call
// validator.swagger.io): nothing on the page talks to any host but the service.
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    showExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    layout: "BaseLayout",
  });
})();
