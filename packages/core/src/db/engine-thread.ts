// The embedded engine's own thread: PGlite (Postgres in WASM) and its wire server. Its queries never run on
// the thread that answers requests; postgres.js reaches it over loopback like any server.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export type EngineSource = { dataDir?: string; snapshot?: ArrayBuffer };
export type ToEngine =
  | { type: 'dump'; id: number; compression: 'none' | 'gzip' | 'auto' }
  | { type: 'ping'; id: number }
  | { type: 'close' };
export type FromEngine =
  | { type: 'ready'; conn: string }
  | { type: 'dump'; id: number; data: ArrayBuffer }
  | { type: 'pong'; id: number }
  | { type: 'closed' }
  | { type: 'failed'; message: string };

const port = parentPort!;
const source = workerData as EngineSource;
const send = (m: FromEngine, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

try {
  const pg = await PGlite.create({
    ...(source.dataDir ? { dataDir: source.dataDir } : {}),
    ...(source.snapshot ? { loadDataDir: new Blob([source.snapshot]) } : {}),
    extensions: { vector },
  });
  const server = new PGLiteSocketServer({ db: pg, host: '127.0.0.1', port: 0, maxConnections: 4 });
  await server.start();
  port.on('message', async (m: ToEngine) => {
    try {
      if (m.type === 'ping') send({ type: 'pong', id: m.id });
      else if (m.type === 'dump') {
        const data = await (await pg.dumpDataDir(m.compression)).arrayBuffer();
        send({ type: 'dump', id: m.id, data }, [data]);
      } else {
        await server.stop();
        await pg.close();
        send({ type: 'closed' });
        port.close();
      }
    } catch (err) {
      send({ type: 'failed', message: (err as Error).message });
    }
  });
  send({ type: 'ready', conn: server.getServerConn() });
} catch (err) {
  send({ type: 'failed', message: (err as Error).message });
  port.close();
}
