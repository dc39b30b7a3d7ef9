import { decode } from 'gpt-tokenizer/encoding/cl100k_base';
import { z } from 'zod';
import { ApiError } from '../errors.ts';
import { countTokens, EMBEDDING_LIMITS } from './pack.ts';

const TokenArray = z.array(z.number().int().min(0).max(200_000)).min(1);

/** POST /v1/embeddings, with OpenAI's input limits (2,048 inputs; the 8,192-token bound is the provider's). */
export const EmbeddingCreateParams = z.object({
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
          ? [decode(input as number[])]
          : (input as number[][]).map((tokens) => decode(tokens));
  let total = 0;
  for (const [i, text] of texts.entries()) {
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

/** OpenAI's base64 encoding: little-endian float32. */
export const toBase64 = (v: number[]) => Buffer.from(new Float32Array(v).buffer).toString('base64');
