import type { Database } from '@vsdb/core/db/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../packages/functions/src/app.ts';
import { startTestApp, type TestApp } from './app.ts';
import { testConfig } from './config.ts';
import { engine } from './engine.ts';
import { freshDatabase } from './helpers.ts';

// DATABASE_STATEMENT_TIMEOUT_MS bounds every statement on an external Postgres, in and out of transactions,
// and a statement it cancels answers 503 in the envelope. The embedded PGlite cannot interrupt a statement
// (it runs without timers), so this runs on the native engines only (npm run test:engines), directly and
// through PgBouncer: never as a startup parameter, which the pooler would refuse.

let db: Database;
let app: TestApp;

describe(`statement timeouts on a real PostgreSQL (${engine})`, () => {
  beforeAll(async () => {
    db = await freshDatabase(testConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '300', DATABASE_POOL_MAX: '2' }));
    app = await startTestApp();
  });
  afterAll(async () => {
    await db?.close();
    await app?.close();
  });

  it('sets DATABASE_STATEMENT_TIMEOUT_MS on every connection of the pool', async () => {
    const shown = await Promise.all([0, 1, 2, 3].map(() => db.sql`SHOW statement_timeout`));
    for (const [row] of shown) expect(row!.statement_timeout).toBe('300ms');
  });

  it('cancels a statement that runs longer, alone or inside a transaction', async () => {
    for (const run of [
      () => db.sql`SELECT pg_sleep(5)`,
      () =>
        db.sql.begin(async (tx) => {
          await tx`SELECT 1`;
          await tx`SELECT pg_sleep(5)`;
        }),
    ]) {
      // 57014 is query_canceled by statement_timeout: the 5 s sleep cannot have finished (no clock race).
      await expect(run()).rejects.toMatchObject({ code: '57014' });
    }
    // The connection is fine afterwards.
    expect((await db.sql`SELECT 1 AS one`)[0]!.one).toBe(1);
  });

  it('answers a cancelled statement with 503 in the envelope, not a 500', async () => {
    const h = createApp(app.deps);
    h.get('/v1/slow', async (c) => c.json(await db.sql`SELECT pg_sleep(5)`));
    const res = await h.request('/v1/slow', { headers: { authorization: 'Bearer any' } });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      error: {
        code: 'database_unavailable',
        type: 'server_error',
        message: expect.stringMatching(/in time/),
      },
    });
  });
});
