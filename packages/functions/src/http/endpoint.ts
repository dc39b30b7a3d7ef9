import { ApiError } from '@vsdb/core/errors';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import type { AppEnv } from './env.ts';
import { decodeJson, parseOr400, readBytes } from './validate.ts';

/** `{a}` segments of an OpenAPI path, as the handler's typed `params`. */
type ParamsOf<P extends string> = P extends `${string}{${infer K}}${infer Rest}`
  ? { [key in K]: string } & ParamsOf<Rest>
  : unknown;
type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;
type Reply = z.ZodType | 'binary' | 'text' | 'html';
/** A schema'd response is returned as data (sent as JSON); the others are returned as a Response. */
type Result<R> = R extends z.ZodType ? z.input<R> : Response;

/**
 * One endpoint of the API, in one place: its path, request schemas, response schema, OpenAPI entry and
 * handler. The router and the OpenAPI document are both built from the list of these, so they cannot
 * disagree; the handler's input is the validated request, and its return type is the response schema's.
 */
export interface Endpoint<
  P extends string = string,
  B extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodObject | undefined = z.ZodObject | undefined,
  F extends z.ZodType | undefined = z.ZodType | undefined,
  R extends Reply = Reply,
> {
  method: 'get' | 'post' | 'delete';
  /** The OpenAPI form: `/v1/vector_stores/{vector_store_id}`. */
  path: P;
  /** The OpenAPI operationId, where clients know one (MAIA's are FastAPI's, from its function names). */
  operationId?: string;
  summary: string;
  tag: string;
  /** Reachable without an API key (the OpenAPI entry says `security: []`). */
  public?: boolean;
  /** Status of a successful answer (200 unless said). */
  status?: 200 | 201;
  middleware?: MiddlewareHandler<AppEnv>[];
  query?: Q;
  /** A JSON body, read (bounded by MAX_JSON_BODY_BYTES) and validated before the handler runs. */
  body?: B;
  /** A multipart/form-data body, documented here and streamed by the handler itself (http/form.ts). */
  form?: F;
  response: R;
  handler: (
    c: Context<AppEnv>,
    input: {
      params: ParamsOf<P>;
      query: Infer<Q>;
      /** With `form` too, undefined when the request is multipart. */
      body: F extends z.ZodType ? Infer<B> | undefined : Infer<B>;
    },
  ) => Promise<Result<R>> | Result<R>;
}

/**
 * How a mount reads and validates its requests. The OpenAI dialect answers a 400 naming the first issue; MAIA's
 * (FastAPI's) a 422 naming every one, in its own envelope (maia/dialect.ts). Each mount's error handler then
 * turns what these throw into its envelope.
 */
export interface Dialect {
  /** Validates a value (the query, a decoded JSON body), or throws the dialect's validation error. */
  validate<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query'): z.output<S>;
  /** Decodes a JSON body's bytes (already bounded), or throws the dialect's error for one that is not JSON. */
  decodeJson(c: Context, bytes: ArrayBuffer): unknown;
}

/** The OpenAI dialect's reading of requests (http/validate.ts). */
export const OPENAI_DIALECT: Dialect = { validate: parseOr400, decodeJson };

/** Declares an endpoint (an identity function that keeps its types). */
export const endpoint = <
  P extends string,
  R extends Reply,
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  F extends z.ZodType | undefined = undefined,
>(
  e: Endpoint<P, B, Q, F, R>,
) => e as unknown as Endpoint;

export const isMultipart = (c: Context) => /^multipart\/form-data/i.test(c.req.header('content-type') ?? '');

export const bodyCutOff = () =>
  new ApiError('invalid_request', 'The request body was cut off before it was complete.');

/** The Hono form of an OpenAPI path. */
export const honoPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

/**
 * Registers each endpoint on the app: bound and validate the declared inputs as the dialect does, run the
 * handler, send its answer. A JSON body is bounded by `maxJsonBytes` (multipart bodies are bounded part by
 * part instead).
 */
export function mount(
  app: Hono<AppEnv>,
  endpoints: readonly Endpoint[],
  opts: { maxJsonBytes: number; dialect?: Dialect },
): void {
  const dialect = opts.dialect ?? OPENAI_DIALECT;
  const tooLarge = () => {
    throw new ApiError('payload_too_large', `Request body is larger than ${opts.maxJsonBytes} bytes.`);
  };
  const limit = bodyLimit({ maxSize: opts.maxJsonBytes, onError: tooLarge });
  // A body without a length is read here whole: when the client goes away meanwhile, the stream's error
  // (ECONNRESET, which would read as the database's) is the client's: a 400.
  const jsonLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (isMultipart(c)) return next();
    let reading = true;
    try {
      return await limit(c, () => {
        reading = false;
        return next();
      });
    } catch (err) {
      if (reading && !(err instanceof ApiError)) throw bodyCutOff();
      throw err;
    }
  };
  for (const e of endpoints) {
    const middleware = [...(e.middleware ?? []), ...(e.body ? [jsonLimit] : [])];
    const run: MiddlewareHandler<AppEnv> = async (c) => {
      const query = e.query ? dialect.validate(e.query, c.req.query(), 'query') : undefined;
      const body =
        e.body && !(e.form && isMultipart(c))
          ? dialect.validate(e.body, dialect.decodeJson(c, await readBytes(c.req.raw)), 'body')
          : undefined;
      const out = await e.handler(c, { params: c.req.param() as never, query, body });
      if (out instanceof Response) return out;
      // A handler may set the status itself (c.status) when it depends on the request.
      return e.status ? c.json(out as object, e.status) : c.json(out as object);
    };
    app.on(e.method.toUpperCase(), [honoPath(e.path)], ...middleware, run);
  }
}
