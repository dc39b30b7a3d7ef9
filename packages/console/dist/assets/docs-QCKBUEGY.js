SwaggerUIBundle({url:document.getElementById("swagger-ui")?.dataset.url??"/openapi.json",dom_id:"#swagger-ui",deepLinking:!0,validatorUrl:null,tryItOutEnabled:!1});
