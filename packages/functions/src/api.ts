// Lambda: the HTTP API behind API Gateway (HTTP API, payload v2), the same Hono app as `npm start`.

import { withDeadline } from '@vsdb/core/ingest/deadline';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { createApp } from './app.ts';
import { services } from './lambda/container.ts';
import { withMetrics } from './lambda/metrics.ts';

/**
 * Kept back from the request's remaining time: ingestion run within the request stops this long before the
 * function's timeout, hands its job to the worker (SQS) and answers in_progress instead of timing out.
 */
export const INLINE_MARGIN_MS = 5_000;

let app: Promise<ReturnType<typeof handle>> | undefined;

async function build() {
  // Behind API Gateway the API is public whatever HOST says: keys are required unless ALLOW_OPEN_ACCESS.
  return handle(createApp(await services('api')));
}

export function handler(event: APIGatewayProxyEventV2, context: Context) {
  return withMetrics(async () => {
    app ??= build().catch((err) => {
      app = undefined;
      throw err;
    });
    const serve = await app;
    // Hono declares its own (stricter) copy of the v2 event type; the shapes are the same on the wire.
    const run = () => serve(event as unknown as Parameters<ReturnType<typeof handle>>[0], context);
    const left = context?.getRemainingTimeInMillis?.();
    return left === undefined ? run() : withDeadline(Date.now() + left - INLINE_MARGIN_MS, run);
  });
}
