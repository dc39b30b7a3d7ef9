import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneTemplate, nativeUrl, poolerUrl, withDatabase } from './engine.ts';
import { emptyDatabase } from './helpers.ts';
import { TcpProxy } from './tcp-proxy.ts';

// scripts/patch-postgres.mjs runs on every install; without it, a dropped database connection can end the
// process or hang queries forever (test/faults-db.test.ts shows both), and every statement with parameters
// takes two round trips under `prepare: false`. Fail loudly if it did not run.
const MARKS = ['1a', '1b', '2', '3', '4a', '4b', '4c', '4d', '4e', '4f', '4g', '4h', '4i'];

describe('the postgres.js guard', () => {
  it('is applied to every copy of the driver that Node or a bundler may load', () => {
    for (const dir of ['src', 'cjs/src', 'cf/src']) {
      const source = readFileSync(
        join(import.meta.dirname, '../node_modules/postgres', dir, 'connection.js'),
        'utf8',
      );
      for (const mark of MARKS) {
        // A node_modules installed before a new edit was added: `node scripts/patch-postgres.mjs` applies it.
        expect(source, `${dir} ${mark}: run node scripts/patch-postgres.mjs`).toContain(
          `vectordb patch ${mark}`,
        );
      }
      expect(source).not.toContain('!hadError && (query || sent.length)');
    }
  });
});

/** The frontend message types of each chunk a client sent (after its startup packet), e.g. "PDBES". */
function messageTypes(chunk: Buffer): string {
  let out = '';
  for (let i = 0; i + 5 <= chunk.length; i += 1 + chunk.readUInt32BE(i + 1))
    out += String.fromCharCode(chunk[i]!);
  return out;
}

interface Target {
  name: string;
  /** The embedded engine has one backend: its clients keep to one connection (core/db/client.ts). */
  connections: number;
  open(): Promise<{ url: string; close(): Promise<void> }>;
}
const targets: Target[] = [
  {
    name: 'the embedded engine',
    connections: 1,
    open: async () => {
      const db = await emptyDatabase();
      return { url: db.url!, close: () => db.close() };
    },
  },
];
// With a native server (CI exports both URLs before `npm test`), the same directly and through PgBouncer.
if (process.env.TEST_DATABASE_URL && process.env.TEST_POOLER_URL) {
  for (const [name, base] of [
    ['native PostgreSQL', nativeUrl],
    ['PgBouncer in transaction mode', poolerUrl],
  ] as const) {
    targets.push({
      name,
      connections: 4,
      open: async () => {
        const clone = await cloneTemplate();
        return { url: withDatabase(base(), clone.name), close: () => clone.drop() };
      },
    });
  }
}

describe.each(targets)('unnamed statements (prepare: false) on $name', (target) => {
  let db: { url: string; close(): Promise<void> };
  let proxy: TcpProxy;
  let sql: postgres.Sql;
  let flights: string[] = [];

  beforeAll(async () => {
    db = await target.open();
    const url = new URL(db.url);
    const started = new WeakSet<object>();
    proxy = new TcpProxy(url.hostname, Number(url.port || 5432), (chunk, client) => {
      if (!started.has(client)) return void started.add(client); // the startup packet has no type byte
      flights.push(messageTypes(chunk));
    });
    await proxy.start();
    url.host = `127.0.0.1:${proxy.port}`;
    sql = postgres(url.toString(), { prepare: false, max: target.connections, onnotice: () => {} });
    await sql`CREATE TABLE t (id int, doc jsonb, tags text[], at timestamptz, ok boolean, n int)`;
  });
  afterAll(async () => {
    await sql?.end();
    await proxy?.cut();
    await db?.close();
  });

  /** Runs `fn` and returns what the client sent for it, one entry per write it made. */
  async function sent<T>(fn: () => Promise<T>): Promise<{ value: T; flights: string[] }> {
    flights = []; // every earlier statement has been answered: its writes were all seen
    const value = await fn();
    return { value, flights: flights.filter((f) => f !== '') };
  }

  it('describes a statement once, then sends it with its types in one round trip', async () => {
    // A plain object and an array take the types the server describes (no sql.json, no sql.array).
    type Row = { doc: unknown; tags: string[]; at: Date; ok: boolean };
    const insert = async (i: number) => {
      const row = { doc: { i, nested: [i, 'x'] }, tags: [`a${i}`, 'b,c', 'd"e'], at: new Date(1e12 + i) };
      const [r] = await sql<Row[]>`
        INSERT INTO t (id, doc, tags, at, ok) VALUES (${i}, ${row.doc as never}, ${row.tags}, ${row.at}, ${i % 2 === 0})
        RETURNING doc, tags, at, ok`;
      return { row, r: r! };
    };
    const first = await sent(() => insert(1));
    expect(first.flights).toEqual(['PDH', 'BES']);
    const later = [];
    for (let i = 2; i < 12; i++) later.push(await sent(() => insert(i)));
    for (const { flights } of later) expect(flights).toEqual(['PDBES']);
    for (const { value } of [first, ...later]) {
      const { row, r } = value;
      expect(r.doc).toEqual(row.doc);
      expect(r.tags).toEqual(row.tags);
      expect(r.at.getTime()).toBe(row.at.getTime());
    }
    const [count] = await sql`SELECT count(*)::int AS n, count(*) FILTER (WHERE ok)::int AS ok FROM t`;
    expect(count).toEqual({ n: 11, ok: 5 });
  });

  it('describes it again when a migration changed the types under it', async () => {
    const put = () => sql<{ n: unknown }[]>`INSERT INTO t (n) VALUES (${7}) RETURNING n`;
    for (let i = 0; i < 8; i++) await put();
    expect((await sent(put)).flights).toEqual(['PDBES']);
    await sql`ALTER TABLE t ALTER COLUMN n TYPE jsonb USING to_jsonb(n)`;
    // The int4 it remembered no longer fits the column: the driver forgets it and describes again.
    for (let i = 0; i < 8; i++) expect((await put())[0]!.n).toBe(7);
    expect((await sent(put)).flights).toEqual(['PDBES']);
  });

  it('keeps concurrent statements and transactions apart', async () => {
    const echo = (i: number) => sql<{ i: number }[]>`SELECT ${i}::int AS i, pg_backend_pid() AS pid`;
    const inTx = (i: number) =>
      sql.begin(async (tx) => {
        // Sent together: inside a transaction block the second need not wait for the first.
        const [, [a]] = await Promise.all([
          tx`SELECT set_config('vectordb.probe', ${String(i)}, true)`,
          tx<{ v: string }[]>`SELECT current_setting('vectordb.probe') AS v, ${i}::int AS i`,
        ]);
        return Number(a!.v);
      });
    for (let round = 0; round < 3; round++) {
      const ids = Array.from({ length: 60 }, (_, i) => i + round * 100);
      const [plain, txs] = await Promise.all([
        Promise.all(ids.map((i) => echo(i).then(([r]) => r!.i))),
        Promise.all(ids.map(inTx)),
      ]);
      expect(plain).toEqual(ids);
      expect(txs).toEqual(ids);
    }
  });
});
