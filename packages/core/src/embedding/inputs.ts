import { decode } from 'gpt-tokenizer/encoding/cl100k_base';
import { z } from 'zod';

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

/** Texts to embed from any accepted input form (token arrays are decoded with cl100k_base). */
export function inputsToTexts(input: z.infer<typeof EmbeddingCreateParams>['input']): string[] {
  if (typeof input === 'string') return [input];
  if (input.every((x) => typeof x === 'string')) return input as string[];
  if (input.every((x) => typeof x === 'number')) return [decode(input as number[])];
  return (input as number[][]).map((tokens) => decode(tokens));
}

/** OpenAI's base64 encoding: little-endian float32. */
export const toBase64 = (v: number[]) => Buffer.from(new Float32Array(v).buffer).toString('base64');
