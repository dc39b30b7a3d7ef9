import { z } from 'zod';
import { ApiError } from '../errors.ts';
import { EMBEDDING_LIMITS } from '../limits.ts';
import { decodeTokens, encodePieces } from '../tokenizer.ts';

const TokenArray = z.array(z.number().int().min(0).max(200_000)).min(1);

/** POST /v1/embeddings, with OpenAI's input limits (2,048 inputs; the 8,192-token bound is the provider's). */
export const EmbeddingCreateParams = z.strictObject({
  input: z.union([
    z.string().min(1, 'input must not be empty'),
    z.array(z.string().min(1, 'input must not contain empty strings')).min(1).max(2048),
    TokenArray,
    z.array(TokenArray).min(1).max(2048),
  ]),
  model: z.string().min(1).max(256),
  dimensions: z.number().int().min(1).max(4000).optional(),
  encoding_format: z.enum(['float', 'base64']).default('float'),
  user: z.string().max(256).optional(),
});
export type EmbeddingCreateParams = z.infer<typeof EmbeddingCreateParams>;

/** Texts to embed and their cl100k_base token counts. */
export interface CountedInputs {
  texts: string[];
  tokens: number[];
}

/**
 * Texts to embed from any accepted input form (token arrays are decoded with cl100k_base), held to OpenAI's
 * limits whatever the provider: 8,192 tokens per input and 300,000 per request. Counting 300,000 tokens
 * takes a few hundred milliseconds, so it runs in slices of at most SLICE_MS, giving the event loop a turn
 * between them: a request's other work (and every other request) waits at most that long.
 */
export async function inputsToTexts(
  input: z.infer<typeof EmbeddingCreateParams>['input'],
): Promise<CountedInputs> {
  const turns = new Turns();
  if (typeof input !== 'string' && !input.every((x) => typeof x === 'string')) {
    // Token arrays: their lengths are their counts, checked before anything is decoded.
    const arrays = input.every((x) => typeof x === 'number') ? [input as number[]] : (input as number[][]);
    const tokens = arrays.map((a) => a.length);
    checkCounts(tokens);
    const texts: string[] = [];
    for (const a of arrays) {
      texts.push(decodeTokens(a));
      await turns.maybe();
    }
    return { texts, tokens };
  }
  const texts = typeof input === 'string' ? [input] : (input as string[]);
  for (const [i, text] of texts.entries()) {
    // The tokenizer's cost grows with the square of a run's length (an 80,000-letter word took 3 s): refuse
    // such a run before tokenizing anything.
    const run = await longestRunSliced(text, turns);
    if (run > MAX_RUN_CHARS) {
      throw new ApiError(
        'invalid_request',
        `Input ${i} has a run of ${run} characters without a break (letters, spaces or punctuation); at most ${MAX_RUN_CHARS} are accepted.`,
        'input',
      );
    }
  }
  const tokens: number[] = [];
  let total = 0;
  for (const text of texts) {
    let n = 0;
    let pieces = 0;
    // One pre-tokenizer piece at a time (pieces are encoded independently, so the sum is the exact count);
    // past the request's limit there is nothing left to learn.
    for (const piece of encodePieces(text)) {
      n += piece.length;
      if ((++pieces & 7) === 0) await turns.maybe();
      if (n > EMBEDDING_LIMITS.maxInputTokens || total + n > EMBEDDING_LIMITS.maxRequestTokens) break;
    }
    tokens.push(n);
    total += n;
    checkCounts(tokens);
    await turns.maybe();
  }
  return { texts, tokens };
}

/** Throws the 400 for the first input over the per-input limit, or for a total over the request's. */
function checkCounts(tokens: number[]): void {
  let total = 0;
  for (const [i, n] of tokens.entries()) {
    if (n > EMBEDDING_LIMITS.maxInputTokens) {
      throw new ApiError(
        'invalid_request',
        `Input ${i} has more than ${EMBEDDING_LIMITS.maxInputTokens} tokens; the maximum is ${EMBEDDING_LIMITS.maxInputTokens} per input.`,
        'input',
      );
    }
    total += n;
  }
  if (total > EMBEDDING_LIMITS.maxRequestTokens) {
    throw new ApiError(
      'invalid_request',
      `The inputs have more than ${EMBEDDING_LIMITS.maxRequestTokens} tokens together; the maximum is ${EMBEDDING_LIMITS.maxRequestTokens} per request.`,
      'input',
    );
  }
}

/** The longest a request's checks hold the event loop at once, in ms. */
const SLICE_MS = 4;

/** Gives the event loop a turn once the caller has held it SLICE_MS since the last one. */
class Turns {
  private since = performance.now();
  async maybe(): Promise<void> {
    if (performance.now() - this.since < SLICE_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.since = performance.now();
  }
}

/** longestRun over a long text, 64 K characters at a time between turns of the event loop. */
async function longestRunSliced(text: string, turns: Turns): Promise<number> {
  const scan = new RunScanner();
  for (let at = 0; at < text.length; at += 65_536) {
    scan.feed(text, at, Math.min(text.length, at + 65_536));
    await turns.maybe();
  }
  return scan.longest;
}

/** The longest run of one character class the tokenizer keeps in one piece that is accepted. */
export const MAX_RUN_CHARS = 2000;

const LETTER = 0;
const SPACE = 1;
const PUNCT = 2;
const DIGIT = 3;

function classOf(c: number): number {
  if (c === 32 || (c >= 9 && c <= 13)) return SPACE;
  if (c >= 48 && c <= 57) return DIGIT;
  if (c < 128) return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? LETTER : PUNCT;
  // General punctuation (and its spaces), CJK punctuation, full-width ASCII punctuation: they break runs.
  if ((c >= 0x2000 && c <= 0x206f) || (c >= 0x3000 && c <= 0x303f) || (c >= 0xff00 && c <= 0xff20))
    return PUNCT;
  return LETTER; // everything else beyond ASCII
}

/** Length of the longest run of letters, of spaces or of punctuation (digits split every 3), in one pass. */
export function longestRun(text: string): number {
  const scan = new RunScanner();
  scan.feed(text, 0, text.length);
  return scan.longest;
}

/** longestRun fed a text in consecutive pieces. */
class RunScanner {
  longest = 0;
  private run = 0;
  private prev = -1;
  feed(text: string, from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const k = classOf(text.charCodeAt(i));
      this.run = k === this.prev && k !== DIGIT ? this.run + 1 : 1;
      this.prev = k;
      if (this.run > this.longest) this.longest = this.run;
    }
  }
}

/** OpenAI's base64 encoding: little-endian float32. */
export const toBase64 = (v: number[]) => Buffer.from(new Float32Array(v).buffer).toString('base64');
