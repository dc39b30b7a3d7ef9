import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';

/** One scripted answer; the server plays the script in order, then succeeds. */
export interface FakeStep {
  /** Answer this status with an OpenAI-style error body (a 2xx status means "succeed"). */
  status?: number;
  /** `Retry-After` header value (seconds or an HTTP date). */
  retryAfter?: string;
  /** `retry-after-ms` header value. */
  retryAfterMs?: number;
  /** The error `code` in the body (e.g. 'insufficient_quota'). */
  code?: string;
  /** The error `message` in the body. */
  message?: string;
  /** Never answer this request (until the client gives up or the server closes). */
  hang?: boolean;
  /** Extra latency before this answer, in ms. */
  latencyMs?: number;
  /** Succeed, but with vectors of this length whatever was asked. */
  dimensions?: number;
}

export interface FakeOpenAIOptions {
  /** Latency before every answer, in ms. */
  latencyMs?: number;
  /** Hang on every request. */
  hang?: boolean;
  /** The initial script. */
  script?: FakeStep[];
  /** When set, any other bearer token gets a 401. */
  apiKey?: string;
  /** Vector length when the model has no default and no `dimensions` is sent (default 64). */
  defaultDimensions?: number;
}

export interface FakeCall {
  model: string;
  dimensions: number | undefined;
  encodingFormat: string | undefined;
  inputs: number;
  tokens: number;
  status: number;
}

export interface FakeStats {
  /** Requests received, answered or not. */
  requests: number;
  /** Requests answered with embeddings. */
  succeeded: number;
  /** Inputs per received request, in arrival order. */
  inputsPerRequest: number[];
  /** Tokens of every received input. */
  tokens: number;
  inFlight: number;
  maxInFlight: number;
  /** Chat completion requests (rewrite_query). */
  chatRequests: number;
  calls: FakeCall[];
}

export interface FakeOpenAI {
  /** http://127.0.0.1:port */
  url: string;
  /** url + /v1, for the SDK's baseURL */
  baseURL: string;
  stats: FakeStats;
  setScript(steps: FakeStep[]): void;
  /** Latency (ms) and hang mode for every later request. */
  configure(opts: Pick<FakeOpenAIOptions, 'latencyMs' | 'hang'>): void;
  resetStats(): void;
  /** Resolves as soon as the stats satisfy `pred` (checked on every request's arrival and end): no polling. */
  until(pred: (stats: FakeStats) => boolean): Promise<void>;
  close(): Promise<void>;
}

const MODEL_DIMENSIONS: Record<string, number> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};
const LIMITS = { inputs: 2048, requestTokens: 300_000, inputTokens: 8192 };
const PLAIN = { disallowedSpecial: new Set<string>() };

/** Deterministic unit vector for a text: a SHA-256-seeded xorshift stream, so equal texts get equal vectors. */
export function fakeVector(text: string, dimensions: number): number[] {
  const seed = createHash('sha256').update(text).digest();
  let x = seed.readUInt32LE(0) || 1;
  const v = Array.from({ length: dimensions }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0xffffffff - 0.5;
  });
  const norm = Math.hypot(...v) || 1;
  return v.map((a) => a / norm);
}

/** A real HTTP server on 127.0.0.1 that answers POST /v1/embeddings like OpenAI, with failure knobs. */
export async function startFakeOpenAI(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  let script = [...(opts.script ?? [])];
  let latencyMs = opts.latencyMs ?? 0;
  let hangAll = opts.hang ?? false;
  const stats = emptyStats();
  let waiters: { pred: (s: FakeStats) => boolean; resolve: () => void }[] = [];
  const changed = () => {
    waiters = waiters.filter((w) => {
      if (!w.pred(stats)) return true;
      w.resolve();
      return false;
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, String(err), 'server_error');
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const body = await readBody(req);
    if (req.method === 'POST' && req.url?.replace(/\?.*$/, '').endsWith('/chat/completions')) {
      // Enough of the chat API for rewrite_query: the reply is the user's message in upper case.
      const { messages, model } = JSON.parse(body) as {
        model: string;
        messages: { role: string; content: string }[];
      };
      const prompt = messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
      stats.chatRequests++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-fake',
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model,
          choices: [
            {
              index: 0,
              finish_reason: 'stop',
              message: { role: 'assistant', content: prompt.toUpperCase() },
            },
          ],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
      return;
    }
    if (req.method !== 'POST' || !req.url?.replace(/\?.*$/, '').endsWith('/embeddings')) {
      return sendError(res, 404, `Unknown route ${req.method} ${req.url}`, 'not_found');
    }
    let params: { input?: unknown; model?: unknown; dimensions?: unknown; encoding_format?: unknown };
    try {
      params = JSON.parse(body);
    } catch {
      return sendError(res, 400, 'We could not parse the JSON body of your request.', 'invalid_json');
    }
    const inputs = typeof params.input === 'string' ? [params.input] : params.input;
    const model = String(params.model ?? '');
    const dimensions = typeof params.dimensions === 'number' ? params.dimensions : undefined;
    const encodingFormat = typeof params.encoding_format === 'string' ? params.encoding_format : undefined;
    const texts = Array.isArray(inputs) ? inputs.filter((x): x is string => typeof x === 'string') : [];
    const perInput = texts.map((t) => countTokens(t, PLAIN));
    const tokens = perInput.reduce((a, b) => a + b, 0);
    const call: FakeCall = { model, dimensions, encodingFormat, inputs: texts.length, tokens, status: 0 };
    stats.requests++;
    stats.inputsPerRequest.push(texts.length);
    stats.tokens += tokens;
    stats.calls.push(call);
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    changed();
    let done = false;
    const finish = () => {
      if (!done) stats.inFlight--;
      done = true;
      changed();
    };
    res.on('close', finish);

    const step = script.shift() ?? {};
    const wait = latencyMs + (step.latencyMs ?? 0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (hangAll || step.hang) return; // the socket stays open until the client or close() ends it

    const answer = (status: number, message: string, code?: string, headers?: Record<string, string>) => {
      call.status = status;
      finish();
      sendError(res, status, message, code, headers);
    };
    if (opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      return answer(401, 'Incorrect API key provided: sk-abc***xyz.', 'invalid_api_key');
    }
    if (step.status && (step.status < 200 || step.status > 299)) {
      const headers: Record<string, string> = {};
      if (step.retryAfter !== undefined) headers['retry-after'] = step.retryAfter;
      if (step.retryAfterMs !== undefined) headers['retry-after-ms'] = String(step.retryAfterMs);
      return answer(step.status, step.message ?? `Scripted failure ${step.status}`, step.code, headers);
    }
    if (!Array.isArray(inputs) || texts.length !== inputs.length || texts.length === 0) {
      return answer(400, "'$.input' is invalid: expected a non-empty string or array of strings.");
    }
    if (texts.length > LIMITS.inputs)
      return answer(400, `Too many inputs: ${texts.length} > ${LIMITS.inputs}.`);
    if (tokens > LIMITS.requestTokens) {
      return answer(400, `Requested ${tokens} tokens, max ${LIMITS.requestTokens} tokens per request.`);
    }
    const over = perInput.findIndex((n) => n > LIMITS.inputTokens);
    if (over >= 0) return answer(400, `Input ${over} is over ${LIMITS.inputTokens} tokens.`);
    if (texts.some((t) => t.length === 0)) return answer(400, "'$.input' is invalid: empty string.");
    const natural = MODEL_DIMENSIONS[model];
    if (dimensions !== undefined && !model.startsWith('text-embedding-3-')) {
      return answer(400, 'This model does not support specifying dimensions.');
    }
    const length = step.dimensions ?? dimensions ?? natural ?? opts.defaultDimensions ?? 64;
    const data = texts.map((text, index) => {
      const vector = fakeVector(text, length);
      const embedding =
        encodingFormat === 'base64'
          ? Buffer.from(new Float32Array(vector).buffer).toString('base64')
          : vector;
      return { object: 'embedding', index, embedding };
    });
    // Shuffle (reverse) the order, as the API does not promise it: clients must sort by index.
    data.reverse();
    call.status = 200;
    stats.succeeded++;
    finish();
    sendJson(res, 200, {
      object: 'list',
      data,
      model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    baseURL: `${url}/v1`,
    stats,
    setScript(steps) {
      script = [...steps];
    },
    configure(next) {
      if (next.latencyMs !== undefined) latencyMs = next.latencyMs;
      if (next.hang !== undefined) hangAll = next.hang;
    },
    resetStats() {
      Object.assign(stats, emptyStats(), { inFlight: stats.inFlight });
    },
    until(pred) {
      if (pred(stats)) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function emptyStats(): FakeStats {
  return {
    requests: 0,
    succeeded: 0,
    inputsPerRequest: [],
    tokens: 0,
    inFlight: 0,
    maxInFlight: 0,
    calls: [],
    chatRequests: 0,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  code?: string,
  headers: Record<string, string> = {},
) {
  const type =
    status === 401 ? 'authentication_error' : status === 429 ? 'rate_limit_error' : 'invalid_request_error';
  sendJson(res, status, { error: { message, type, param: null, code: code ?? null } }, headers);
}
