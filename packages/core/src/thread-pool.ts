import Tinypool, { type Options } from 'tinypool';
import { workerExecArgv } from './threads.ts';

export interface PoolRunOptions {
  /** Stops the task (queued: it never starts; running: its thread is ended and replaced). */
  signal?: AbortSignal | null;
  /** Ends the task this long after it got a thread (time spent waiting for one is not counted). */
  timeoutMs?: number;
  transferList?: Transferable[];
}

/** A task's time ran out (`timeoutMs`); its thread was ended. */
export class PoolTimeoutError extends Error {
  override name = 'TimeoutError';
}

/**
 * A tinypool that hands it at most one task per thread, keeping the rest in a queue of its own.
 *
 * tinypool 2.2 loses queued tasks: when a thread goes away (its task aborted, or out of memory), it starts a
 * replacement only up to `minThreads`. With `minThreads: 0` (threads retire when idle, for memory) and every
 * thread gone that way, the tasks in its queue wait until some later `run` happens to start a thread, which
 * may be never: an ingest job then waits for ever, renewing its lease (issue #14). Here a task goes to tinypool
 * only when a thread is free or may be started, so its queue never holds a task no thread will take.
 */
export class ThreadPool {
  /** Every pool not yet destroyed, so that shutdown can end their threads (closeThreadPools). */
  private static readonly live = new Set<ThreadPool>();
  private readonly pool: Tinypool;
  private free: number;
  private readonly waiting: Array<{ start: () => void; signal?: AbortSignal | null }> = [];
  private closed = false;

  constructor(options: Omit<Options, 'maxThreads' | 'minThreads' | 'execArgv'> & { maxThreads: number }) {
    this.free = options.maxThreads;
    this.pool = new Tinypool({ execArgv: workerExecArgv(), ...options, minThreads: 0 });
    ThreadPool.live.add(this);
  }

  /** Ends the threads of every pool (shutdown): running tasks reject, and so do later runs. */
  static async closeAll(): Promise<void> {
    await Promise.all([...ThreadPool.live].map((p) => p.destroy()));
  }

  /** Tasks waiting for a thread (tests). */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(task: unknown, opts: PoolRunOptions = {}): Promise<T> {
    await this.slot(opts.signal);
    try {
      const timeout = opts.timeoutMs === undefined ? undefined : AbortSignal.timeout(opts.timeoutMs);
      const signals = [opts.signal, timeout].filter((s): s is AbortSignal => Boolean(s));
      const signal = signals.length > 1 ? AbortSignal.any(signals) : (signals[0] ?? null);
      try {
        return (await this.pool.run(task, { signal, transferList: opts.transferList as never })) as T;
      } catch (err) {
        if (timeout?.aborted && !opts.signal?.aborted) {
          const timedOut = new PoolTimeoutError(`the task did not finish within ${opts.timeoutMs} ms`);
          timedOut.cause = err;
          throw timedOut;
        }
        throw err;
      }
    } finally {
      this.release();
    }
  }

  /** Ends every thread; queued tasks reject. */
  async destroy(): Promise<void> {
    this.closed = true;
    ThreadPool.live.delete(this);
    for (const w of this.waiting.splice(0)) w.start();
    await this.pool.destroy();
  }

  private slot(signal?: AbortSignal | null): Promise<void> {
    signal?.throwIfAborted();
    if (this.closed) return Promise.reject(new Error('the thread pool is closed'));
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const entry = {
        signal,
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          if (this.closed) reject(new Error('the thread pool is closed'));
          else resolve();
        },
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.start();
    else this.free++;
  }
}
