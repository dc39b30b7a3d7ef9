import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../../../test/config.ts';
import { countTokens } from '../tokenizer.ts';
import { closeLocalEmbedder, LocalEmbeddingProvider, lexicalEmbedding } from './local.ts';

// The local embedder does a large batch in its own threads: the calling thread's event loop stays free
// (perf_hooks.monitorEventLoopDelay) while the same work done in place would hold it throughout.
afterAll(() => closeLocalEmbedder());

const texts = Array.from(
  { length: 1500 },
  (_, i) =>
    `Section ${i}: ${'the ledger records each invoice, payment and refund of the office '.repeat(40)}`,
);

describe('the local embedder', () => {
  it('embeds a large batch off the calling thread, with the same vectors and token count', async () => {
    const provider = new LocalEmbeddingProvider(testConfig({ EMBEDDING_DIMENSIONS: '256' }));
    await provider.embed(texts.slice(0, 200)); // the threads start
    const inPlaceStart = performance.now();
    const expected = texts.map((t) => lexicalEmbedding(t, 256));
    const inPlaceMs = performance.now() - inPlaceStart;

    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const result = await provider.embed(texts);
    loop.disable();
    const maxDelayMs = loop.max / 1e6;
    console.log(
      `local embedder: in place ${inPlaceMs.toFixed(0)} ms; off thread, loop max ${maxDelayMs.toFixed(0)} ms`,
    );

    expect(result.embeddings).toEqual(expected);
    expect(result.tokens).toBe(texts.reduce((n, t) => n + countTokens(t), 0));
    // The loop never waited anything like the whole batch's work: each task is a small slice of it.
    expect(maxDelayMs).toBeLessThan(inPlaceMs / 4);
  });

  it('embeds a query in place, the same as in the threads', async () => {
    const provider = new LocalEmbeddingProvider(testConfig({ EMBEDDING_DIMENSIONS: '256' }));
    const [query] = (await provider.embed([texts[3]!.slice(0, 200)])).embeddings;
    expect(query).toEqual(lexicalEmbedding(texts[3]!.slice(0, 200), 256));
  });
});
