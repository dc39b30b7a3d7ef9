// Each hostile input of issue #14, answered with a clean 4xx (or stored as sent), one test each.
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';

let app: TestApp;
let store: string;
const auth = { authorization: 'Bearer sk-hostile' };

beforeAll(async () => {
  app = await startTestApp({ API_KEYS: 'sk-hostile' });
  store = (await app.client().vectorStores.create({ name: 'hostile' })).id;
});
afterAll(() => app?.close());

async function send(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${app.url}${path}`, {
    method,
    headers: { ...auth, 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, text, json: text ? JSON.parse(text) : null, headers: res.headers };
}

/** A raw multipart body (FormData would clean up what these tests must send as is). */
function form(parts: { name: string; filename?: string; type?: string; value: string | Buffer }[]) {
  const boundary = 'hostileboundary';
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = p.filename
      ? `form-data; name="${p.name}"; ${p.filename}`
      : `form-data; name="${p.name}"`;
    const head = `--${boundary}\r\ncontent-disposition: ${disposition}\r\n${p.type ? `content-type: ${p.type}\r\n` : ''}\r\n`;
    chunks.push(Buffer.from(head, 'latin1'), Buffer.from(p.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

/** Sends a body over node:http and reads the whole answer; a reset (EPIPE, ECONNRESET) rejects. */
function post(path: string, body: Buffer, type: string) {
  return new Promise<{ status: number; json: { error?: { code: string; message: string } } }>(
    (resolve, reject) => {
      const req = request(
        `${app.url}${path}`,
        { method: 'POST', headers: { ...auth, 'content-type': type, 'content-length': body.length } },
        (res) => {
          let text = '';
          res.on('data', (d) => {
            text += d;
          });
          res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      req.end(body);
    },
  );
}

const file = (name = 'a.txt', type = 'text/plain', value = 'hostile input test') =>
  form([
    { name: 'purpose', value: 'assistants' },
    { name: 'file', filename: `filename="${name}"`, type, value },
  ]);

describe('__proto__ and constructor keys', () => {
  it('refuses __proto__ in metadata with 400 naming it, and stores constructor as sent', async () => {
    const refused = await send('POST', '/v1/vector_stores', '{"name":"p","metadata":{"__proto__":"x"}}');
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({ code: 'invalid_request', param: 'metadata.__proto__' });
    const kept = await send(
      'POST',
      '/v1/vector_stores',
      '{"name":"p","metadata":{"constructor":"c","toString":"t"}}',
    );
    expect(kept.status).toBe(200);
    expect(kept.json.metadata).toEqual({ constructor: 'c', toString: 't' });
    const read = await send('GET', `/v1/vector_stores/${kept.json.id}`);
    expect(read.json.metadata).toEqual({ constructor: 'c', toString: 't' });
  });

  it('refuses __proto__ in attributes', async () => {
    const f = await app.client().files.create({ file: new File(['proto'], 'p.txt'), purpose: 'assistants' });
    const refused = await send(
      'POST',
      `/v1/vector_stores/${store}/files`,
      `{"file_id":"${f.id}","attributes":{"__proto__":{"polluted":true}}}`,
    );
    expect(refused.status).toBe(400);
    expect(refused.json.error.param).toBe('attributes.__proto__');
  });

  it('refuses a NUL or __proto__ inside the JSON of a form field on both mounts (never a 500)', async () => {
    const cases = [
      { path: `/v1/vector_stores/${store}/files`, attributes: '{"k":"\\u0000"}' },
      { path: `/v1/vector_stores/${store}/files`, attributes: '{"__proto__":{"k":1}}' },
      { path: `/maia/v1/vector_stores/${store}/files`, attributes: '{"k":"\\u0000"}' },
      { path: `/maia/v1/vector_stores/${store}/files`, attributes: '{"__proto__":{"k":1}}' },
    ];
    for (const c of cases) {
      const body = form([
        { name: 'file', filename: 'filename="n.txt"', type: 'text/plain', value: 'nul in attributes' },
        { name: 'attributes', value: c.attributes },
      ]);
      const res = await send('POST', c.path, body.body as unknown as string, { 'content-type': body.type });
      expect(res.status, `${c.path} ${c.attributes}: ${res.text}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${c.path} ${c.attributes}: ${res.text}`).toBeLessThan(500);
    }
  });

  it('refuses a filter hidden under __proto__ instead of searching unfiltered', async () => {
    const refused = await send(
      'POST',
      `/v1/vector_stores/${store}/search`,
      '{"query":"x","filters":{"type":"and","filters":[{"__proto__":{"type":"eq","key":"a","value":"b"}}]}}',
    );
    expect(refused.status).toBe(400);
    expect(refused.json.error.param).toBe('filters.filters.0.__proto__');
  });
});

describe('header-bound fields are checked at the door', () => {
  for (const [what, type] of [
    ['CR/LF', 'text/plain\r\nx-evil: 1'],
    ['a control character', 'text/plain\u0007'],
    ['non-Latin-1 characters', 'text/plain; charset=日本'],
    ['no subtype', 'text'],
  ] as const) {
    it(`refuses an upload's mime_type with ${what}`, async () => {
      const res = await send(
        'POST',
        '/v1/uploads',
        JSON.stringify({ filename: 'a.txt', purpose: 'assistants', bytes: 5, mime_type: type }),
      );
      expect(res.status).toBe(400);
      expect(res.json.error.param).toBe('mime_type');
    });
  }

  it('keeps only the media type of a file part, and refuses a name holding a control character', async () => {
    // busboy parses the part's Content-Type: parameters (and any junk in them) never reach the store.
    const typed = file('a.txt', 'Text/Plain; x=\u00e9\u00e8');
    const created = (await post('/v1/files', typed.body, typed.type)).json as unknown as { id: string };
    const download = await fetch(`${app.url}/v1/files/${created.id}/content`, { headers: auth });
    expect(download.headers.get('content-type')).toBe('text/plain');
    const encoded = form([
      { name: 'purpose', value: 'assistants' },
      { name: 'file', filename: "filename*=UTF-8''a%07b.txt", type: 'text/plain', value: 'x' },
    ]);
    const res = await post('/v1/files', encoded.body, encoded.type);
    expect(res.status).toBe(400);
    expect(res.json.error!.message).toMatch(/control characters/);
  });

  it('serves a file whose stored type predates the check as octet-stream (never a 500)', async () => {
    const ok = file();
    const created = (await post('/v1/files', ok.body, ok.type)).json as unknown as { id: string };
    await app.db.sql`UPDATE files SET mime_type = ${'text/plain\r\nx: y'} WHERE id = ${created.id}`;
    const res = await fetch(`${app.url}/v1/files/${created.id}/content`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(await res.text()).toBe('hostile input test');
  });
});

describe('multipart limits are enforced while reading, and the 400 arrives', () => {
  it('answers 10,000 fields with 400 before closing the connection (no EPIPE)', async () => {
    const many = form([
      ...Array.from({ length: 10_000 }, (_, i) => ({ name: `f${i}`, value: 'v'.repeat(20) })),
      { name: 'file', filename: 'filename="a.txt"', type: 'text/plain', value: 'x' },
    ]);
    const res = await post('/v1/files', many.body, many.type);
    expect(res.status).toBe(400);
    expect(res.json.error!.message).toMatch(/Too many form (fields|parts)/);
  });

  it('refuses an oversized field that is not the file with 413 (not buffered whole)', async () => {
    const big = form([
      { name: 'junk', value: Buffer.alloc(8 * 1024 * 1024, 'j') },
      { name: 'purpose', value: 'assistants' },
    ]);
    const res = await post('/v1/files', big.body, big.type);
    expect(res.status).toBe(413);
    expect(res.json.error).toMatchObject({ code: 'payload_too_large' });
  });

  it('stores no file part that follows a refusal, even when the body never ends', async () => {
    // The refusal stops the parser; a file part already in the same chunk must not start a write that
    // waits for the rest of a body nobody reads (its temporary file and handle would stay for ever).
    const refused = Buffer.concat([
      form([{ name: 'purpose', value: 'a'.repeat(100_000) }]).body.subarray(
        0,
        -'--hostileboundary--\r\n'.length,
      ),
      Buffer.from(
        '--hostileboundary\r\ncontent-disposition: form-data; name="file"; filename="after.txt"\r\ncontent-type: text/plain\r\n\r\nno end',
      ),
    ]);
    const res = await post('/v1/files', refused, 'multipart/form-data; boundary=hostileboundary');
    expect(res.status).toBe(413);
    // A whole upload afterwards: by its end, a write started for the refused request would hold a temporary file.
    const ok = form([
      { name: 'purpose', value: 'assistants' },
      { name: 'file', filename: 'filename="ok.txt"', type: 'text/plain', value: 'fine' },
    ]);
    expect((await post('/v1/files', ok.body, ok.type)).status).toBe(200);
    expect(listTmp(join(app.config.DATA_DIR, 'files', '.tmp'))).toEqual([]);
  });
});

describe('uploads cut off mid-file', () => {
  it('remove their temporary file at once and count as client errors, not 503', async () => {
    const tmp = join(app.config.DATA_DIR, 'files', '.tmp');
    const before = await metricCount('503');
    const head = form([{ name: 'purpose', value: 'assistants' }]).body.subarray(
      0,
      -'--hostileboundary--\r\n'.length,
    );
    const partial = Buffer.concat([
      head,
      Buffer.from(
        '--hostileboundary\r\ncontent-disposition: form-data; name="file"; filename="cut.txt"\r\n\r\n',
      ),
      Buffer.alloc(256 * 1024, 'c'),
    ]);
    const port = Number(new URL(app.url).port);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `POST /v1/files HTTP/1.1\r\nhost: x\r\nauthorization: ${auth.authorization}\r\ncontent-type: multipart/form-data; boundary=hostileboundary\r\ncontent-length: ${partial.length + 1_000_000}\r\n\r\n`,
        );
        socket.write(partial, () => {
          // Wait until the server holds the temporary file, then vanish mid-body.
          const started = Date.now();
          const poll = () => {
            if (listTmp(tmp).length > 0) {
              socket.destroy();
              resolve();
            } else if (Date.now() - started > 20_000) reject(new Error('no temporary file appeared'));
            else setImmediate(poll);
          };
          poll();
        });
      });
      socket.on('error', () => {});
    });
    await until(() => listTmp(tmp).length === 0, 'the temporary file is removed');
    await until(async () => (await metricCount('400')) > 0, 'the abort is counted as a 400');
    expect(await metricCount('503')).toBe(before);
  });
});

describe('JSON bodies cut off', () => {
  /**
   * Sends a request's head and part of its body, waits until the server has taken the request in (it
   * answers a /health sent after it), then vanishes; resolves when the abort shows in /metrics.
   */
  async function cutOff(head: string, partial: string) {
    const route = '/v1/vector_stores';
    const before = { 400: await metricCount('400', route), 500: await metricCount('500', route) };
    const before503 = await metricCount('503', route);
    const port = Number(new URL(app.url).port);
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    await new Promise<void>((resolve) =>
      socket.write(
        `POST ${route} HTTP/1.1\r\nhost: x\r\nauthorization: ${auth.authorization}\r\ncontent-type: application/json\r\n${head}\r\n${partial}`,
        () => resolve(),
      ),
    );
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
    socket.destroy();
    await until(async () => (await metricCount('400', route)) > before[400], 'the abort is counted as a 400');
    expect(await metricCount('500', route)).toBe(before[500]);
    expect(await metricCount('503', route)).toBe(before503);
  }

  it('with a length: counted as a client error, not 503', async () => {
    await cutOff('content-length: 100000\r\n', '{"name": "cut');
  });

  it('without a length (read whole by the body limit): counted as a client error, not 503', async () => {
    await cutOff('transfer-encoding: chunked\r\n', '9\r\n{"name": \r\n');
  });
});

describe('/v1/embeddings', () => {
  it('refuses one 80,000-letter word before tokenizing it', async () => {
    const res = await send(
      'POST',
      '/v1/embeddings',
      JSON.stringify({ model: 'text-embedding-3-small', input: 'a'.repeat(80_000) }),
    );
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({
      param: 'input',
      message: expect.stringMatching(/run of 80000 characters/),
    });
    // Tokenizing it took 3.3 s on this thread; the refusal comes from the linear scan that runs first (only it
    // names the run's length). How long the loop stalls is the event-loop test's business (second tier).
    const fine = await send(
      'POST',
      '/v1/embeddings',
      JSON.stringify({ model: 'text-embedding-3-small', input: `${'b'.repeat(1500)} and words` }),
    );
    expect(fine.status).toBe(200);
  });
});

const listTmp = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

async function metricCount(status: string, route = '/v1/files'): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`, { headers: auth })).text();
  let n = 0;
  for (const line of text.split('\n')) {
    if (
      line.startsWith('http_requests_total') &&
      line.includes(`route="${route}"`) &&
      line.includes(`status="${status}"`)
    )
      n += Number(line.split(' ').at(-1));
  }
  return n;
}

async function until(check: () => boolean | Promise<boolean>, what: string) {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > 20_000) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}
