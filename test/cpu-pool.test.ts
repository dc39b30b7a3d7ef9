import { chunkText } from '@vsdb/core/ingest/chunk';
import { closeCpuPool, prepareFile } from '@vsdb/core/ingest/cpu-pool';
import { afterAll, describe, expect, it } from 'vitest';
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

afterAll(() => closeCpuPool());

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
