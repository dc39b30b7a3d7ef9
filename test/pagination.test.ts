import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';
import { engine } from './engine.ts';

// Cursors are exact: rows created within one millisecond (microseconds apart, or at the very same instant)
// page without repeats or gaps in both orders, on all three lists; `after` with `before` is the window
// between them. PGlite's clock has milliseconds only, so the timestamps are set here, to the microsecond.

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.close());

const N = 7;
/** Microseconds within one millisecond, two of them equal (then the id decides). */
const micros = ['000101', '000102', '000102', '000350', '000351', '000777', '000999'];

type Page = { data: { id: string }[]; has_more: boolean };

/**
 * Every id in list order, page by page with `limit`: from the top following `after`, or from the bottom
 * (`last`, the list's last id) walking back with `before`.
 */
async function walk(
  list: (q: Record<string, string | number>) => Promise<Page>,
  order: 'asc' | 'desc',
  limit: number,
  dir: 'after' | 'before' = 'after',
  last?: string,
): Promise<string[]> {
  const all: string[] = last ? [last] : [];
  let cursor = last;
  for (let i = 0; i < 3 * N; i++) {
    const page = await list({ limit, order, ...(cursor ? { [dir]: cursor } : {}) });
    const ids = page.data.map((d) => d.id);
    if (dir === 'after') all.push(...ids);
    else all.unshift(...ids);
    if (!page.has_more || !ids.length) return all;
    cursor = dir === 'after' ? ids.at(-1) : ids[0];
  }
  throw new Error(`no end after ${3 * N} pages: ${all.join(' ')}`);
}

describe(`exact list cursors (${engine})`, () => {
  it('page every list without repeats or gaps, in both orders and directions, rows microseconds apart', async () => {
    const client = app.client();
    const stores: string[] = [];
    for (let i = 0; i < N; i++) stores.push((await client.vectorStores.create({ name: `p${i}` })).id);
    const files: string[] = [];
    for (let i = 0; i < N; i++) {
      const file = await toFile(Buffer.from(`page ${i}`), `p${i}.txt`, { type: 'text/plain' });
      files.push((await client.files.create({ file, purpose: 'assistants' })).id);
    }
    const vs = stores[0]!;
    for (const f of files) await client.vectorStores.files.create(vs, { file_id: f });
    // ::text first: postgres.js would turn a string bound as timestamptz into a Date (milliseconds).
    const at = (i: number) => `2026-01-02 03:04:05.${micros[i]}+00`;
    const { sql } = app.db;
    for (let i = 0; i < N; i++) {
      await sql`UPDATE vector_stores SET created_at = ${at(i)}::text::timestamptz WHERE id = ${stores[i]!}`;
      await sql`UPDATE files SET created_at = ${at(i)}::text::timestamptz WHERE id = ${files[i]!}`;
      await sql`UPDATE vector_store_files SET created_at = ${at(i)}::text::timestamptz
                WHERE vector_store_id = ${vs} AND file_id = ${files[i]!}`;
    }
    // The expected order: by (created_at, id), as the service promises.
    const sorted = (ids: string[]) =>
      ids
        .map((id, i) => ({ id, t: micros[i]! }))
        .sort((a, b) => (a.t === b.t ? (a.id < b.id ? -1 : 1) : a.t < b.t ? -1 : 1))
        .map((x) => x.id);
    const base = `${app.url}/v1`;
    const get = (path: string) => async (q: Record<string, string | number>) => {
      const qs = new URLSearchParams(Object.entries(q).map(([k, v]) => [k, String(v)]));
      const res = await fetch(`${base}${path}?${qs}`, { headers: { authorization: 'Bearer sk-open' } });
      expect(res.status, await res.clone().text()).toBe(200);
      return (await res.json()) as Page;
    };
    const lists = [
      { name: 'vector stores', list: get('/vector_stores'), ids: stores },
      { name: 'files', list: get('/files'), ids: files },
      { name: 'vector store files', list: get(`/vector_stores/${vs}/files`), ids: files },
    ];
    for (const { name, list, ids } of lists) {
      const asc = sorted(ids);
      for (const limit of [1, 3]) {
        for (const dir of ['after', 'before'] as const) {
          const [a, d] = dir === 'after' ? [undefined, undefined] : [asc.at(-1), asc[0]];
          expect(await walk(list, 'asc', limit, dir, a), `${name} asc ${dir} limit ${limit}`).toEqual(asc);
          expect(await walk(list, 'desc', limit, dir, d), `${name} desc ${dir} limit ${limit}`).toEqual(
            [...asc].reverse(),
          );
        }
      }
      // after + before: the window between them, from `after`, in list order.
      const w = await list({ order: 'asc', after: asc[1]!, before: asc[5]!, limit: 2 });
      expect(
        w.data.map((d) => d.id),
        `${name} window`,
      ).toEqual([asc[2], asc[3]]);
      expect(w.has_more).toBe(true);
      const rest = await list({ order: 'asc', after: asc[3]!, before: asc[5]!, limit: 2 });
      expect(rest.data.map((d) => d.id)).toEqual([asc[4]]);
      expect(rest.has_more).toBe(false);
      const desc = await list({ order: 'desc', after: asc[5]!, before: asc[1]!, limit: 10 });
      expect(desc.data.map((d) => d.id)).toEqual([asc[4], asc[3], asc[2]]);
    }
  });

  it('lets the official SDK auto-paginate a list that began with `before`', async () => {
    const client = app.client();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await client.vectorStores.create({ name: `b${i}` })).id);
    const seen: string[] = [];
    // The SDK sends `before` again with `after` on every next page: the window, then an empty page.
    for await (const s of client.vectorStores.list({ order: 'asc', before: ids[4]!, limit: 2 }))
      seen.push(s.id);
    expect(seen.filter((id) => ids.includes(id))).toEqual(ids.slice(2, 4));
  });
});
