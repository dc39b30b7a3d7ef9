/** How long to wait between attempts. */
export interface BackoffPolicy {
  /** The first step; each further retry doubles it. */
  baseMs: number;
  /** The cap on one step (not on a server's Retry-After). */
  maxMs: number;
  /** [0, 1); injectable so tests can pin the jitter. */
  random: () => number;
}

/** Exponential backoff with full jitter (uniform in [0, min(max, base * 2^retry))), retry counted from 0. */
export function backoffDelay(retry: number, policy: BackoffPolicy): number {
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** retry);
  return Math.floor(policy.random() * cap);
}

/** Milliseconds a server asked us to wait: `retry-after-ms`, else `Retry-After` in seconds or as an HTTP date. */
export function parseRetryAfter(headers: Headers | undefined | null, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms')?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  // Date.parse reads bare numbers such as "-1" as years: an HTTP date always names a day and month.
  const at = /[a-z]/i.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
