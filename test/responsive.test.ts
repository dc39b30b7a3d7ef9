// While the corpus, a large PDF and each pathological file of issue #14 ingest, the thread that answers
// requests stays free: its event-loop delay (perf_hooks.monitorEventLoopDelay) stays small, and /health and a
// read answer on keep-alive connections without a reset. The bench (bench/responsive.ts) measures latencies.
import { Agent, request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTextCorpus } from '../bench/corpus.ts';
import { startTestApp, type TestApp } from './app.ts';
import { largePdf, pathologicalFiles } from './pathological.ts';

let app: TestApp;
let store: string;

beforeAll(async () => {
  app = await startTestApp({ INGEST_FILE_TIMEOUT_MS: '600000' });
  store = (await app.client().vectorStores.create({ name: 'responsive' })).id;
});
afterAll(() => app?.close());

/** GETs `path` back to back on one keep-alive connection until stopped; any failure is kept. */
function keepAliveProbe(path: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const failures: string[] = [];
  let answered = 0;
  let running = true;
  const once = () =>
    new Promise<void>((resolve) => {
      const req = request(`${app.url}${path}`, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) answered++;
          else failures.push(`HTTP ${res.statusCode}`);
          resolve();
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        failures.push(err.code ?? err.message);
        resolve();
      });
      req.end();
    });
  const loop = (async () => {
    while (running) {
      await once();
      await new Promise((r) => setImmediate(r));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      agent.destroy();
      return { answered, failures };
    },
  };
}

/** Uploads and attaches the files, waits for every one to finish, and reports the loop's worst delay. */
async function ingestWatched(files: { filename: string; bytes: Uint8Array }[]) {
  const client = new OpenAI({ apiKey: 'sk-open', baseURL: `${app.url}/v1`, maxRetries: 0, timeout: 300_000 });
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const health = keepAliveProbe('/health');
  const read = keepAliveProbe(`/v1/vector_stores/${store}`);
  loop.enable();
  const ids: string[] = [];
  for (const f of files) {
    ids.push(
      (
        await client.files.create({
          file: new File([Buffer.from(f.bytes)], f.filename),
          purpose: 'assistants',
        })
      ).id,
    );
  }
  const batch = await client.vectorStores.fileBatches.createAndPoll(
    store,
    { file_ids: ids },
    { pollIntervalMs: 50 },
  );
  loop.disable();
  const probes = { health: await health.stop(), read: await read.stop() };
  return { batch, maxDelayMs: loop.max / 1e6, p99DelayMs: loop.percentile(99) / 1e6, probes };
}

const PATHOLOGICAL = [
  'PDF listing one page 3,000 times',
  'JSON nested 100,000 deep',
  'one 100,000-character word',
  'CSV with one 10 MB line',
  '19 MB text',
];

// Extraction, chunking, the local embedding and the database run in other threads; what remains on the request
// thread (moving chunk sets and vectors between threads) is bounded per task, and each statement of a file's
// write is short, so the engine's thread answers /health's ping throughout. Before, single stalls were
// 3.4-18 s. The bounds leave room for a machine shared with other work (2 cores, often loaded):
// the 99th percentile must stay small, and no single stall may come near the old ones.
const P99_DELAY_MS = 300;
const MAX_DELAY_MS = 2000;
/** Large but ordinary: these are ingested, not refused (their chunks are written in slices). */
const MUST_COMPLETE = new Set(['19 MB text', 'CSV with one 10 MB line']);

describe('the request thread stays free while files ingest', () => {
  it('during the corpus and a large PDF', async () => {
    const docs = loadTextCorpus().docs.slice(0, 40);
    const files = [
      ...docs.map((d, i) => ({ filename: `doc${i}.md`, bytes: new TextEncoder().encode(d.text) })),
      { filename: 'large.pdf', bytes: await largePdf(100) },
    ];
    const r = await ingestWatched(files);
    console.log(
      `corpus + large PDF: event loop max ${r.maxDelayMs.toFixed(0)} ms, p99 ${r.p99DelayMs.toFixed(0)} ms`,
    );
    expect(r.batch.file_counts).toMatchObject({ completed: files.length, failed: 0 });
    expect(r.probes.health.failures).toEqual([]);
    expect(r.probes.read.failures).toEqual([]);
    expect(r.probes.health.answered).toBeGreaterThan(0);
    expect(r.p99DelayMs).toBeLessThan(P99_DELAY_MS);
    expect(r.maxDelayMs).toBeLessThan(MAX_DELAY_MS);
  }, 600_000);

  it('during a large /v1/embeddings batch with the local embedder', async () => {
    const loop = monitorEventLoopDelay({ resolution: 10 });
    const health = keepAliveProbe('/health');
    loop.enable();
    // 300 inputs of ~600 tokens: within the 300,000 tokens a request may hold.
    const input = Array.from(
      { length: 300 },
      (_, i) => `Entry ${i}: ${'the ledger records each invoice, payment and refund '.repeat(60)}`,
    );
    const res = await fetch(`${app.url}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-open', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'text-embedding-3-small', input }),
    });
    const body = (await res.json()) as { data: unknown[] };
    loop.disable();
    const probe = await health.stop();
    const maxDelayMs = loop.max / 1e6;
    console.log(`/v1/embeddings x300: event loop max ${maxDelayMs.toFixed(0)} ms`);
    expect(res.status).toBe(200);
    expect(body.data).toHaveLength(300);
    expect(probe.failures).toEqual([]);
    expect(loop.percentile(99) / 1e6).toBeLessThan(P99_DELAY_MS);
    expect(maxDelayMs).toBeLessThan(MAX_DELAY_MS);
  });

  for (const name of PATHOLOGICAL) {
    it(`during ${name}`, async () => {
      const f = (await pathologicalFiles()).find((p) => p.name === name)!;
      const r = await ingestWatched([f]);
      console.log(
        `${f.name}: event loop max ${r.maxDelayMs.toFixed(0)} ms, p99 ${r.p99DelayMs.toFixed(0)} ms`,
      );
      expect(r.batch.file_counts.in_progress).toBe(0);
      if (MUST_COMPLETE.has(name)) expect(r.batch.file_counts).toMatchObject({ completed: 1, failed: 0 });
      expect(r.probes.health.failures).toEqual([]);
      expect(r.probes.read.failures).toEqual([]);
      expect(r.p99DelayMs).toBeLessThan(P99_DELAY_MS);
      expect(r.maxDelayMs).toBeLessThan(MAX_DELAY_MS);
    }, 600_000);
  }
});
