import { ErrorResponse } from '@vsdb/core/schemas';
import { VERSION } from '@vsdb/core/version';
import { z } from 'zod';
import { type Endpoint, endpoint } from '../http/endpoint.ts';

const schema = (s: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(s, { target: 'draft-2020-12', io, unrepresentable: 'any', cycles: 'ref', reused: 'inline' });

/** What frames a mount's document: its title, where it is served, how callers authenticate, its errors. */
export interface DocumentFrame {
  info: { title: string; description: string };
  servers: { url: string }[];
  securitySchemes: Record<string, Record<string, string>>;
  /** The error envelope, as components/schemas/Error. */
  error: z.ZodType;
  /** The error answers an operation documents, by status (or `default`), with their descriptions. */
  errors: (op: Endpoint) => Record<string, string>;
}

const ERRORS = {
  400: 'Invalid request',
  401: 'Missing or invalid API key',
  404: 'Not found',
  429: 'Rate limited',
  500: 'Server error',
};

/** The OpenAI mount's frame. */
export const OPENAI_FRAME: DocumentFrame = {
  info: {
    title: 'vectordb',
    description: 'OpenAI-compatible Vector Stores API with the MAIA VectorDB dialect.',
  },
  servers: [{ url: '/' }],
  securitySchemes: {
    bearer: { type: 'http', scheme: 'bearer' },
    apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
  },
  error: ErrorResponse,
  errors: () => ERRORS,
};

const MEDIA = {
  binary: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
  text: { 'text/plain': { schema: { type: 'string' } } },
  html: { 'text/html': { schema: { type: 'string' } } },
};

const errorAnswer = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** The OpenAPI 3.1 document of the endpoints, from the same zod schemas that validate their requests. */
export function openApiDocument(
  endpoints: readonly Endpoint[],
  frame: DocumentFrame = OPENAI_FRAME,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of endpoints) {
    const errors = Object.fromEntries(
      Object.entries(frame.errors(op)).map(([code, description]) => [code, errorAnswer(description)]),
    );
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
      ...(op.operationId ? { operationId: op.operationId } : {}),
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
    info: { title: frame.info.title, version: VERSION, description: frame.info.description },
    servers: frame.servers,
    security: Object.keys(frame.securitySchemes).map((name) => ({ [name]: [] })),
    components: { securitySchemes: frame.securitySchemes, schemas: { Error: schema(frame.error, 'output') } },
    paths,
  };
}

/** GET /openapi.json, public: the document of `all` (this endpoint included), built on first request. */
export function openApiEndpoint(
  all: () => readonly Endpoint[],
  tag: string,
  frame?: DocumentFrame,
): Endpoint {
  let cached: Record<string, unknown> | undefined;
  return endpoint({
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    tag,
    public: true,
    response: z.record(z.string(), z.unknown()),
    handler: () => {
      cached ??= openApiDocument(all(), frame);
      return cached;
    },
  });
}
