import { randomUUID } from 'node:crypto';
import { metrics } from '@vsdb/core/metrics';
import { createMiddleware } from 'hono/factory';
import { requestId } from 'hono/request-id';
import { routePath } from 'hono/route';
import type { AppEnv } from '../http/env.ts';

const VALID_ID = /^[\w.:=-]{1,128}$/;

/**
 * Request ids, by Hono's middleware: an incoming `x-request-id` is kept when it is short and plain. Hono's own
 * test keeps only word characters, `-` and `=`; the generator, asked for every other id, also keeps one with
 * `.` or `:` (trace ids are written so), else takes the API Gateway request id on Lambda, else a new UUID.
 */
export const requestIds = () =>
  requestId({
    limitLength: 128,
    generator: (c) => {
      const incoming = c.req.header('x-request-id');
      if (incoming && VALID_ID.test(incoming)) return incoming;
      const gateway = (c.env as { event?: { requestContext?: { requestId?: string } } } | undefined)?.event
        ?.requestContext?.requestId;
      return gateway && VALID_ID.test(gateway) ? gateway : randomUUID();
    },
  });

/** The one log line and the metrics of each request (its id is the one answered, a mount's own included). */
export function observe() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const { logger } = c.get('deps');
    c.set('log', logger.child('http'));
    const started = performance.now();
    await next();
    const ms = performance.now() - started;
    const status = c.res.status;
    const route = status === 404 || status === 405 ? 'unmatched' : routePath(c, -1);
    metrics.inc('http_requests_total', { method: c.req.method, route, status: String(status) });
    metrics.observe('http_request_duration_seconds', { route }, ms / 1000);
    const line = `${c.req.method} ${c.req.path} ${status} ${ms.toFixed(1)}ms`;
    const fields = { request_id: c.get('requestId'), project: c.get('projectId') };
    const log = c.get('log');
    if (status >= 500) log.error(line, fields);
    else log.info(line, fields);
  });
}
