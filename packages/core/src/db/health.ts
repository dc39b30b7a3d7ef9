import type { Sql } from './client.ts';

export interface DatabaseHealth {
  status: 'ok' | 'error';
  detail: string;
}

/**
 * Pings the database within `timeoutMs`; never throws. The embedded engine has one connection, which a large
 * write holds for a while: when `SELECT 1` waits behind it but the engine's thread answers (`enginePing`),
 * the database is busy, not down.
 */
export async function checkDatabase(
  sql: Sql,
  timeoutMs = 2000,
  enginePing?: () => Promise<void>,
): Promise<DatabaseHealth> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  let settled = false;
  const query = sql`SELECT 1`.finally(() => {
    settled = true;
  });
  const never = new Promise<never>(() => {});
  // Still waiting after a moment: ask the engine's thread, which answers between statements.
  const busy = enginePing
    ? new Promise<void>((r) => setTimeout(r, BUSY_AFTER_MS).unref())
        .then(() => (settled ? never : enginePing()))
        .then(() => (settled ? never : ('busy' as const)))
    : never;
  try {
    const answer = await Promise.race([query.then(() => 'ok' as const), busy, timeout]);
    return answer === 'ok'
      ? { status: 'ok', detail: 'connected' }
      : { status: 'ok', detail: 'connected (busy: a write holds the embedded engine)' };
  } catch (err) {
    return { status: 'error', detail: (err as Error).message || String((err as { code?: string }).code) };
  } finally {
    clearTimeout(timer);
  }
}

const BUSY_AFTER_MS = 250;
