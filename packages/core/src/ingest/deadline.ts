import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The time by which work done in a request's time must stop (epoch ms): a Lambda request's remaining time
 * less a margin. Unset (a long-running server), work in the request is not bounded by it.
 */
const deadlines = new AsyncLocalStorage<number>();

/** Runs fn with `at` (epoch ms) as the deadline of everything it starts in the caller's time. */
export function withDeadline<T>(at: number, fn: () => T): T {
  return deadlines.run(at, fn);
}

/** The current deadline as a signal that aborts when it passes (already aborted if it has); undefined if none. */
export function deadlineSignal(): { signal: AbortSignal; dispose(): void } | undefined {
  const at = deadlines.getStore();
  if (at === undefined) return undefined;
  const controller = new AbortController();
  const left = at - Date.now();
  if (left <= 0) {
    controller.abort(new Error('request deadline passed'));
    return { signal: controller.signal, dispose: () => {} };
  }
  const timer = setTimeout(() => controller.abort(new Error('request deadline passed')), left);
  return { signal: controller.signal, dispose: () => clearTimeout(timer) };
}
