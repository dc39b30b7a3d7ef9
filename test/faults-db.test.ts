import { type Database, openDatabase } from '@vsdb/core/db/client';
import { runDoctor } from '@vsdb/core/doctor';
import { createLogger } from '@vsdb/core/logger';
import { createServices, type ServerServices } from '@vsdb/core/services';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppEnv, createApp } from '../packages/functions/src/app.ts';
import { testConfig } from './config.ts';
import { viaPort } from './engine.ts';
import { freshDatabase } from './helpers.ts';
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  op: string;
  status: number;
  ms: number;
  /** When it was sent and when it was answered (Date.now()). */
  sent: number;
  at: number;
  body: string;
}

async function until(cond: () => boolean, ms: number) {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(50);
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

    const outcomes: Outcome[] = [];
    const ackedStores = new Set<string>();
    const ackedFiles = new Set<string>();
    let n = 0;
    let running = true;
    const one = async (
      op: string,
      make: () => Response | Promise<Response>,
      onOk?: (body: unknown) => void,
    ) => {
      const started = performance.now();
      const sent = Date.now();
      const res = await make();
      const body = await res.text();
      outcomes.push({ op, status: res.status, ms: performance.now() - started, sent, at: Date.now(), body });
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
        await sleep(5);
      }
    };
    const clients = Promise.all([0, 1, 2, 3].map(client));

    // Phases end on counts, not only on time: a loaded machine serves fewer requests per second.
    await until(() => outcomes.length >= 20, 20_000);
    const cutAt = Date.now();
    await proxy.cut();
    await sleep(300);
    const health = await h.request('/health');
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'degraded', database: { status: 'error' } });
    await sleep(1200);
    await until(() => outcomes.filter((o) => o.sent > cutAt + 100).length >= 8, 15_000);
    const restoredAt = Date.now();
    await proxy.start();
    await sleep(1000);
    await until(() => outcomes.filter((o) => o.sent > restoredAt + 1000).length >= 16, 20_000);
    running = false;
    await clients;

    const before = outcomes.filter((o) => o.at < cutAt);
    const down = outcomes.filter((o) => o.sent > cutAt + 100 && o.at < restoredAt);
    const after = outcomes.filter((o) => o.sent > restoredAt + 1000);
    expect(before.length).toBeGreaterThan(10);
    expect(before.every((o) => o.status < 300)).toBe(true);
    // While it is away: nothing but 503 in the envelope, each within a bound.
    expect(down.length).toBeGreaterThan(5);
    for (const o of down) {
      expect(o.status, `${o.op}: ${o.body}`).toBe(503);
      expect(JSON.parse(o.body)).toMatchObject({
        error: {
          code: 'database_unavailable',
          type: 'server_error',
          message: expect.stringContaining('request id'),
        },
      });
      expect(o.ms, o.op).toBeLessThan(3000);
    }
    // Back by itself: every answer a second after the return is a success again.
    expect(after.length).toBeGreaterThan(10);
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
      `db faults: ${outcomes.length} requests, ${down.length} while the database was away (all 503), ` +
        `${ackedStores.size + ackedFiles.size} acknowledged writes, 0 lost`,
    );
  });

  it('survives a flapping connection: twenty cuts in a row, then answers as before', async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    let running = true;
    let served = 0;
    const loop = async () => {
      while (running) {
        const res = await h.request('/v1/vector_stores?limit=2', { headers: auth });
        expect([200, 503]).toContain(res.status);
        await res.text();
        served++;
      }
    };
    const loops = Promise.all([loop(), loop(), loop()]);
    for (let i = 0; i < 20; i++) {
      await sleep(40 + (i % 5) * 30);
      await proxy.cut();
      await sleep(30 + (i % 3) * 40);
      await proxy.start();
    }
    await sleep(1500);
    running = false;
    await loops;
    expect(served).toBeGreaterThan(20);
    const started = performance.now();
    for (let i = 0; i < 10; i++) {
      expect((await h.request('/v1/vector_stores?limit=2', { headers: auth })).status).toBe(200);
    }
    expect(performance.now() - started).toBeLessThan(2000);
    expect((await h.request('/health')).status).toBe(200);
  });
});
