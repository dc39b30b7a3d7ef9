import type { Sql } from '../db/client.ts';

/** A store's last_active_at moves at most this often: a search is a read, not a write per request. */
export const TOUCH_INTERVAL_MS = 60_000;
const touched = new Map<string, number>();
const pending = new Set<Promise<void>>();

/** Resolves once every touch under way has finished (tests, shutdown). */
export async function touchesSettled(): Promise<void> {
  await Promise.all([...pending]);
}

/**
 * Moves last_active_at (and so an expires_after window) of searched stores, at most once a minute per
 * store and process, without the caller waiting: the write is off the request's path, and the WHERE
 * clause keeps other instances from writing the same minute again. A failed touch is only retried later.
 */
export function touchSoon(sql: Sql, ids: string[], onError: (err: unknown) => void): void {
  const now = Date.now();
  const due = ids.filter((id) => now - (touched.get(id) ?? 0) >= TOUCH_INTERVAL_MS);
  if (due.length === 0) return;
  if (touched.size > 10_000) touched.clear();
  for (const id of due) touched.set(id, now);
  const write = sql`
    UPDATE vector_stores SET last_active_at = now(),
      expires_at = CASE WHEN expires_after IS NULL THEN NULL
                        ELSE now() + make_interval(days => (expires_after->>'days')::int) END
    WHERE id = ANY(${due}::text[]) AND (expires_at IS NULL OR expires_at > now())
      AND last_active_at < now() - make_interval(secs => ${TOUCH_INTERVAL_MS / 1000})`.then(
    () => {},
    (err: unknown) => {
      for (const id of due) touched.delete(id);
      onError(err);
    },
  );
  pending.add(write);
  write.finally(() => pending.delete(write));
}
