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
  try {
    await Promise.race([sql`SELECT 1`, timeout]);
    return { status: 'ok', detail: 'connected' };
  } catch (err) {
    if (enginePing && (err as Error).message?.startsWith('no answer')) {
      const alive = await Promise.race([
        enginePing().then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs)),
      ]);
      if (alive) return { status: 'ok', detail: 'connected (busy: a write holds the embedded engine)' };
    }
    return { status: 'error', detail: (err as Error).message || String((err as { code?: string }).code) };
  } finally {
    clearTimeout(timer);
  }
}
