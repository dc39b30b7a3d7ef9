import { join } from 'node:path';
import { runDoctor } from '@vsdb/core/doctor';
import fc from 'fast-check';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppEnv, createApp } from '../packages/functions/src/app.ts';
import { startTestApp, type TestApp } from './app.ts';
import { engine } from './engine.ts';

// Parallel attach, update, detach, batch, cancel and delete on the same store and the same files, in
// orders fast-check chooses: whatever interleaving, the answers are never 5xx and the invariants hold.

const KEY = 'sk-concurrency';
// Fewer rounds through PgBouncer, where each round costs several times more (and interleaves for real).
const ROUNDS = Number(process.env.CONCURRENCY_ROUNDS ?? (engine === 'pgbouncer' ? 20 : 40));
let app: TestApp;
let h: Hono<AppEnv>;
let ops = 0;

beforeAll(async () => {
  // Two ingest workers, and files big enough to be queued: jobs run while the other operations land.
  app = await startTestApp({
    API_KEYS: KEY,
    INLINE_MAX_BYTES: '200',
    INGEST_CONCURRENCY: '2',
    LOG_LEVEL: process.env.CC_LOG ?? 'silent',
  });
  h = createApp(app.deps);
});
afterAll(() => app?.close());

const auth = { authorization: `Bearer ${KEY}` };
const json = { ...auth, 'content-type': 'application/json' };

async function call(method: string, path: string, body?: unknown) {
  ops++;
  const res = await h.request(path, {
    method,
    headers: body === undefined ? auth : json,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  expect(res.status, `${method} ${path} ${JSON.stringify(body)}: ${text}`).toBeLessThan(500);
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function upload(i: number) {
  const b = 'cc';
  const text = Array.from({ length: 30 }, (_, k) => `file ${i} line ${k} about concurrency and order`).join(
    '\n',
  );
  const res = await h.request('/v1/files', {
    method: 'POST',
    headers: { ...auth, 'content-type': `multipart/form-data; boundary=${b}` },
    body: `--${b}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--${b}\r\nContent-Disposition: form-data; name="file"; filename="c${i}.txt"\r\n\r\n${text}\r\n--${b}--\r\n`,
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

type Op =
  | { kind: 'attach' | 'update' | 'detach' | 'deleteFile' | 'retrieve'; file: number; tag: number }
  | { kind: 'batch'; files: number[] }
  | { kind: 'cancelBatches' | 'deleteStore' | 'updateStore' | 'search' | 'list' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constantFrom('attach', 'update', 'detach', 'deleteFile', 'retrieve'),
      file: fc.nat(3),
      tag: fc.nat(9),
    }) as fc.Arbitrary<Op>,
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('batch'),
      files: fc.uniqueArray(fc.nat(3), { minLength: 1, maxLength: 4 }),
    }) as fc.Arbitrary<Op>,
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constantFrom('cancelBatches', 'updateStore', 'search', 'list'),
    }) as fc.Arbitrary<Op>,
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'deleteStore' } as Op) },
);

describe('concurrent operations on one store and its files', () => {
  it('leave every invariant true, whatever the interleaving', async () => {
    let rounds = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 4, maxLength: 12 }),
        fc.nat(30),
        async (plan, stagger) => {
          rounds++;
          const store = (await call('POST', '/v1/vector_stores', { name: `cc-${rounds}` })).body.id as string;
          const files = await Promise.all([0, 1, 2, 3].map((i) => upload(rounds * 10 + i)));
          const batches: string[] = [];
          const run = async (op: Op) => {
            const vs = `/v1/vector_stores/${store}`;
            switch (op.kind) {
              case 'attach':
                return call('POST', `${vs}/files`, { file_id: files[op.file], attributes: { tag: op.tag } });
              case 'update':
                return call('POST', `${vs}/files/${files[op.file]}`, {
                  attributes: { tag: op.tag, updated: true },
                });
              case 'detach':
                return call('DELETE', `${vs}/files/${files[op.file]}`);
              case 'deleteFile':
                return call('DELETE', `/v1/files/${files[op.file]}`);
              case 'retrieve':
                return call('GET', `${vs}/files/${files[op.file]}`);
              case 'batch': {
                const r = await call('POST', `${vs}/file_batches`, {
                  file_ids: op.files.map((i) => files[i]),
                });
                if (r.status === 200) batches.push(r.body.id);
                return r;
              }
              case 'cancelBatches':
                return Promise.all(batches.map((b) => call('POST', `${vs}/file_batches/${b}/cancel`)));
              case 'updateStore':
                return call('POST', vs, { metadata: { round: String(rounds) } });
              case 'search':
                return call('POST', `${vs}/search`, {
                  query: 'concurrency order',
                  filters: { type: 'gte', key: 'tag', value: 0 },
                });
              case 'list':
                return call('GET', `${vs}/files?limit=100`);
              case 'deleteStore':
                return call('DELETE', vs);
            }
          };
          await Promise.all(
            plan.map(async (op, i) => {
              await new Promise((r) => setTimeout(r, (i * stagger) % 17));
              await run(op);
            }),
          );
          await app.deps.worker.idle();
          // What the API says agrees with itself: the list, the store's counts, and each file's chunks.
          const got = await call('GET', `/v1/vector_stores/${store}`);
          if (got.status === 200) {
            const list = (await call('GET', `/v1/vector_stores/${store}/files?limit=100`)).body.data as {
              id: string;
              status: string;
              attributes: Record<string, unknown>;
            }[];
            expect(got.body.file_counts.total).toBe(list.length);
            expect(got.body.file_counts.in_progress).toBe(0);
            const [mismatch] = await app.db.sql`
            SELECT c.file_id FROM chunks c JOIN vector_store_files v USING (vector_store_id, file_id)
            WHERE c.vector_store_id = ${store} AND c.attributes <> v.attributes LIMIT 1`;
            expect(mismatch, 'chunk attributes follow their file').toBeUndefined();
          } else {
            expect(got.status).toBe(404);
            const [left] = await app.db
              .sql`SELECT count(*)::int AS n FROM chunks WHERE vector_store_id = ${store}`;
            expect(left!.n).toBe(0);
          }
          const report = await runDoctor({
            sql: app.db.sql,
            blobRoot: join(app.config.DATA_DIR, 'files'),
            minAgeSeconds: 0,
          });
          expect(report.checks.filter((c) => !c.ok)).toEqual([]);
        },
      ),
      { numRuns: ROUNDS },
    );
    console.log(`concurrency: ${rounds} rounds, ${ops} operations, all invariants held after each`);
  });
});
