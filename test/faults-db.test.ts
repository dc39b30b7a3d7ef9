import { type Database, openDatabase } from '@vsdb/core/db/client';
import { runDoctor } from '@vsdb/core/doctor';
import { createLogger } from '@vsdb/core/logger';
import { createServices, type ServerServices } from '@vsdb/core/services';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppEnv, createApp } from '../packages/functions/src/app.ts';
import { testConfig } from './config.ts';
import { viaPort } from './engine.ts';
import { EventLog, freshDatabase } from './helpers.ts';
import { tempDir } from './server.ts';
import { TcpProxy } from './tcp-proxy.ts';

// The database goes away in the middle of traffic (its port refuses and open connections drop): requests
// answer 503 quickly in the OpenAI envelope, /health says degraded, and when it comes back everything
// recovers by itself, with every acknowledged write still there.

const KEY = 'sk-faults-db';
let embedded: Database;
let proxy: TcpProxy;
let db: Database;
let deps: ServerServices;
let h: Hono<AppEnv>;
let blobRoot: string;

beforeAll(async () => {
  embedded = await freshDatabase(testConfig());
  const target = new URL(embedded.url!);
  proxy = new TcpProxy(target.hostname, Number(target.port));
  await proxy.start();
  const dataDir = tempDir();
  blobRoot = `${dataDir}/files`;
  // The service's own external-database client (statement_timeout, pool) through a path the test can cut.
  const config = testConfig({
    DATABASE_URL: viaPort(embedded.url!, proxy.port),
    DATABASE_POOL_MAX: '1',
    DATA_DIR: dataDir,
    API_KEYS: KEY,
    INGEST_LEASE_SECONDS: '5',
  });
  db = await openDatabase(config);
  deps = await createServices(config, 'server', { db, logger: createLogger({ level: 'silent' }) });
  deps.worker.start();
  h = createApp(deps);
});
afterAll(async () => {
  await deps?.worker.stop();
  await db?.close();
  await proxy?.cut();
  await embedded?.close();
});

/** Where the database stood when a request was sent and when it was answered. */
type Phase = 'up' | 'cutting' | 'away' | 'returning' | 'back';

interface Outcome {
  op: string;
  status: number;
  sentIn: Phase;
  answeredIn: Phase;
  body: string;
}

function form(name: string, text: string) {
  const b = 'fault-b';
  return new TextEncoder().encode(
    `--${b}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/plain\r\n\r\n${text}\r\n--${b}--\r\n`,
  );
}

describe('the database goes away mid-traffic', { timeout: 120_000 }, () => {
  it('answers 503 quickly while it is away, recovers by itself, and loses no acknowledged write', async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    const json = { ...auth, 'content-type': 'application/json' };
    const seed = await h.request('/v1/vector_stores', {
      method: 'POST',
      headers: json,
      body: '{"name":"seed"}',
    });
    expect(seed.status).toBe(200);
    const store = ((await seed.json()) as { id: string }).id;

    const outcomes = new EventLog<Outcome>();
    const ackedStores = new Set<string>();
    const ackedFiles = new Set<string>();
    let phase: Phase = 'up';
    let n = 0;
    let running = true;
    const one = async (
      op: string,
      make: () => Response | Promise<Response>,
      onOk?: (body: unknown) => void,
    ) => {
      const sentIn = phase;
      const res = await make();
      const body = await res.text();
      outcomes.push({ op, status: res.status, sentIn, answeredIn: phase, body });
      if (res.ok && onOk) onOk(JSON.parse(body));
    };
    const client = async (c: number) => {
      while (running) {
        const i = n++;
        const kind = i % 4;
        if (kind === 0) {
          await one(
            'create',
            () =>
              h.request('/v1/vector_stores', {
                method: 'POST',
                headers: json,
                body: JSON.stringify({ name: `fault-${i}` }),
              }),
            (b) => ackedStores.add((b as { id: string }).id),
          );
        } else if (kind === 1) {
          await one('list', () => h.request('/v1/vector_stores?limit=5', { headers: auth }));
        } else if (kind === 2) {
          await one(
            'upload',
            () =>
              h.request(`/v1/vector_stores/${store}/files`, {
                method: 'POST',
                headers: { ...auth, 'content-type': 'multipart/form-data; boundary=fault-b' },
                body: form(`f-${c}-${i}.txt`, `fault tolerant words number ${i}`),
              }),
            (b) => ackedFiles.add((b as { id: string }).id),
          );
        } else {
          await one('search', () =>
            h.request(`/v1/vector_stores/${store}/search`, {
              method: 'POST',
              headers: json,
              body: '{"query":"tolerant words"}',
            }),
          );
        }
      }
    };
    const traffic = () => Promise.all([0, 1, 2, 3].map(client));
    const count = (pred: (o: Outcome) => boolean) => (items: Outcome[]) => items.filter(pred).length;

    // Each phase ends on a count of answers, never on the clock. The database goes away mid-traffic.
    let clients = traffic();
    await outcomes.until((items) => items.length >= 20);
    phase = 'cutting';
    await proxy.cut();
    phase = 'away';
    const health = await h.request('/health');
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'degraded', database: { status: 'error' } });
    await outcomes.until((items) => count((o) => o.sentIn === 'away')(items) >= 8);
    // Every request sent while it is away is answered while it is still away: none waits for its return
    // (one that did would hang here until the test's timeout).
    running = false;
    await clients;
    phase = 'returning';
    await proxy.start();
    // Back by itself: no restart, no reconnect by hand; /health says so once a connection is made again.
    while ((await h.request('/health')).status !== 200);
    phase = 'back';
    running = true;
    clients = traffic();
    await outcomes.until((items) => count((o) => o.sentIn === 'back')(items) >= 16);
    running = false;
    await clients;

    const before = outcomes.items.filter((o) => o.answeredIn === 'up');
    const cutting = outcomes.items.filter((o) => o.sentIn === 'up' && o.answeredIn !== 'up');
    const down = outcomes.items.filter((o) => o.sentIn === 'away');
    const after = outcomes.items.filter((o) => o.sentIn === 'back');
    expect(before.length).toBeGreaterThanOrEqual(20);
    expect(before.every((o) => o.status < 300)).toBe(true);
    // Caught mid-flight by the cut: done, or the clean 503.
    for (const o of cutting) expect([200, 503], `${o.op}: ${o.body}`).toContain(o.status);
    // While it is away: nothing but 503 in the envelope, each answered before the database came back.
    expect(down.length).toBeGreaterThanOrEqual(8);
    for (const o of down) {
      expect(o.status, `${o.op}: ${o.body}`).toBe(503);
      expect(o.answeredIn).toBe('away');
      expect(JSON.parse(o.body)).toMatchObject({
        error: {
          code: 'database_unavailable',
          type: 'server_error',
          message: expect.stringContaining('request id'),
        },
      });
    }
    // Back by itself: every answer after the return is a success again.
    expect(after.length).toBeGreaterThanOrEqual(16);
    expect(after.filter((o) => o.status >= 300).map((o) => `${o.op} ${o.status} ${o.body}`)).toEqual([]);
    expect((await h.request('/health')).status).toBe(200);
    // Nothing that was acknowledged is lost.
    expect(ackedStores.size).toBeGreaterThan(5);
    expect(ackedFiles.size).toBeGreaterThan(5);
    for (const id of ackedStores) {
      expect((await h.request(`/v1/vector_stores/${id}`, { headers: auth })).status).toBe(200);
    }
    for (const id of ackedFiles) {
      const res = await h.request(`/v1/vector_stores/${store}/files/${id}`, { headers: auth });
      expect(((await res.json()) as { status: string }).status).toBe('completed');
    }
    await deps.worker.idle();
    const report = await runDoctor({ sql: db.sql, blobRoot, minAgeSeconds: 0 });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    console.log(
      `db faults: ${outcomes.items.length} requests, ${down.length} while the database was away (all 503), ` +
        `${ackedStores.size + ackedFiles.size} acknowledged writes, 0 lost`,
    );
  });

  it('survives a flapping connection: twenty cuts in a row, then answers as before', async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    const answers = new EventLog<number>();
    let running = true;
    const loop = async () => {
      while (running) {
        const res = await h.request('/v1/vector_stores?limit=2', { headers: auth });
        await res.text();
        answers.push(res.status);
      }
    };
    const loops = Promise.all([loop(), loop(), loop()]);
    // Cut after one to three answers, restore after one or two more: cuts land at varied points of requests.
    for (let i = 0; i < 20; i++) {
      const upTo = answers.items.length + 1 + (i % 3);
      await answers.until((items) => items.length >= upTo);
      await proxy.cut();
      const downTo = answers.items.length + 1 + (i % 2);
      await answers.until((items) => items.length >= downTo);
      await proxy.start();
    }
    while ((await h.request('/health')).status !== 200);
    running = false;
    await loops;
    expect(answers.items.length).toBeGreaterThan(20);
    expect(answers.items.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(answers.items.filter((s) => s === 503).length).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) {
      expect((await h.request('/v1/vector_stores?limit=2', { headers: auth })).status).toBe(200);
    }
    expect((await h.request('/health')).status).toBe(200);
  });
});
