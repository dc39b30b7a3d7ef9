import { z } from 'zod';
import { ApiError } from '../errors.ts';
import { EMBEDDING_LIMITS } from '../limits.ts';
import { countTokens, decodeTokens } from '../tokenizer.ts';

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

/**
 * Texts to embed from any accepted input form (token arrays are decoded with cl100k_base), held to OpenAI's
 * limits whatever the provider: 8,192 tokens per input and 300,000 per request.
 */
export function inputsToTexts(input: z.infer<typeof EmbeddingCreateParams>['input']): string[] {
  const texts =
    typeof input === 'string'
      ? [input]
      : input.every((x) => typeof x === 'string')
        ? (input as string[])
        : input.every((x) => typeof x === 'number')
          ? [decodeTokens(input as number[])]
          : (input as number[][]).map((tokens) => decodeTokens(tokens));
  let total = 0;
  for (const [i, text] of texts.entries()) {
    // The tokenizer's cost grows with the square of a run's length (an 80,000-letter word took 3 s): refuse
    // such a run before tokenizing anything.
    const run = longestRun(text);
    if (run > MAX_RUN_CHARS) {
      throw new ApiError(
        'invalid_request',
        `Input ${i} has a run of ${run} characters without a break (letters, spaces or punctuation); at most ${MAX_RUN_CHARS} are accepted.`,
        'input',
      );
    }
    const tokens = countTokens(text);
    if (tokens > EMBEDDING_LIMITS.maxInputTokens) {
      throw new ApiError(
        'invalid_request',
        `Input ${i} has ${tokens} tokens; the maximum is ${EMBEDDING_LIMITS.maxInputTokens} per input.`,
        'input',
      );
    }
    total += tokens;
  }
  if (total > EMBEDDING_LIMITS.maxRequestTokens) {
    throw new ApiError(
      'invalid_request',
      `The inputs have ${total} tokens together; the maximum is ${EMBEDDING_LIMITS.maxRequestTokens} per request.`,
      'input',
    );
  }
  return texts;
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
  let longest = 0;
  let run = 0;
  let prev = -1;
  for (let i = 0; i < text.length; i++) {
    const k = classOf(text.charCodeAt(i));
    run = k === prev && k !== DIGIT ? run + 1 : 1;
    prev = k;
    if (run > longest) longest = run;
  }
  return longest;
}

/** OpenAI's base64 encoding: little-endian float32. */
export const toBase64 = (v: number[]) => Buffer.from(new Float32Array(v).buffer).toString('base64');
