import { z } from 'zod';
import { ApiError } from '../errors.ts';
import { type EmbeddingCreateParams, inputsToTexts, toBase64 } from './inputs.ts';
import type { EmbeddingProvider } from './provider.ts';

export const EmbeddingList = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({
      object: z.literal('embedding'),
      index: z.number().int(),
      embedding: z.union([z.array(z.number()), z.string().describe('base64 little-endian float32')]),
    }),
  ),
  model: z.string(),
  usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
});
export type EmbeddingList = z.infer<typeof EmbeddingList>;

/** POST /v1/embeddings with the server's provider (the offline one has one model and one size). */
export async function createEmbeddings(
  embedder: EmbeddingProvider,
  p: EmbeddingCreateParams,
): Promise<EmbeddingList> {
  if (embedder.kind === 'local' && p.dimensions !== undefined && p.dimensions !== embedder.dimensions) {
    throw new ApiError(
      'invalid_request',
      `This server embeds with ${embedder.dimensions} dimensions.`,
      'dimensions',
    );
  }
  const { texts, tokens } = await inputsToTexts(p.input);
  const result = await embedder.embed(texts, {
    tokens,
    model: embedder.kind === 'openai' ? p.model : undefined,
    dimensions: p.dimensions,
  });
  return {
    object: 'list',
    data: result.embeddings.map((e, index) => ({
      object: 'embedding',
      index,
      embedding: p.encoding_format === 'base64' ? toBase64(e) : e,
    })),
    model: embedder.kind === 'openai' ? p.model : embedder.model,
    usage: { prompt_tokens: result.tokens, total_tokens: result.tokens },
  };
}
