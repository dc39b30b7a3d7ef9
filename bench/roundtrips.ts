// What one search asks of the database: statements and round trips, counted on the wire.
import { TcpProxy } from '../test/tcp-proxy.ts';
import { type BenchApp, serveThrough } from './db.ts';
import { apiSearch, type ChunkKeys } from './probes.ts';
import { round } from './stats.ts';

/** The frontend message types of one chunk a client sent, e.g. "PDBES" (Parse, Describe, Bind, Execute, Sync). */
function messageTypes(chunk: Buffer): string {
  let out = '';
  for (let i = 0; i + 5 <= chunk.length; i += 1 + chunk.readUInt32BE(i + 1))
    out += String.fromCharCode(chunk[i]!);
  return out;
}

/**
 * Searches through a second app whose database connections pass a loopback proxy that reads what the client
 * sends: per search, the statements (Parse or simple Query messages) and the round trips (the client's
 * writes: each waits for an answer, as searches run one at a time). Native servers only: the embedded
 * engine's single backend serves the app's one connection.
 */
export async function countRoundTrips(
  app: BenchApp,
  store: string,
  queries: Float32Array[],
  keys: ChunkKeys,
) {
  if (app.db.kind !== 'external' || !app.db.url) return null;
  const target = new URL(app.db.url);
  const writes: string[] = [];
  const started = new WeakSet<object>();
  let counting = false;
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432), (chunk, client) => {
    if (!started.has(client)) return void started.add(client); // the startup packet has no type byte
    if (counting) writes.push(messageTypes(chunk));
  });
  await proxy.start();
  const through = new URL(target);
  through.host = `127.0.0.1:${proxy.port}`;
  const server = await serveThrough(app, through.toString());
  try {
    // Warm: connections open, statement types known, the store's last_active_at moved (once a minute).
    for (const q of queries.slice(0, 20)) await apiSearch(server.url, store, q, keys);
    const measured = queries.slice(0, 50);
    counting = true;
    for (const q of measured) await apiSearch(server.url, store, q, keys);
    counting = false;
    const statements = writes.join('').replace(/[^PQ]/g, '').length;
    return {
      searches: measured.length,
      statements_per_search: round(statements / measured.length, 2),
      round_trips_per_search: round(writes.length / measured.length, 2),
      messages: [...new Set(writes)].join(' '),
    };
  } finally {
    await server.close();
    await proxy.cut();
  }
}
