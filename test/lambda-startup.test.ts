import { createConnection, createServer, type Server } from 'node:net';
import { POOLER_SAFE_STARTUP } from '@vsdb/core/db/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { baseEnvironment } from '../infra/bundles.ts';
import { handler as api } from '../packages/functions/src/api.ts';
import { disposeServices } from '../packages/functions/src/lambda/container.ts';
import { handler as maintenance } from '../packages/functions/src/maintenance.ts';
import { handler as migrate } from '../packages/functions/src/migrate.ts';
import { handler as worker } from '../packages/functions/src/worker.ts';
import { freshDatabase } from './helpers.ts';
import { httpEvent, lambdaContext, sqsEvent } from './lambda-events.ts';
import { tempDir } from './server.ts';

// What each Lambda function sends when it connects, with the environment infra/ gives it: RDS Proxy (like
// PgBouncer) refuses startup parameters it does not know, such as statement_timeout, so the first
// connection of every cold start would fail. Captured between the handlers and the server of the test
// engine: PGlite, native PostgreSQL, or PgBouncer in transaction mode with its default startup-parameter
// policy (which refuses the connection itself).

/** The parameters of every startup message that passes, per connection. */
async function capturingProxy(targetHost: string, targetPort: number) {
  const startups: Record<string, string>[] = [];
  const server: Server = createServer((client) => {
    const upstream = createConnection(targetPort, targetHost);
    let first = true;
    client.on('data', (chunk: Buffer) => {
      if (first) {
        first = false;
        // Int32 length, Int32 protocol 3.0 (196608), then name\0value\0 pairs and a final \0.
        if (chunk.readInt32BE(4) === 196608) {
          const fields = chunk
            .subarray(8, chunk.readInt32BE(0) - 1)
            .toString('utf8')
            .split('\0');
          const params: Record<string, string> = {};
          for (let i = 0; i + 1 < fields.length; i += 2) params[fields[i]!] = fields[i + 1]!;
          startups.push(params);
        }
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    startups,
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let db: Awaited<ReturnType<typeof freshDatabase>>;
let proxy: Awaited<ReturnType<typeof capturingProxy>>;
let through: URL;

beforeAll(async () => {
  db = await freshDatabase();
  const target = new URL(db.url!);
  proxy = await capturingProxy(target.hostname, Number(target.port));
  through = new URL(db.url!);
  through.hostname = '127.0.0.1';
  through.port = String(proxy.port);
  const env: Record<string, string> = {
    ...baseEnvironment,
    DATA_DIR: tempDir(),
    DATABASE_URL: through.href,
    DATABASE_POOL_MAX: '1',
    EMBEDDING_DIMENSIONS: '64',
    LOG_LEVEL: 'silent',
    API_KEYS: 'sk-startup',
  };
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
});
afterAll(async () => {
  await disposeServices();
  vi.unstubAllEnvs();
  await proxy?.close();
  await db?.close();
});

/** What a transaction pooler accepts in a startup packet (PgBouncer's default ignore_startup_parameters is empty). */
const SAFE = new Set(POOLER_SAFE_STARTUP);

describe('the startup packet of every Lambda function', () => {
  it('carries no parameter a transaction pooler refuses (api, worker, maintenance, migrator)', async () => {
    expect(baseEnvironment.DATABASE_STATEMENT_TIMEOUT_MS).toBe('30000'); // still bounded, just not at connect
    expect((await api(httpEvent('GET', '/health'), lambdaContext())).statusCode).toBe(200);
    expect((await worker(sqsEvent([]), lambdaContext())).batchItemFailures).toEqual([]);
    await maintenance();
    vi.stubEnv('DATABASE_STATEMENT_TIMEOUT_MS', '0'); // as infra/migrations.ts sets it
    expect((await migrate({ command: 'status' }, lambdaContext())).command).toBe('status');

    expect(proxy.startups.length).toBeGreaterThanOrEqual(2); // the services' client and the migrator's
    for (const params of proxy.startups) {
      expect(Object.keys(params).filter((k) => !SAFE.has(k))).toEqual([]);
      expect(params).toMatchObject({
        user: decodeURIComponent(through.username),
        database: decodeURIComponent(through.pathname.slice(1)),
      });
    }
  });
});
