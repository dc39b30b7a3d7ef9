import { openDatabase } from '@vsdb/core/db/client';
import { readMigrations } from '@vsdb/core/db/migrate';
import { createLogger } from '@vsdb/core/logger';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  backoffMs,
  DATABASE_WAIT_MS,
  MIGRATE_RESERVE_MS,
  waitBudget,
  waitForDatabase,
} from '../packages/functions/src/lambda/wait.ts';
import { handler as migrate } from '../packages/functions/src/migrate.ts';
import { testConfig } from './config.ts';
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

/** The same database (user, password, name) reached through a proxy on loopback. */
const via = (url: string, port: number) => {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.href;
};

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
    await proxy.refuse(); // every connection to proxy.port is dropped for now
    vi.stubEnv('DATABASE_URL', via(db.url!, proxy.port));
    try {
      const result = migrate({ command: 'status' });
      // The runner tried, was turned away, and is still waiting: now the target comes up.
      await proxy.refused.until((tries) => tries.length >= 2);
      await proxy.start();
      expect((await result).status.every((m) => m.state === 'applied')).toBe(true);
      expect(proxy.refused.items.length).toBeGreaterThanOrEqual(2);
    } finally {
      vi.stubEnv('DATABASE_URL', '');
      await proxy.cut();
      await db.close();
    }
  });

  it('keeps retrying with growing pauses for a proxy target that registers after more than five minutes', async () => {
    const db = await freshDatabase();
    const target = new URL(db.url!);
    const proxy = new TcpProxy(target.hostname, Number(target.port));
    await proxy.start();
    await proxy.cut();
    const client = await openDatabase(testConfig({ DATABASE_URL: via(db.url!, proxy.port) }));
    // A clock the wait advances itself: the target "registers" once eight minutes have passed.
    let now = 0;
    const pauses: number[] = [];
    const clock = {
      now: () => now,
      sleep: async (ms: number) => {
        pauses.push(ms);
        now += ms;
        if (now >= 8 * 60_000) await proxy.start();
      },
    };
    try {
      const attempts = await waitForDatabase(
        client.sql,
        createLogger({ level: 'silent' }),
        DATABASE_WAIT_MS,
        clock,
      );
      expect(attempts).toBe(pauses.length + 1);
      expect(now).toBeGreaterThanOrEqual(8 * 60_000);
      expect(now).toBeLessThan(DATABASE_WAIT_MS);
      // Doubling from about a second, never more than 30 s between attempts.
      expect(pauses[0]).toBeLessThanOrEqual(1000);
      expect(Math.max(...pauses)).toBeLessThanOrEqual(30_000);
      expect(pauses.slice(-5).every((p) => p >= 15_000)).toBe(true);
    } finally {
      await client.close();
      await proxy.cut();
      await db.close();
    }
  });

  it('gives up within the invocation’s remaining time, saying how long it waited', async () => {
    const proxy = new TcpProxy('127.0.0.1', 1);
    await proxy.start();
    await proxy.cut(); // never comes back
    const client = await openDatabase(
      testConfig({ DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/postgres` }),
    );
    let now = 0;
    const clock = {
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
      },
    };
    try {
      const budget = waitBudget(4 * 60_000); // 4 minutes left: 2 to wait, 2 kept for the migrations
      expect(budget).toBe(4 * 60_000 - MIGRATE_RESERVE_MS);
      await expect(
        waitForDatabase(client.sql, createLogger({ level: 'silent' }), budget, clock),
      ).rejects.toThrow(/Database not reachable after 120 s/);
      expect(now).toBe(budget);
    } finally {
      await client.close();
    }
  });

  it('fits the wait in the Lambda timeout: 12 minutes with a full 15-minute invocation, jittered pauses', () => {
    expect(waitBudget(15 * 60_000)).toBe(DATABASE_WAIT_MS);
    expect(DATABASE_WAIT_MS + MIGRATE_RESERVE_MS).toBeLessThanOrEqual(15 * 60_000);
    expect(waitBudget(60_000)).toBe(0);
    expect(waitBudget(undefined)).toBe(DATABASE_WAIT_MS);
    expect([1, 2, 3, 6, 10].map((n) => backoffMs(n, () => 1))).toEqual([1000, 2000, 4000, 30_000, 30_000]);
    expect(backoffMs(3, () => 0)).toBe(2000);
  });
});
