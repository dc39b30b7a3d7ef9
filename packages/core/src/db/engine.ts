import { Worker } from 'node:worker_threads';
import { workerExecArgv } from '../threads.ts';
import type { EngineSource, FromEngine, ToEngine } from './engine-thread.ts';

export interface EngineHandle {
  /** host:port of the wire server on loopback. */
  conn: string;
  /** The whole data directory as a tarball (tests and the bench restore it instead of migrating). */
  dump(compression?: 'none' | 'gzip' | 'auto'): Promise<Blob>;
  /**
   * Resolves when the engine's thread answers: between two statements, so promptly even while a long
   * transaction holds the one connection (which a `SELECT 1` would wait behind).
   */
  ping(): Promise<void>;
  /** Closes the wire server and PGlite (flushing every write), then ends the thread. */
  close(): Promise<void>;
}

/** Starts PGlite and its wire server in a worker thread of their own; resolves once it listens. */
export function startEngine(source: { dataDir?: string; snapshot?: Blob }): Promise<EngineHandle> {
  return (async () => {
    const data: EngineSource = { dataDir: source.dataDir };
    if (source.snapshot) data.snapshot = await source.snapshot.arrayBuffer();
    const worker = new Worker(new URL('./engine-thread.ts', import.meta.url), {
      workerData: data,
      transferList: data.snapshot ? [data.snapshot] : [],
      execArgv: workerExecArgv(),
    });
    const pending = new Map<number, { resolve: (b: Blob) => void; reject: (e: Error) => void }>();
    const pongs = new Map<number, () => void>();
    let nextId = 0;
    let onClosed: (() => void) | undefined;
    let exited = false;
    const failAll = (error: Error) => {
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    };
    const conn = await new Promise<string>((resolve, reject) => {
      worker.on('message', (m: FromEngine) => {
        if (m.type === 'ready') resolve(m.conn);
        else if (m.type === 'pong') {
          pongs.get(m.id)?.();
          pongs.delete(m.id);
        } else if (m.type === 'dump') {
          pending.get(m.id)?.resolve(new Blob([m.data]));
          pending.delete(m.id);
        } else if (m.type === 'closed') onClosed?.();
        else {
          const error = new Error(`embedded database: ${m.message}`);
          reject(error);
          failAll(error);
        }
      });
      worker.on('error', (err) => {
        reject(err);
        failAll(err);
      });
      worker.on('exit', (code) => {
        exited = true;
        const error = new Error(`the embedded database thread exited (code ${code})`);
        reject(error);
        failAll(error);
        onClosed?.();
      });
    });
    const post = (m: ToEngine) => worker.postMessage(m);
    let closing: Promise<void> | undefined;
    return {
      conn,
      dump: (compression = 'auto') =>
        new Promise<Blob>((resolve, reject) => {
          const id = nextId++;
          pending.set(id, { resolve, reject });
          post({ type: 'dump', id, compression });
        }),
      ping: () =>
        exited
          ? Promise.reject(new Error('the embedded database thread has exited'))
          : new Promise<void>((resolve) => {
              const id = nextId++;
              pongs.set(id, resolve);
              post({ type: 'ping', id });
            }),
      close: () => {
        closing ??= exited
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              onClosed = resolve;
              post({ type: 'close' });
            });
        return closing;
      },
    };
  })();
}
