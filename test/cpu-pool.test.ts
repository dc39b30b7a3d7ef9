import { chunkText } from '@vsdb/core/ingest/chunk';
import { closeCpuPool, prepareFile } from '@vsdb/core/ingest/cpu-pool';
import { afterAll, describe, expect, it } from 'vitest';
import {
  closeLocalEmbedder,
  LocalEmbeddingProvider,
  lexicalEmbedding,
} from '../packages/core/src/embedding/local.ts';
import { testConfig } from './config.ts';
import { heavyDocx } from './pathological.ts';

const budget = { INGEST_CONCURRENCY: 1, INGEST_FILE_TIMEOUT_MS: 60_000, INGEST_FILE_HEAP_MB: 512 };
const task = (bytes: Uint8Array, filename: string) => ({
  bytes,
  filename,
  mimeType: null,
  maxTokens: 100,
  overlapTokens: 20,
});
const utf8 = (s: string) => new TextEncoder().encode(s);

afterAll(() => Promise.all([closeCpuPool(), closeLocalEmbedder()]));
/** One turn of the event loop: a task handed to a thread has been posted to it, and is still running. */
const turn = () => new Promise((r) => setImmediate(r));

describe('the ingest CPU pool', () => {
  it('extracts and chunks in a worker thread exactly as in process, leaving the caller its bytes', async () => {
    const text = Array.from({ length: 300 }, (_, i) => `Sentence number ${i} about worker threads.`).join(
      ' ',
    );
    const bytes = utf8(text);
    const prepared = await prepareFile(budget, task(bytes, 'a.txt'));
    expect(prepared.chunks).toEqual(chunkText(text, { maxTokens: 100, overlapTokens: 20, pages: null }));
    expect(prepared.extracted).toEqual({ text, pages: null });
    expect(prepared.csv).toBeUndefined();
    expect(bytes.byteLength).toBe(Buffer.byteLength(text)); // copied to the thread, not detached
  });

  it('keeps the codes of files it cannot read', async () => {
    await expect(prepareFile(budget, task(utf8('x'), 'a.exe'))).rejects.toMatchObject({
      code: 'unsupported_file',
    });
    await expect(
      prepareFile(budget, task(new Uint8Array([0xff, 0xfe, 0x00, 0xd8]), 'a.txt')),
    ).rejects.toMatchObject({ code: 'invalid_file' });
  });

  it('fails a file that exhausts the heap budget with invalid_file, and the next file still works', async () => {
    const small = { ...budget, INGEST_FILE_HEAP_MB: 48 };
    await expect(prepareFile(small, task(await heavyDocx(), 'poison.docx'))).rejects.toMatchObject({
      code: 'invalid_file',
      message: expect.stringMatching(/needs more than 48 MB of memory/),
    });
    const next = await prepareFile(small, task(utf8('name,n\nstill alive,1\n'), 'b.csv'));
    expect(next.chunks).toHaveLength(1);
    expect(next.csv?.rows).toEqual([{ name: 'still alive', n: 1 }]);
  });

  it('fails a file that exceeds the time budget with invalid_file', async () => {
    const quick = { ...budget, INGEST_FILE_TIMEOUT_MS: 100 };
    // One 100,000-letter word: seconds of tokenizing, far past 100 ms.
    await expect(prepareFile(quick, task(utf8('a'.repeat(100_000)), 'word.txt'))).rejects.toMatchObject({
      code: 'invalid_file',
      message: expect.stringMatching(/within 0.1 s/),
    });
  });

  it("stops the thread when the caller's signal aborts, with the caller's reason", async () => {
    const stop = new AbortController();
    const running = prepareFile(budget, task(utf8('a'.repeat(100_000)), 'word.txt'), stop.signal);
    stop.abort();
    await expect(running).rejects.toMatchObject({ name: 'AbortError' });
  });
});

// tinypool 2.2 with minThreads 0 starts no replacement for a thread it ends (an aborted task, a thread out of
// memory): tasks queued behind it then waited for ever, and their jobs renewed their leases for ever (#14).
describe('a task stopped on a busy thread does not strand the tasks queued behind it', () => {
  it('in the ingest CPU pool', async () => {
    const one = { ...budget, INGEST_CONCURRENCY: 1 };
    await prepareFile(one, task(utf8('warm'), 'warm.txt')); // the one thread is up and idle
    const stop = new AbortController();
    const slow = prepareFile(one, task(utf8('a'.repeat(100_000)), 'word.txt'), stop.signal);
    const cancel = new AbortController();
    const cancelled = prepareFile(one, task(utf8('never read'), 'cancelled.txt'), cancel.signal);
    const next = prepareFile(one, task(utf8('queued behind it'), 'next.txt'));
    await turn();
    cancel.abort(); // a queued file stopped before it starts
    await expect(cancelled).rejects.toMatchObject({ name: 'AbortError' });
    stop.abort(); // the slow file is on the thread, the next one queued
    await expect(slow).rejects.toMatchObject({ name: 'AbortError' });
    expect((await next).extracted.text).toBe('queued behind it');
  });

  it('in the local embedder', async () => {
    const provider = new LocalEmbeddingProvider(testConfig({ EMBEDDING_DIMENSIONS: '64' }));
    const texts = (tag: string) =>
      Array.from({ length: 300 }, (_, i) => `${tag} ${i} ${'the ledger records each refund '.repeat(30)}`);
    // As many threads as the pool has (one or two), up and idle.
    await Promise.all([provider.embed(texts('warm1')), provider.embed(texts('warm2'))]);
    const stop = new AbortController();
    const stopped = [
      provider.embed(texts('a1'), { signal: stop.signal }),
      provider.embed(texts('a2'), { signal: stop.signal }),
    ];
    const next = provider.embed(texts('b'));
    await turn();
    stop.abort(); // every thread was running a task of the stopped calls
    for (const s of stopped) await expect(s).rejects.toMatchObject({ name: 'AbortError' });
    const result = await next;
    expect(result.embeddings).toEqual(texts('b').map((t) => lexicalEmbedding(t, 64)));
  });
});
