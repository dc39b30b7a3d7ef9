// Lambda: the HTTP API behind API Gateway (HTTP API, payload v2), the same Hono app as `npm start`.
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { createApp } from './app.ts';
import { services } from './lambda/container.ts';
import { buildDeps } from './runtime.ts';

let app: Promise<ReturnType<typeof handle>> | undefined;

async function build() {
  const { config, db, logger } = await services();
  // Behind API Gateway the API is public whatever HOST says: keys are required unless ALLOW_OPEN_ACCESS.
  return handle(createApp(await buildDeps(config, db, logger, { exposed: true })));
}

export async function handler(event: APIGatewayProxyEventV2, context: Context) {
  app ??= build().catch((err) => {
    app = undefined;
    throw err;
  });
  // Hono declares its own (stricter) copy of the v2 event type; the shapes are the same on the wire.
  return (await app)(event as unknown as Parameters<ReturnType<typeof handle>>[0], context);
}
