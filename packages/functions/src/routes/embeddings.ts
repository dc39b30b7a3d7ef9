import { createEmbeddings, EmbeddingList } from '@vsdb/core/embedding/create';
import { EmbeddingCreateParams } from '@vsdb/core/embedding/inputs';
import { endpoint } from '../http/endpoint.ts';

export const embeddingEndpoints = [
  endpoint({
    method: 'post',
    path: '/v1/embeddings',
    summary: 'Create embeddings',
    tag: 'Embeddings',
    body: EmbeddingCreateParams,
    response: EmbeddingList,
    handler: (c, { body }) => createEmbeddings(c.get('deps').embedder, body),
  }),
];
