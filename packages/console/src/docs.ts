// Starts Swagger UI (served by this app from swagger-ui-dist) on /openapi.json; nothing from another host.
declare const SwaggerUIBundle: (options: Record<string, unknown>) => unknown;

SwaggerUIBundle({
  url: document.getElementById('swagger-ui')?.dataset.url ?? '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  // The default validator badge calls a public service; it stays off so the page works offline.
  validatorUrl: null,
  tryItOutEnabled: false,
});
