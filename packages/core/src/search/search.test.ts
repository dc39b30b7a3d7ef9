import { toSql } from 'pgvector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../../test/helpers.ts';
import {
  addFile,
  type ChunkRow,
  gaussian,
  insertChunks,
  normalize,
  random,
  seedStore,
  unitVector,
} from '../../../../test/search-fixtures.ts';
import type { Database } from '../db/client.ts';
import { ApiError } from '../errors.ts';
import type { Filter } from './filters.ts';
import { compileFilter } from './filters.ts';
import { type SearchParams, searchChunks } from './search.ts';
import { searchStatement } from './statement.ts';

const D = 64;
const BIG = 10_000; // clustered chunks in vs_big
const CLUSTERS = 50;
const IDENTIFIERS = ['ERR_4711', 'ECONNREFUSED', 'E_TOKEN_EXPIRED', 'SIGSEGV', 'OOMKilled', 'ERR_SSL_0x1F'];
const WORDS =
  'system server request client timeout network error retry queue worker memory disk cache latency'.split(
    ' ',
  );

let db: Database;
const rand = random(2024);
const centers = Array.from({ length: CLUSTERS }, () => unitVector(rand, D));
let big: { id: number; vector: number[]; bucket: number }[] = [];
const textTargets: number[][] = []; // embedding of the doc holding IDENTIFIERS[i]
const multi: { id: number; vector: number[] }[] = [];
let type: 'halfvec' | 'vector';

const clustered = (center: number[]) => normalize(center.map((x) => x + 0.12 * gaussian(rand)));

beforeAll(async () => {
  db = await freshDatabase();
  const sql = db.sql;
  const indexdef = async () =>
    (await sql`SELECT indexdef FROM pg_indexes WHERE indexname = 'chunks_embedding'`)[0]?.indexdef;
  const migrated = await indexdef();
  // halfvec, or full-precision vector on the WebAssembly engine (migration 0008).
  type = (
    await sql<{ type: 'halfvec' | 'vector' }[]>`SELECT format_type(atttypid, NULL) AS type
      FROM pg_attribute WHERE attrelid = 'chunks'::regclass AND attname = 'embedding'`
  )[0]!.type;
  expect(migrated).toContain(`USING hnsw (embedding ${type}_cosine_ops)`);
  // Building the index once is ~6x faster than maintaining it row by row in WASM; it is rebuilt
  // below with the migration's definition (checked).
  await sql`DROP INDEX chunks_embedding`;

  await seedStore(sql, { project: 'proj_a', store: 'vs_big', file: 'file_big' });
  const rows: ChunkRow[] = Array.from({ length: BIG }, (_, i) => ({
    content: `chunk ${i} about ${WORDS[i % WORDS.length]}`,
    embedding: clustered(centers[i % CLUSTERS]!),
    attributes: { bucket: Math.floor(rand() * 100), cluster: i % CLUSTERS },
  }));
  await insertChunks(sql, 'vs_big', 'file_big', rows);

  // A text corpus whose embeddings are noise: only the identifiers tell the documents apart.
  await seedStore(sql, { project: 'proj_a', store: 'vs_text', file: 'file_text', filename: 'errors.md' });
  const docs: ChunkRow[] = [];
  for (const id of IDENTIFIERS) {
    const embedding = unitVector(rand, D);
    textTargets.push(embedding);
    docs.push({ content: `The service failed with error ${id} while talking to the upstream.`, embedding });
  }
  for (let i = 0; i < 200; i++) {
    const words = Array.from({ length: 12 }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
    docs.push({ content: `Error report ${i}: ${words}.`, embedding: unitVector(rand, D), page: i % 5 });
  }
  await insertChunks(sql, 'vs_text', 'file_text', docs);

  // Two stores searched together, and a third store in another project.
  for (const [store, file] of [
    ['vs_m1', 'file_m1'],
    ['vs_m2', 'file_m2'],
  ] as const) {
    await seedStore(sql, { project: 'proj_a', store, file });
    const vectors = Array.from({ length: 300 }, () => unitVector(rand, D));
    const ids = await insertChunks(
      sql,
      store,
      file,
      vectors.map((embedding, i) => ({ content: `${store} chunk ${i}`, embedding })),
    );
    expect(ids.length).toBe(300);
  }
  await addFile(sql, { project: 'proj_a', store: 'vs_m2', file: 'file_m2b' });
  await seedStore(sql, { project: 'proj_b', store: 'vs_b', file: 'file_b' });
  await insertChunks(
    sql,
    'vs_b',
    'file_b',
    Array.from({ length: 20 }, (_, i) => ({
      content: `secret ERR_4711 ${i}`,
      embedding: unitVector(rand, D),
    })),
  );

  await sql.begin(async (tx) => {
    await tx`SELECT set_config('maintenance_work_mem', '256MB', true)`;
    await (type === 'vector'
      ? tx`CREATE INDEX chunks_embedding ON chunks USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)`
      : tx`CREATE INDEX chunks_embedding ON chunks USING hnsw (embedding halfvec_cosine_ops) WITH (m = 16, ef_construction = 64)`);
  });
  expect(await indexdef()).toBe(migrated);

  // Ground truth from what the database holds (rounded to its type), brute-forced below in float64.
  const stored = await sql<{ id: number; v: string; bucket: number }[]>`
    SELECT id, embedding::text AS v, (attributes->>'bucket')::int AS bucket FROM chunks
    WHERE vector_store_id = 'vs_big' ORDER BY id`;
  big = stored.map((r) => ({ id: r.id, vector: JSON.parse(r.v) as number[], bucket: r.bucket }));
  const both = await sql<{ id: number; v: string }[]>`
    SELECT id, embedding::text AS v FROM chunks WHERE vector_store_id IN ('vs_m1', 'vs_m2') ORDER BY id`;
  multi.push(...both.map((r) => ({ id: r.id, vector: JSON.parse(r.v) as number[] })));
}, 120_000);
afterAll(() => db?.close());

const search = (p: Partial<SearchParams>) =>
  searchChunks(db.sql, {
    projectId: 'proj_a',
    vectorStoreIds: ['vs_big'],
    embedding: null,
    text: null,
    mode: 'vector',
    limit: 10,
    efSearch: 40,
    ...p,
  });

function cosineDistance(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return 1 - dot / Math.sqrt(na * nb);
}

/** The query as the database sees it: rounded to the column's type. */
async function asStored(q: number[]): Promise<number[]> {
  const [row] = await (type === 'vector'
    ? db.sql<{ v: string }[]>`SELECT ${toSql(q)}::vector::text AS v`
    : db.sql<{ v: string }[]>`SELECT ${toSql(q)}::halfvec::text AS v`);
  return JSON.parse(row!.v) as number[];
}

async function bruteForce<T extends { id: number; vector: number[] }>(
  query: number[],
  rows: T[],
  k: number,
): Promise<number[]> {
  const q = await asStored(query);
  return rows
    .map((r) => ({ id: r.id, d: cosineDistance(q, r.vector) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, k)
    .map((r) => r.id);
}

describe('vector search on clustered embeddings', () => {
  const queries = Array.from({ length: 20 }, (_, i) => clustered(centers[(i * 7) % CLUSTERS]!));
  const settings: { name: string; filter?: Filter; keep: (bucket: number) => boolean }[] = [
    { name: 'unfiltered', keep: () => true },
    { name: '10% filter', filter: { type: 'lt', key: 'bucket', value: 10 }, keep: (b) => b < 10 },
    { name: '1% filter', filter: { type: 'eq', key: 'bucket', value: 42 }, keep: (b) => b === 42 },
  ];

  async function recall(filter: Filter | undefined, keep: (b: number) => boolean, exactThreshold?: number) {
    const candidates = big.filter((r) => keep(r.bucket));
    let found = 0;
    const scans = new Set<string | null>();
    for (const q of queries) {
      const page = await search({ embedding: q, filter, exactThreshold });
      scans.add(page.scan);
      const truth = await bruteForce(q, candidates, 10);
      expect(page.data.length).toBe(Math.min(10, candidates.length));
      for (const hit of page.data) {
        expect(keep(hit.attributes.bucket as number)).toBe(true);
        if (truth.includes(hit.chunkId)) found += 1;
      }
      const scores = page.data.map((h) => h.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    }
    return { recall: found / (queries.length * Math.min(10, candidates.length)), scans: [...scans] };
  }

  for (const { name, filter, keep } of settings) {
    it(`has recall@10 >= 0.95 through the HNSW index, ${name}`, async () => {
      expect(big.filter((r) => keep(r.bucket)).length).toBeGreaterThanOrEqual(10);
      const { recall: r, scans } = await recall(filter, keep, 0);
      console.info(`recall@10 through HNSW (efSearch 40, iterative relaxed_order), ${name}: ${r.toFixed(3)}`);
      expect(scans).toEqual(['hnsw']);
      expect(r).toBeGreaterThanOrEqual(0.95);
    });
  }

  it('searches small candidate sets exactly, with recall 1', async () => {
    // 10k chunks: unfiltered and 10% (~1000) go through the index at threshold 500, 1% (~100) does not.
    const expected = { unfiltered: 'hnsw', '10% filter': 'hnsw', '1% filter': 'exact' };
    for (const { name, filter, keep } of settings) {
      const { recall: r, scans } = await recall(filter, keep, 500);
      expect(scans).toEqual([expected[name as keyof typeof expected]]);
      if (scans[0] === 'exact') expect(r).toBe(1);
    }
    // A threshold of the store's size (10,000) ranks all of it exactly.
    const { recall: r, scans } = await recall(undefined, () => true, 10_000);
    expect(scans).toEqual(['exact']);
    expect(r).toBe(1);
  });

  it('falls back to an exact scan when the index walk finds too few rows', async () => {
    const none = await search({ embedding: queries[0]!, filter: { type: 'eq', key: 'cluster', value: -1 } });
    expect(none).toEqual({ data: [], hasMore: false, scan: 'exact' });
    // A few matches (more than exactThreshold 0, fewer than the 51 asked): the index walk comes back
    // short, and the exact scan that follows finds every one.
    const filter: Filter = {
      type: 'and',
      filters: [
        { type: 'eq', key: 'bucket', value: 42 },
        { type: 'lt', key: 'cluster', value: 3 },
      ],
    };
    const page = await search({ embedding: queries[0]!, filter, exactThreshold: 0, limit: 50 });
    const [count] = await db.sql<
      { n: number }[]
    >`SELECT count(*) AS n FROM chunks WHERE vector_store_id = 'vs_big'
      AND (attributes->>'bucket')::int = 42 AND (attributes->>'cluster')::int < 3`;
    expect(count!.n).toBeGreaterThan(0);
    expect(count!.n).toBeLessThan(51);
    expect(page.data.length).toBe(count!.n);
    expect(page.scan).toBe('exact');
  });

  it('walks the HNSW index for an index scan and avoids it for an exact one, in one statement', async () => {
    const vector = toSql(queries[0]!)!;
    const sql = db.sql;
    const filter: Filter = { type: 'eq', key: 'bucket', value: 1 };
    const plan = async (exactThreshold: number) => {
      const statement = searchStatement(sql, {
        projectId: 'proj_a',
        storeIds: ['vs_big'],
        filter: compileFilter(sql, filter),
        filterOver: (column) => compileFilter(sql, filter, column),
        vector,
        text: null,
        mode: 'vector',
        k: 11,
        offset: 0,
        limit: 10,
        weights: { embedding: 1, text: 0 },
        scoreThreshold: null,
        exactThreshold,
        matchThreshold: exactThreshold,
        efSearch: 40,
        known: null,
      });
      const rows = await sql`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ${statement}`;
      return rows.map((r) => r['QUERY PLAN'] as string);
    };
    const ran = (lines: string[], pattern: RegExp) =>
      lines.filter((l) => pattern.test(l)).map((l) => !l.includes('never executed'));
    const hnsw = await plan(0);
    expect(ran(hnsw, /Index Scan using chunks_embedding/)).toEqual([true]);
    const exact = await plan(10_000);
    expect(ran(exact, /Index Scan using chunks_embedding/)).toEqual([false]);
    // The exact scan orders by cosine_distance(), which the index cannot serve.
    expect(exact.join('\n')).toMatch(/cosine_distance/);
    // set_config(..., true) inside the statement: nothing leaks out into the shared backend.
    const [settings] = await sql`SELECT current_setting('enable_sort') AS sort,
      current_setting('hnsw.ef_search') AS ef, current_setting('hnsw.iterative_scan') AS iterative`;
    expect(settings).toEqual({ sort: 'on', ef: '40', iterative: 'off' });
  });
});

describe('scores, thresholds, paging and scope', () => {
  const q = () => clustered(centers[3]!);
  const multiTruth = (query: number[]) => bruteForce(query, multi, 10);

  it('scores in 0..1, best first, and honours the threshold', async () => {
    const embedding = unitVector(rand, D);
    for (const mode of ['vector', 'hybrid', 'keyword'] as const) {
      const base = { vectorStoreIds: ['vs_text'], embedding, text: 'network', mode, limit: 50 };
      const page = await search(base);
      expect(page.data.length).toBe(50);
      for (const hit of page.data) {
        expect(hit.score).toBeGreaterThanOrEqual(0);
        expect(hit.score).toBeLessThanOrEqual(1);
      }
      // A threshold between two distinct scores keeps exactly the results above it.
      const cut = page.data.findIndex((h, j) => j >= 5 && h.score < page.data[j - 1]!.score);
      expect(cut).toBeGreaterThan(0);
      const threshold = (page.data[cut]!.score + page.data[cut - 1]!.score) / 2;
      const above = await search({ ...base, scoreThreshold: threshold });
      expect(above.data.map((h) => h.chunkId)).toEqual(page.data.slice(0, cut).map((h) => h.chunkId));
      expect(above.hasMore).toBe(false);
    }
    const none = await search({ embedding: clustered(centers[3]!), scoreThreshold: 1 });
    expect(none.data).toEqual([]);
  });

  it('pages with offset and reports hasMore', async () => {
    // Hybrid candidates grow with the page (top-K of each side, K = 4 x (offset + limit + 1)), so
    // pages agree exactly only where the top fused results are well inside both candidate lists.
    for (const [mode, stores, text] of [
      ['vector', ['vs_big'], null],
      ['hybrid', ['vs_m1'], 'chunk'],
    ] as const) {
      const query = q();
      const base = { vectorStoreIds: [...stores], embedding: query, text, mode };
      const all = await search({ ...base, limit: 20 });
      const first = await search({ ...base, limit: 10 });
      const second = await search({ ...base, limit: 10, offset: 10 });
      expect(all.data.length).toBe(20);
      expect([...first.data, ...second.data].map((h) => h.chunkId)).toEqual(all.data.map((h) => h.chunkId));
      expect(first.hasMore).toBe(true);
    }
    const kw = await search({ vectorStoreIds: ['vs_text'], text: 'ERR_4711', mode: 'keyword', limit: 1 });
    expect(kw.data.length).toBe(1);
    expect(kw.hasMore).toBe(false);
    const tail = await search({ vectorStoreIds: ['vs_m1'], embedding: q(), limit: 10, offset: 295 });
    expect(tail.data.length).toBe(5);
    expect(tail.hasMore).toBe(false);
    const past = await search({ vectorStoreIds: ['vs_m1'], embedding: q(), limit: 10, offset: 300 });
    expect(past).toMatchObject({ data: [], hasMore: false });
  });

  it('returns one global top-k across stores', async () => {
    for (let i = 0; i < 5; i++) {
      const query = unitVector(rand, D);
      const truth = await multiTruth(query);
      const page = await search({ vectorStoreIds: ['vs_m1', 'vs_m2'], embedding: query });
      expect(page.scan).toBe('exact');
      expect(page.data.map((h) => h.chunkId)).toEqual(truth);
      const viaIndex = await search({
        vectorStoreIds: ['vs_m1', 'vs_m2'],
        embedding: query,
        exactThreshold: 0,
      });
      expect(viaIndex.data.length).toBe(10);
      expect(viaIndex.data.filter((h) => truth.includes(h.chunkId)).length).toBeGreaterThanOrEqual(8);
    }
    const stores = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const page = await search({
        vectorStoreIds: ['vs_m1', 'vs_m2'],
        embedding: unitVector(rand, D),
        limit: 20,
      });
      for (const h of page.data) stores.add(h.vectorStoreId);
    }
    expect([...stores].sort()).toEqual(['vs_m1', 'vs_m2']);
  });

  it('returns the chunk, its file and its attributes', async () => {
    const [hit] = (await search({ vectorStoreIds: ['vs_text'], text: 'ECONNREFUSED', mode: 'keyword' })).data;
    expect(hit).toMatchObject({
      vectorStoreId: 'vs_text',
      fileId: 'file_text',
      filename: 'errors.md',
      chunkIndex: 1,
      content: 'The service failed with error ECONNREFUSED while talking to the upstream.',
      attributes: {},
      page: null,
      scoreDetails: { vector: null, text: hit!.score },
    });
    // One query term: BM25 over its saturation bound is tf / (tf + k1 (1 - b + b dl / avgdl)), idf cancels.
    const [len] = await db.sql<{ dl: number; avg: number }[]>`
      SELECT tsvector_tokens(c.tsv) AS dl, s.token_count::float8 / s.chunk_count AS avg
      FROM chunks c JOIN vector_stores s ON s.id = c.vector_store_id WHERE c.id = ${hit!.chunkId}`;
    expect(hit!.score).toBeCloseTo(1 / (1 + 1.2 * (0.25 + (0.75 * len!.dl) / len!.avg)), 10);
    expect(hit!.bm25).toBeGreaterThan(0);
    expect(typeof hit!.chunkId).toBe('number');
  });

  it("never shows another project's stores", async () => {
    const embedding = unitVector(rand, D);
    for (const mode of ['vector', 'keyword', 'hybrid'] as const) {
      const other = await search({ vectorStoreIds: ['vs_b'], embedding, text: 'secret ERR_4711', mode });
      expect(other.data).toEqual([]);
      const mixed = await search({ vectorStoreIds: ['vs_b', 'vs_text'], embedding, text: 'ERR_4711', mode });
      expect(mixed.data.length).toBeGreaterThan(0);
      expect(mixed.data.every((h) => h.vectorStoreId === 'vs_text')).toBe(true);
    }
    const own = await search({
      projectId: 'proj_b',
      vectorStoreIds: ['vs_b'],
      text: 'secret',
      mode: 'keyword',
    });
    expect(own.data.length).toBe(10);
    const cross = await search({ projectId: 'proj_b', vectorStoreIds: ['vs_big'], embedding });
    expect(cross.data).toEqual([]);
    expect((await search({ vectorStoreIds: [], embedding })).data).toEqual([]);
  });

  it('refuses bad parameters with a 400', async () => {
    const bad = async (p: Partial<SearchParams>, param: string | null) => {
      const err = await search(p).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe('invalid_request');
      expect((err as ApiError).param).toBe(param);
    };
    // The window, the page size, the weights and the query_embedding's length are the request's, held once
    // where it is parsed (schemas.test.ts; test/search-sdk.test.ts for the length).
    const v = q();
    await bad({ embedding: null }, 'query');
    await bad({ embedding: v.map(() => 0) }, 'query_embedding');
    await bad({ embedding: v.map((x, i) => (i === 3 ? Number.NaN : x)) }, 'query_embedding');
    await bad({ embedding: v.map((x, i) => (i === 3 ? 1e6 : x)) }, 'query_embedding');
    // A filter is parsed where the request is (filters.test.ts): its type cannot hold an ill-formed one.
  });
});

describe('keyword and hybrid search', () => {
  it('never throws on query syntax and finds nothing for stopwords alone', async () => {
    const inputs = [
      '"',
      '&|!',
      'foo:*',
      ')(',
      "'",
      '\\',
      '<->',
      '!!!',
      ':*',
      'a & | b',
      '"unterminated',
      'or',
      '-',
      '- -',
      'ERR_4711:*A',
      'x\u0000y',
      '😀',
      'network '.repeat(5000),
    ];
    for (const text of inputs) {
      for (const mode of ['keyword', 'hybrid'] as const) {
        const page = await search({
          vectorStoreIds: ['vs_text', 'vs_big'],
          text,
          mode,
          embedding: unitVector(rand, D),
        });
        expect(Array.isArray(page.data)).toBe(true);
      }
    }
    for (const text of ['the', 'the and of a', '   ', '']) {
      expect((await search({ vectorStoreIds: ['vs_text'], text, mode: 'keyword' })).data).toEqual([]);
    }
    const partial = await search({
      vectorStoreIds: ['vs_text'],
      text: '"ECONNREFUSED" -upstream',
      mode: 'keyword',
    });
    expect(partial.data).toEqual([]);
    const phrase = await search({
      vectorStoreIds: ['vs_text'],
      text: '"error ECONNREFUSED"',
      mode: 'keyword',
    });
    expect(phrase.data.map((h) => h.content)).toEqual([expect.stringContaining('ECONNREFUSED')]);
  });

  it('applies filters to keyword and hybrid candidates', async () => {
    const filter: Filter = { type: 'gte', key: 'bucket', value: 90 };
    for (const mode of ['keyword', 'hybrid'] as const) {
      const page = await search({
        text: 'network',
        mode,
        filter,
        embedding: clustered(centers[0]!),
        limit: 30,
      });
      expect(page.data.length).toBe(30);
      expect(page.data.every((h) => (h.attributes.bucket as number) >= 90)).toBe(true);
    }
  });

  it('beats pure vector search on exact identifiers when embeddings are noisy', async () => {
    const noise = random(99);
    let vectorHits = 0;
    let hybridHits = 0;
    for (let round = 0; round < 5; round++) {
      for (const [i, id] of IDENTIFIERS.entries()) {
        // The query embedding only weakly resembles the document's (cosine about 0.3).
        const embedding = normalize(
          textTargets[i]!.map((x) => 0.3 * x + (0.95 / Math.sqrt(D)) * gaussian(noise)),
        );
        const text = `${id} error`;
        const want = `error ${id} while`;
        const vector = await search({
          vectorStoreIds: ['vs_text'],
          embedding,
          text,
          mode: 'vector',
          limit: 1,
        });
        const hybrid = await search({
          vectorStoreIds: ['vs_text'],
          embedding,
          text,
          mode: 'hybrid',
          limit: 1,
        });
        if (vector.data[0]?.content.includes(want)) vectorHits += 1;
        if (hybrid.data[0]?.content.includes(want)) hybridHits += 1;
        const top = hybrid.data[0]!;
        expect(top.scoreDetails.vector).not.toBeNull();
        expect(top.scoreDetails.text).not.toBeNull();
        expect(top.score).toBeCloseTo(0.7 * top.scoreDetails.vector! + 0.3 * top.scoreDetails.text!, 10);
      }
    }
    const total = 5 * IDENTIFIERS.length;
    console.info(`top-1 on identifiers: vector ${vectorHits}/${total}, hybrid ${hybridHits}/${total}`);
    expect(hybridHits).toBeGreaterThanOrEqual(total * 0.9);
    expect(vectorHits).toBeLessThanOrEqual(total * 0.6);
  });

  it('lets weights move hybrid towards either side', async () => {
    const embedding = textTargets[0]!;
    const textOnly = await search({
      vectorStoreIds: ['vs_text'],
      embedding: unitVector(rand, D),
      text: 'ERR_4711',
      mode: 'hybrid',
      weights: { embedding: 0, text: 1 },
    });
    expect(textOnly.data[0]!.content).toContain('ERR_4711');
    expect(textOnly.data[0]!.score).toBe(textOnly.data[0]!.scoreDetails.text);
    const vectorOnly = await search({
      vectorStoreIds: ['vs_text'],
      embedding,
      text: 'ECONNREFUSED',
      mode: 'hybrid',
      weights: { embedding: 1, text: 0 },
    });
    expect(vectorOnly.data[0]!.content).toContain('ERR_4711');
    expect(vectorOnly.data[0]!.score).toBeCloseTo(1, 2);
  });
});
