import type { Sql } from './client.ts';

export interface DatabaseHealth {
  status: 'ok' | 'error';
  detail: string;
}

/** Pings the database within `timeoutMs`; never throws. */
export async function checkDatabase(sql: Sql, timeoutMs = 2000): Promise<DatabaseHealth> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([sql`SELECT 1`, timeout]);
    return { status: 'ok', detail: 'connected' };
  } catch (err) {
    return { status: 'error', detail: (err as Error).message || String((err as { code?: string }).code) };
  } finally {
    clearTimeout(timer);
  }
}
