import { readMigrations } from '@vsdb/core/db/migrate';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler as migrate } from '../packages/functions/src/migrate.ts';
import { freshDatabase } from './helpers.ts';
import { tempDir } from './server.ts';
import { TcpProxy } from './tcp-proxy.ts';

beforeAll(() => {
  for (const [k, v] of Object.entries({
    DATA_DIR: tempDir(),
    EMBEDDING_DIMENSIONS: '64',
    LOG_LEVEL: 'silent',
  })) {
    vi.stubEnv(k, v);
  }
});
afterAll(() => vi.unstubAllEnvs());

describe('migrate handler', () => {
  const all = readMigrations().map((m) => ({ version: m.version, name: m.name }));

  it('applies every pending migration once; the second run applies nothing', async () => {
    const first = await migrate({});
    expect(first.command).toBe('up');
    expect(first.changed).toEqual(all);
    expect(first.status.every((s) => s.state === 'applied')).toBe(true);

    // A scheduled (EventBridge) event carries no command: it means up, and finds nothing to do.
    const second = await migrate({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} });
    expect(second.changed).toEqual([]);
  });

  it('rolls back on request and re-applies what it rolled back', async () => {
    const down = await migrate({ command: 'down', steps: 1 });
    expect(down.changed).toEqual([all.at(-1)]);
    expect(down.status.at(-1)?.state).toBe('pending');
    const up = await migrate({ command: 'up' });
    expect(up.changed).toEqual([all.at(-1)]);
    expect((await migrate({ command: 'status' })).changed).toEqual([]);
  });

  it('refuses a malformed event without touching the database', async () => {
    await expect(migrate({ command: 'sideways' })).rejects.toThrow(/Bad migrate event/);
    await expect(migrate({ command: 'down', steps: 0 })).rejects.toThrow(/Bad migrate event/);
  });

  it('waits for a database that is not reachable yet (a new stage: the proxy target comes up late)', async () => {
    const db = await freshDatabase();
    const target = new URL(db.url!);
    const proxy = new TcpProxy(target.hostname, Number(target.port));
    await proxy.start();
    await proxy.cut(); // nothing listens on proxy.port for now
    vi.stubEnv('DATABASE_URL', `postgres://postgres@127.0.0.1:${proxy.port}/postgres`);
    try {
      const started = Date.now();
      setTimeout(() => proxy.start(), 1500);
      const result = await migrate({ command: 'status' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
      expect(result.status.every((m) => m.state === 'applied')).toBe(true);
    } finally {
      vi.stubEnv('DATABASE_URL', '');
      await proxy.cut();
      await db.close();
    }
  });
});
