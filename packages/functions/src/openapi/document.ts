import { ErrorResponse } from '@vsdb/core/schemas';
import { VERSION } from '@vsdb/core/version';
import { z } from 'zod';
import type { Endpoint } from '../http/endpoint.ts';

const schema = (s: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(s, { target: 'draft-2020-12', io, unrepresentable: 'any', cycles: 'ref', reused: 'inline' });

const ERRORS = {
  400: 'Invalid request',
  401: 'Missing or invalid API key',
  404: 'Not found',
  429: 'Rate limited',
  500: 'Server error',
};

const MEDIA = {
  binary: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
  text: { 'text/plain': { schema: { type: 'string' } } },
  html: { 'text/html': { schema: { type: 'string' } } },
};

/** The OpenAPI 3.1 document of the endpoints, from the same zod schemas that validate their requests. */
export function openApiDocument(endpoints: readonly Endpoint[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errors = Object.fromEntries(
    Object.entries(ERRORS).map(([code, description]) => [
      code,
      { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    ]),
  );
  for (const op of endpoints) {
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const query = op.query
      ? Object.entries(op.query.shape).map(([name, s]) => ({
          name,
          in: 'query',
          required: false,
          schema: schema(s as z.ZodType, 'input'),
        }))
      : [];
    const content: Record<string, unknown> = {};
    if (op.body) content['application/json'] = { schema: schema(op.body, 'input') };
    if (op.form) content['multipart/form-data'] = { schema: schema(op.form, 'input') };
    const ok =
      typeof op.response === 'string'
        ? MEDIA[op.response]
        : { 'application/json': { schema: schema(op.response, 'output') } };
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      summary: op.summary,
      tags: [op.tag],
      ...(op.public ? { security: [] } : {}),
      parameters: [...params, ...query],
      ...(Object.keys(content).length ? { requestBody: { required: true, content } } : {}),
      responses: { [op.status ?? 200]: { description: 'OK', content: ok }, ...errors },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'vectordb',
      version: VERSION,
      description: 'OpenAI-compatible Vector Stores API with the MAIA VectorDB dialect.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }, { apiKey: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
      schemas: { Error: schema(ErrorResponse, 'output') },
    },
    paths,
  };
}
