import { EmbeddingCreateParams, inputsToTexts, toBase64 } from '@vsdb/core/embedding/inputs';
import { ApiError } from '@vsdb/core/errors';
import { Hono } from 'hono';
import type { AppEnv } from '../app.ts';
import { readJson } from '../http/validate.ts';

export const embeddingRoutes = new Hono<AppEnv>().post('/', async (c) => {
  const { embedder } = c.get('deps');
  const body = await readJson(c, EmbeddingCreateParams);
  if (embedder.kind === 'local' && body.dimensions !== undefined && body.dimensions !== embedder.dimensions) {
    throw new ApiError(
      'invalid_request',
      `This server embeds with ${embedder.dimensions} dimensions.`,
      'dimensions',
    );
  }
  const result = await embedder.embed(inputsToTexts(body.input), {
    model: embedder.kind === 'openai' ? body.model : undefined,
    dimensions: body.dimensions,
  });
  return c.json({
    object: 'list',
    data: result.embeddings.map((e, index) => ({
      object: 'embedding',
      index,
      embedding: body.encoding_format === 'base64' ? toBase64(e) : e,
    })),
    model: embedder.kind === 'openai' ? body.model : embedder.model,
    usage: { prompt_tokens: result.tokens, total_tokens: result.tokens },
  });
});
