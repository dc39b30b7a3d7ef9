import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';
import { engine, isNative } from './engine.ts';

// Races the concurrency suite found on native Postgres, replayed deterministically: a delete holds its row
// in an open transaction while a request that needs the row runs into it; the delete commits once the
// request is seen waiting on its lock (pg_stat_activity: an event, not a sleep). The request must answer
// 404, never a foreign-key violation as a 500. PGlite has one backend, so nothing can wait there.

let app: TestApp;
const KEY = 'sk-races';
beforeAll(async () => {
  if (isNative) app = await startTestApp({ API_KEYS: KEY });
});
afterAll(() => app?.close());

async function waitForLockWait(): Promise<void> {
  for (;;) {
    const [row] = await app.db.sql`
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'`;
    if (row!.n > 0) return;
    await new Promise((r) => setImmediate(r));
  }
}

/** Runs `hold` (a delete) in a transaction, sends `request` meanwhile, commits once the request waits. */
async function race(hold: (tx: typeof app.db.sql) => Promise<unknown>, request: () => Promise<Response>) {
  let res: Promise<Response> | undefined;
  await app.db.sql.begin(async (tx) => {
    await hold(tx as unknown as typeof app.db.sql);
    res = request();
    await waitForLockWait();
  });
  const r = await res!;
  return { status: r.status, body: (await r.json()) as { error?: { code: string; param: string } } };
}

const post = (path: string, body: unknown) =>
  fetch(`${app.url}/v1${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe.runIf(isNative)(`requests racing a delete (${engine})`, () => {
  const setup = async () => {
    const client = app.client(KEY);
    const store = await client.vectorStores.create({ name: 'race' });
    const file = await client.files.create({
      file: await toFile(Buffer.from('race me'), 'race.txt', { type: 'text/plain' }),
      purpose: 'assistants',
    });
    return { store: store.id, file: file.id };
  };

  it('attaching a file that is being deleted answers 404', async () => {
    const { store, file } = await setup();
    const r = await race(
      (tx) => tx`DELETE FROM files WHERE id = ${file}`,
      () => post(`/vector_stores/${store}/files`, { file_id: file }),
    );
    expect(r.status, JSON.stringify(r.body)).toBe(404);
    expect(r.body.error?.param).toBe('file_id');
  });

  it('a batch of a file that is being deleted answers 404', async () => {
    const { store, file } = await setup();
    const r = await race(
      (tx) => tx`DELETE FROM files WHERE id = ${file}`,
      () => post(`/vector_stores/${store}/file_batches`, { file_ids: [file] }),
    );
    expect(r.status, JSON.stringify(r.body)).toBe(404);
  });

  it('attaching to, or batching into, a store that is being deleted answers 404', async () => {
    for (const path of ['files', 'file_batches']) {
      const { store, file } = await setup();
      const r = await race(
        (tx) => tx`DELETE FROM vector_stores WHERE id = ${store}`,
        () =>
          post(
            `/vector_stores/${store}/${path}`,
            path === 'files' ? { file_id: file } : { file_ids: [file] },
          ),
      );
      expect(r.status, `${path}: ${JSON.stringify(r.body)}`).toBe(404);
      expect(r.body.error?.param).toBe('vector_store_id');
    }
  });
});

it.runIf(!isNative)('needs a native engine (npm run test:engines) to race two connections', () => {
  expect(engine).toBe('pglite');
});
