import { MaiaError } from '@vsdb/core/maia/schemas';
import type { Dialect, Endpoint } from '../http/endpoint.ts';
import { unstorableAt } from '../http/validate.ts';
import type { DocumentFrame } from '../openapi/document.ts';
import { unprocessable } from './errors.ts';

/** MAIA's (FastAPI's) reading of requests: any failure is a 422 naming every offending field. */
export const MAIA_DIALECT: Dialect = {
  validate(schema, value, where) {
    const bad = unstorableAt(value);
    if (bad !== undefined) {
      const message = bad.reserved ? 'this key is reserved' : 'NUL characters are not allowed';
      throw unprocessable(where, [{ path: bad.path ? bad.path.split('.') : [], message }]);
    }
    const result = schema.safeParse(value);
    if (!result.success) throw unprocessable(where, result.error.issues);
    return result.data;
  },
  // FastAPI reads any Content-Type as JSON, and answers a body that is not JSON (an empty one too) with 422.
  decodeJson(_c, bytes) {
    try {
      return JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch {
      throw unprocessable('body', [{ path: [], message: 'JSON decode error' }]);
    }
  },
};

/** FastAPI documents a 422 for every operation that takes input; each also answers MAIA's envelope otherwise. */
const takesInput = (op: Endpoint) => op.path.includes('{') || Boolean(op.query ?? op.body ?? op.form);

/** The frame of /maia/openapi.json, as FastAPI frames MAIA's (`APIKeyHeader` is FastAPI's name for X-API-Key). */
export const MAIA_FRAME: DocumentFrame = {
  info: { title: 'MAIA VectorDB', description: 'The MAIA VectorDB dialect of this service.' },
  servers: [{ url: '/maia' }],
  securitySchemes: { APIKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
  error: MaiaError,
  errors: (op) => ({ ...(takesInput(op) ? { 422: 'Validation Error' } : {}), default: 'Error' }),
};
