import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { EMBEDDING_LIMITS } from '../limits.ts';
import { countTokens, encodePieces } from '../tokenizer.ts';
import { inputsToTexts } from './inputs.ts';

// /v1/embeddings counts up to 300,000 tokens per request: on the request thread, but in slices that give
// the event loop a turn every few milliseconds, with the exact counts and the same 400s.
let seed = 11;
const rand = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const word = () =>
  Array.from({ length: 2 + Math.floor(rand() * 8) }, () =>
    String.fromCharCode(97 + Math.floor(rand() * 26)),
  ).join('');
/** Varied words (the tokenizer's merge cache does not help): about `tokens` tokens. */
const prose = (tokens: number) => {
  const words: string[] = [];
  for (let n = 0; n < tokens; n += 3) words.push(word());
  return words.join(' ');
};

describe('/v1/embeddings input checks', () => {
  it('count exactly, in slices that leave the event loop free', async () => {
    const inputs = Array.from({ length: 40 }, () => prose(7000));
    const started = performance.now();
    const expected = inputs.map((t) => countTokens(t));
    const inPlaceMs = performance.now() - started;
    expect(expected.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(EMBEDDING_LIMITS.maxRequestTokens);

    // Other work of the event loop (a ticker here; other requests in the server) runs in between.
    let turns = 0;
    let counting = true;
    const tick = () => {
      turns++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const loop = monitorEventLoopDelay({ resolution: 2 });
    loop.enable();
    const { texts, tokens } = await inputsToTexts(inputs);
    counting = false;
    loop.disable();
    console.log(
      `input checks: in place ${inPlaceMs.toFixed(0)} ms; sliced, ${turns} turns, loop max ${(loop.max / 1e6).toFixed(1)} ms`,
    );
    expect(texts).toEqual(inputs);
    expect(tokens).toEqual(expected);
    // A turn every 4 ms of counting at most: the count (tens of ms here) gave the loop many.
    expect(turns).toBeGreaterThanOrEqual(Math.min(5, Math.floor(inPlaceMs / 8)));
    expect(turns).toBeGreaterThan(1);
  });

  it('refuse an input over 8,192 tokens and a request over 300,000, and count token arrays by length', async () => {
    await expect(inputsToTexts(['ok', prose(9000)])).rejects.toMatchObject({
      code: 'invalid_request',
      param: 'input',
      message: expect.stringMatching(/^Input 1 has more than 8192 tokens/),
    });
    const many = Array.from({ length: 45 }, () => prose(7000));
    await expect(inputsToTexts(many)).rejects.toMatchObject({
      code: 'invalid_request',
      message: expect.stringMatching(/more than 300000 tokens together/),
    });
    const pieces = [...encodePieces('token arrays are decoded')].flat();
    expect(await inputsToTexts(pieces)).toEqual({
      texts: ['token arrays are decoded'],
      tokens: [pieces.length],
    });
    await expect(inputsToTexts([Array(9000).fill(1)])).rejects.toMatchObject({
      message: expect.stringMatching(/^Input 0 has more than 8192 tokens/),
    });
    await expect(inputsToTexts(`a ${'b'.repeat(80_000)}`)).rejects.toMatchObject({
      message: expect.stringMatching(/run of 80000 characters/),
    });
  });
});
