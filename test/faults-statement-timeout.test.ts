import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { testConfig } from '@vsdb/core/config';
import { type Database, openDatabase } from '@vsdb/core/db/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../packages/functions/src/app.ts';
import { startTestApp, type TestApp } from './app.ts';
import { tempDir } from './server.ts';

// DATABASE_STATEMENT_TIMEOUT_MS bounds every statement on an external Postgres, in and out of transactions,
// and a statement it cancels answers 503 in the envelope. The embedded PGlite cannot interrupt a statement
// (it runs in this process, without timers), so this needs a real server: the machine's PostgreSQL when it
// has one (Debian's postgresql package); without it the test says so and is skipped.

function findBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort().reverse();
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin');
  return undefined;
}

const bin = findBin();
const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim()) || undefined;
const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim()) || undefined;
const runnable = Boolean(bin && (process.getuid?.() !== 0 || uid));

let pg: ChildProcess | undefined;
let db: Database;
let app: TestApp;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

describe.skipIf(!runnable)('statement timeouts on a real PostgreSQL', () => {
  beforeAll(async () => {
    const dir = tempDir('vsdb-pg-');
    const as = process.getuid?.() === 0 ? { uid, gid } : {};
    if (as.uid) chownSync(dir, as.uid, as.gid!);
    const init = spawnSync(
      join(bin!, 'initdb'),
      ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'],
      {
        ...as,
        encoding: 'utf8',
      },
    );
    expect(init.status, init.stderr).toBe(0);
    const port = await freePort();
    pg = spawn(
      join(bin!, 'postgres'),
      ['-D', dir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1'],
      {
        ...as,
        stdio: 'ignore',
      },
    );
    const config = testConfig({
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres`,
      DATABASE_STATEMENT_TIMEOUT_MS: '300',
      DATABASE_POOL_MAX: '2',
    });
    for (let i = 0; ; i++) {
      db = await openDatabase(config);
      try {
        await db.sql`SELECT 1`;
        break;
      } catch (err) {
        await db.close();
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    app = await startTestApp();
  });
  afterAll(async () => {
    await db?.close();
    await app?.close();
    pg?.kill('SIGINT');
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
      const started = performance.now();
      await expect(run()).rejects.toMatchObject({ code: '57014' });
      expect(performance.now() - started).toBeLessThan(2000);
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

it.runIf(!runnable)('needs PostgreSQL (Debian package postgresql) for the statement timeout tests', () => {
  console.warn('statement timeout tests skipped: no PostgreSQL server binaries under /usr/lib/postgresql');
});
