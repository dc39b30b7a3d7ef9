// Ingestion end to end through the API, against a fake OpenAI that answers after realistic latency.

import { chunkText } from '@vsdb/core/ingest/chunk';
import { EMBEDDING_LIMITS } from '@vsdb/core/limits';
import OpenAI, { toFile } from 'openai';
import { toSql } from 'pgvector';
import { testConfig } from '../test/config.ts';
import { fakeVector, startFakeOpenAI } from '../test/fake-openai.ts';
import type { TextCorpus } from './corpus.ts';
import { type BenchApp, migratedDatabase, startBenchApp } from './db.ts';
import { progress, round } from './stats.ts';

export const FAKE_LATENCY_MS = 150;

export interface IngestRun {
  files: number;
  bytes: number;
  chunks: number;
  seconds: number;
  upload_s: number;
  chunks_per_s: number;
  mb_per_s: number;
  embedding_requests: number;
  embedding_requests_min: number;
  embedding_requests_over_min: number;
  embedded_tokens: number;
  /** Each request the fake received, in arrival order: inputs and tokens (how full the requests were). */
  requests: { inputs: number; tokens: number }[];
  /** The same files attached to a second store right after. */
  reingest: { seconds: number; embedding_requests: number; cache_hit_rate: number };
  /** The same work with nothing around it: chunking, the fewest requests at full concurrency, one bulk write. */
  floor_s: number;
  floor: { chunk_s: number; embed_s: number; write_s: number };
  over_floor: number;
}

/**
 * The fewest embeddings requests that can carry these inputs within OpenAI's limits (2,048 inputs
 * and 300,000 tokens a request): first-fit decreasing, which here always meets the lower bound
 * max(ceil(n / 2048), ceil(tokens / 300,000)) and is then provably the minimum.
 */
export function minRequests(
  tokens: number[],
  limits = EMBEDDING_LIMITS,
): { requests: number; proven: boolean } {
  const bins: { inputs: number; tokens: number }[] = [];
  for (const t of [...tokens].sort((a, b) => b - a)) {
    const bin = bins.find((b) => b.inputs < limits.maxInputs && b.tokens + t <= limits.maxRequestTokens);
    if (bin) {
      bin.inputs++;
      bin.tokens += t;
    } else bins.push({ inputs: 1, tokens: t });
  }
  const total = tokens.reduce((a, b) => a + b, 0);
  const bound = Math.max(
    Math.ceil(tokens.length / limits.maxInputs),
    Math.ceil(total / limits.maxRequestTokens),
  );
  return { requests: bins.length, proven: bins.length === bound };
}

/**
 * Two workloads, each on a fresh server: the corpus as one file per document (a file batch), and as one
 * file. The write floor is measured once, on the single file's rows, and applied per row to both.
 */
export async function benchIngest(corpus: TextCorpus, dims: number) {
  const fake = await startFakeOpenAI({ latencyMs: FAKE_LATENCY_MS });
  try {
    const documents = corpus.docs.map((d, i) => ({
      name: `doc-${String(i).padStart(3, '0')}.md`,
      text: d.text,
    }));
    const whole = [{ name: 'corpus.md', text: documents.map((d) => d.text).join('\n\n') }];
    const batchRun = await ingestOnFreshServer(fake, dims, 'batch', documents);
    progress(`ingest batch of ${documents.length} files: ${JSON.stringify(batchRun.run)}`);
    const singleRun = await ingestOnFreshServer(fake, dims, 'single', whole);
    progress(`ingest one file: ${JSON.stringify(singleRun.run)}`);
    const rowSeconds = (await writeSeconds(dims, singleRun.rows)) / singleRun.rows.length;
    const batch = withFloor(batchRun.run, documents, rowSeconds);
    const single = withFloor(singleRun.run, whole, rowSeconds);
    progress(`ingest floors: batch ${batch.floor_s} s, one file ${single.floor_s} s`);
    const config = testConfig();
    return {
      ...batch,
      fake_latency_ms: FAKE_LATENCY_MS,
      embedding_concurrency: config.EMBEDDING_CONCURRENCY,
      ingest_concurrency: config.INGEST_CONCURRENCY,
      dims,
      single_file: single,
    };
  } finally {
    await fake.close();
  }
}

type Fake = Awaited<ReturnType<typeof startFakeOpenAI>>;
type Measured = Omit<IngestRun, 'floor_s' | 'floor' | 'over_floor'>;

async function ingestOnFreshServer(
  fake: Fake,
  dims: number,
  name: string,
  documents: { name: string; text: string }[],
) {
  const app = await startBenchApp({
    EMBEDDING_DIMENSIONS: String(dims),
    EMBEDDING_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: fake.baseURL,
  });
  try {
    const client = new OpenAI({
      apiKey: 'sk-bench',
      baseURL: `${app.url}/v1`,
      maxRetries: 0,
      timeout: 600_000,
    });
    fake.resetStats();
    return await ingestFiles(app, client, fake, name, documents);
  } finally {
    await app.close();
  }
}

/** The same work with nothing around it: chunking, the fewest requests at full concurrency, the writes. */
function withFloor(run: Measured, documents: { text: string }[], rowSeconds: number): IngestRun {
  const floor = {
    chunk_s: chunkSeconds(documents.map((d) => d.text)),
    embed_s:
      Math.ceil(run.embedding_requests_min / testConfig().EMBEDDING_CONCURRENCY) * (FAKE_LATENCY_MS / 1000),
    write_s: rowSeconds * run.chunks,
  };
  const floorS = floor.chunk_s + floor.embed_s + floor.write_s;
  return {
    ...run,
    floor_s: round(floorS, 2),
    floor: {
      chunk_s: round(floor.chunk_s, 2),
      embed_s: round(floor.embed_s, 2),
      write_s: round(floor.write_s, 2),
    },
    over_floor: round(run.seconds / floorS, 2),
  };
}

async function ingestFiles(
  app: BenchApp,
  client: OpenAI,
  fake: Fake,
  name: string,
  documents: { name: string; text: string }[],
) {
  const started = performance.now();
  const store = await client.vectorStores.create({ name });
  const ids: string[] = [];
  for (const d of documents) {
    const file = await client.files.create({
      file: await toFile(Buffer.from(d.text), d.name),
      purpose: 'assistants',
    });
    ids.push(file.id);
  }
  const uploaded = performance.now();
  let status: string;
  if (ids.length === 1) {
    let vsf = await client.vectorStores.files.create(store.id, { file_id: ids[0]! });
    while (vsf.status === 'in_progress') {
      await new Promise((r) => setTimeout(r, 50));
      vsf = await client.vectorStores.files.retrieve(ids[0]!, { vector_store_id: store.id });
    }
    status = vsf.status;
  } else {
    let b = await client.vectorStores.fileBatches.create(store.id, { file_ids: ids });
    while (b.status === 'in_progress') {
      await new Promise((r) => setTimeout(r, 50));
      b = await client.vectorStores.fileBatches.retrieve(b.id, { vector_store_id: store.id });
    }
    status = b.file_counts.completed === ids.length ? 'completed' : JSON.stringify(b.file_counts);
  }
  const seconds = (performance.now() - started) / 1000;
  if (status !== 'completed') throw new Error(`ingest of ${name} ended ${status}`);
  const rows = await app.db.sql<Record<string, unknown>[]>`
    SELECT chunk_index, content, tokens, page, char_start, char_end FROM chunks
    WHERE vector_store_id = ${store.id} ORDER BY id`;
  const min = minRequests(rows.map((r) => r.tokens as number));
  const requests = fake.stats.requests;
  const sizes = fake.stats.calls.slice(0, requests).map((c) => ({ inputs: c.inputs, tokens: c.tokens }));
  const bytes = documents.reduce((n, d) => n + Buffer.byteLength(d.text), 0);
  // The same files attached to a second store: what the embedding cache saves on a re-ingest.
  const tokens = fake.stats.tokens;
  const inputsBefore = fake.stats.inputsPerRequest.reduce((a, b) => a + b, 0);
  const requestsBefore = fake.stats.requests;
  const again = await client.vectorStores.create({ name: `${name} again` });
  const reStarted = performance.now();
  let re = await client.vectorStores.fileBatches.create(again.id, { file_ids: ids });
  while (re.status === 'in_progress') {
    await new Promise((r) => setTimeout(r, 50));
    re = await client.vectorStores.fileBatches.retrieve(re.id, { vector_store_id: again.id });
  }
  const reSeconds = (performance.now() - reStarted) / 1000;
  const reInputs = fake.stats.inputsPerRequest.reduce((a, b) => a + b, 0) - inputsBefore;
  const reingest = {
    seconds: round(reSeconds, 2),
    embedding_requests: fake.stats.requests - requestsBefore,
    // Chunks whose embedding did not have to be requested again.
    cache_hit_rate: round(1 - reInputs / Math.max(rows.length, 1), 4),
  };
  const run = {
    files: documents.length,
    bytes,
    chunks: rows.length,
    seconds: round(seconds, 2),
    upload_s: round((uploaded - started) / 1000, 2),
    chunks_per_s: round(rows.length / seconds, 1),
    mb_per_s: round(bytes / 1e6 / seconds, 3),
    embedding_requests: requests,
    embedding_requests_min: min.requests,
    embedding_requests_over_min: round(requests / min.requests, 2),
    embedded_tokens: tokens,
    requests: sizes,
    reingest,
  };
  return { run, rows };
}

function chunkSeconds(texts: string[]): number {
  const started = performance.now();
  for (const t of texts) chunkText(t, { maxTokens: 800, overlapTokens: 400 });
  return (performance.now() - started) / 1000;
}

/**
 * The write floor: the same chunk rows with the same embeddings (the fake's vectors are a function
 * of the text; sent as text, as the pipeline does) inserted into a fresh database in one transaction
 * of 200-row statements, as completeJob writes them. Each row also goes into the HNSW and GIN indexes.
 */
async function writeSeconds(dims: number, rows: Record<string, unknown>[]): Promise<number> {
  const db = await migratedDatabase(testConfig({ EMBEDDING_DIMENSIONS: String(dims) }));
  try {
    const { sql } = db;
    await sql`INSERT INTO vector_stores (id, project_id, name) VALUES ('vs_floor', 'proj_default', 'floor')`;
    await sql`INSERT INTO files (id, project_id, filename, bytes, purpose, blob_key)
      VALUES ('file-floor', 'proj_default', 'floor.md', 1, 'assistants', 'floor')`;
    await sql`INSERT INTO vector_store_files (vector_store_id, file_id, project_id, status, chunking_strategy)
      VALUES ('vs_floor', 'file-floor', 'proj_default', 'completed', '{"type":"auto"}')`;
    const full = rows.map((r, i) => ({
      ...r,
      chunk_index: i,
      vector_store_id: 'vs_floor',
      file_id: 'file-floor',
      attributes: sql.json({}),
      embedding: toSql(fakeVector(r.content as string, dims)) as string,
    }));
    const started = performance.now();
    await sql.begin(async (tx) => {
      for (let i = 0; i < full.length; i += 200) await tx`INSERT INTO chunks ${tx(full.slice(i, i + 200))}`;
    });
    return (performance.now() - started) / 1000;
  } finally {
    await db.close();
  }
}
