import { type Database, openDatabase, POOLER_SAFE_STARTUP } from '@vsdb/core/db/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from './config.ts';
import { engine } from './engine.ts';
import { freshDatabase } from './helpers.ts';
import { TcpProxy } from './tcp-proxy.ts';

// What the service's client says when it connects: PgBouncer refuses a startup packet with any parameter
// beyond a few ("unsupported startup parameter"), RDS Proxy is reported to as well, so the packet may carry
// nothing else. The statement timeout still holds: per transaction, and as the role's default.

const SSL_REQUEST = 80877103;
const PROTOCOL_3 = 196608;

/** The parameters of every startup packet in a client's byte stream (an SSLRequest is skipped). */
function startupParams(stream: Buffer): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  let at = 0;
  while (at + 8 <= stream.length) {
    const len = stream.readInt32BE(at);
    const code = stream.readInt32BE(at + 4);
    if (code === SSL_REQUEST) {
      at += len;
      continue;
    }
    if (code !== PROTOCOL_3) break;
    const parts = stream
      .subarray(at + 8, at + len - 1)
      .toString('utf8')
      .split('\0');
    const params: Record<string, string> = {};
    for (let i = 0; i + 1 < parts.length; i += 2) params[parts[i]!] = parts[i + 1]!;
    out.push(params);
    break; // everything after the startup packet is ordinary protocol traffic
  }
  return out;
}

let target: Database;
let proxy: TcpProxy;
const streams = new Map<number, Buffer>();
let db: Database;

beforeAll(async () => {
  // The same bound for the harness's own client: a pooler's server session keeps the default it started with.
  const config = testConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '4321', DATABASE_POOL_MAX: '3' });
  target = await freshDatabase(config);
  const url = new URL(target.url!);
  let n = 0;
  const seen = new WeakMap<object, number>();
  proxy = new TcpProxy(url.hostname, Number(url.port), (chunk, socket) => {
    if (!seen.has(socket)) seen.set(socket, n++);
    const id = seen.get(socket)!;
    streams.set(id, Buffer.concat([streams.get(id) ?? Buffer.alloc(0), chunk]));
  });
  await proxy.start();
  url.port = String(proxy.port);
  db = await openDatabase({ ...config, DATABASE_URL: url.toString() });
});
afterAll(async () => {
  await db?.close();
  await proxy?.cut();
  await target?.close();
});

describe(`the startup packet (${engine})`, () => {
  it('carries only parameters a transaction pooler accepts, on every connection of the pool', async () => {
    await Promise.all([1, 2, 3].map(() => db.sql.begin((tx) => tx`SELECT pg_sleep(0.05)`)));
    const packets = [...streams.values()].flatMap(startupParams);
    expect(packets.length).toBeGreaterThanOrEqual(2);
    for (const p of packets) {
      expect(
        Object.keys(p).filter((k) => !POOLER_SAFE_STARTUP.includes(k)),
        JSON.stringify(p),
      ).toEqual([]);
      expect(p).not.toHaveProperty('options');
      expect(p).not.toHaveProperty('statement_timeout');
    }
  });

  it('still bounds statements: inside a transaction, and outside one as the role default', async () => {
    const [inside] = await db.sql.begin((tx) => tx`SELECT current_setting('statement_timeout') AS t`);
    expect(inside!.t).toBe('4321ms');
    // PGlite has one backend session for every client connection: no new session reads a role default.
    if (engine === 'pglite') return;
    const shown = await Promise.all([0, 1, 2].map(() => db.sql`SHOW statement_timeout`));
    for (const [row] of shown) expect(row!.statement_timeout).toBe('4321ms');
  });
});
