import { randomUUID } from 'node:crypto';
import { metrics } from '@vsdb/core/metrics';
import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import type { AppEnv } from '../app.ts';

const VALID_ID = /^[\w.:=-]{1,128}$/;

/**
 * Request ids and the one log line per request. An incoming `x-request-id` is kept when it is short and
 * plain (anything else is replaced), on Lambda the API Gateway request id is used, otherwise a new UUID.
 */
export function observe() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const { logger } = c.get('deps');
    const incoming = c.req.header('x-request-id');
    const gateway = (c.env as { event?: { requestContext?: { requestId?: string } } } | undefined)?.event
      ?.requestContext?.requestId;
    const id =
      incoming && VALID_ID.test(incoming)
        ? incoming
        : gateway && VALID_ID.test(gateway)
          ? gateway
          : randomUUID();
    c.set('requestId', id);
    c.set('log', logger.child('http'));
    c.header('x-request-id', id);
    const started = performance.now();
    await next();
    const ms = performance.now() - started;
    const status = c.res.status;
    const route = status === 404 || status === 405 ? 'unmatched' : routePath(c, -1);
    metrics.inc('http_requests_total', { method: c.req.method, route, status: String(status) });
    metrics.observe('http_request_duration_seconds', { route }, ms / 1000);
    const line = `${c.req.method} ${c.req.path} ${status} ${ms.toFixed(1)}ms`;
    const fields = { request_id: id, project: c.get('projectId') };
    const log = c.get('log');
    if (status >= 500) log.error(line, fields);
    else log.info(line, fields);
  });
}
