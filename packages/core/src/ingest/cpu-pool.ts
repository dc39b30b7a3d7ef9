import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.ts';
import { ApiError } from '../errors.ts';
import { PoolTimeoutError, ThreadPool } from '../thread-pool.ts';
import type { Prepared, PrepareResult, PrepareTask } from './cpu-task.ts';

export type CpuBudget = Pick<Config, 'INGEST_CONCURRENCY' | 'INGEST_FILE_TIMEOUT_MS' | 'INGEST_FILE_HEAP_MB'>;

/** The worker's module: the source file, or the bundle's `ingest-task.mjs` beside (or above) this chunk. */
function taskFile(): string {
  const candidates = ['./cpu-task.ts', './ingest-task.mjs', '../ingest-task.mjs'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  const found = candidates.find((f) => existsSync(f));
  if (!found) throw new Error(`the ingest worker module is missing (looked for ${candidates.join(', ')})`);
  return found;
}

let pool: ThreadPool | undefined;
let poolKey = '';

function poolFor(budget: CpuBudget): ThreadPool {
  const key = `${budget.INGEST_CONCURRENCY}/${budget.INGEST_FILE_HEAP_MB}`;
  if (pool && poolKey === key) return pool;
  void pool?.destroy();
  poolKey = key;
  pool = new ThreadPool({
    filename: taskFile(),
    maxThreads: budget.INGEST_CONCURRENCY,
    // Idle threads go away (each holds the parsers and tokenizer tables): idle memory stays low.
    idleTimeout: 30_000,
    resourceLimits: {
      maxOldGenerationSizeMb: budget.INGEST_FILE_HEAP_MB,
      maxYoungGenerationSizeMb: Math.min(64, Math.max(8, budget.INGEST_FILE_HEAP_MB / 8)),
    },
  });
  return pool;
}

/**
 * Extracts and chunks one file (and parses a CSV's rows) in the worker pool, within the time and heap budget of one file. A file that
 * exceeds either (or crashes its thread) fails with `invalid_file`; the thread is replaced, the process lives.
 * When `signal` aborts (the job was cancelled or handed back), the thread is stopped and the AbortError thrown.
 */
export async function prepareFile(
  budget: CpuBudget,
  task: PrepareTask,
  signal?: AbortSignal,
): Promise<Prepared> {
  // Hand the thread its own copy of the bytes (moved, not cloned): the caller's buffer may be shared.
  const bytes = new Uint8Array(task.bytes); // a copy (Buffer#slice would be a view)
  let result: PrepareResult;
  try {
    // The file's time starts when it gets a thread, not while it waits for one.
    result = await poolFor(budget).run<PrepareResult>({ ...task, bytes } satisfies PrepareTask, {
      signal,
      timeoutMs: budget.INGEST_FILE_TIMEOUT_MS,
      transferList: [bytes.buffer as ArrayBuffer],
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    const timedOut = err instanceof PoolTimeoutError;
    const failed = new ApiError('invalid_file', budgetMessage(task.filename, budget, err, timedOut));
    failed.cause = err;
    throw failed;
  }
  if (!result.ok) throw new ApiError(result.code, result.message);
  const { ok: _, ...prepared } = result;
  return prepared;
}

function budgetMessage(filename: string, budget: CpuBudget, err: unknown, timedOut: boolean): string {
  if (timedOut) {
    return `'${filename}' could not be read within ${budget.INGEST_FILE_TIMEOUT_MS / 1000} s (the time allowed for one file); split it into smaller files.`;
  }
  if ((err as { code?: string })?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return `'${filename}' needs more than ${budget.INGEST_FILE_HEAP_MB} MB of memory to read (the limit for one file); split it into smaller files.`;
  }
  return `'${filename}' could not be read: its reader stopped unexpectedly.`;
}

/** Stops the pool's threads (shutdown, tests). */
export async function closeCpuPool(): Promise<void> {
  const p = pool;
  pool = undefined;
  poolKey = '';
  await p?.destroy();
}
