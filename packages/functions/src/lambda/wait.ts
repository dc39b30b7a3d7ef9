import type { Sql } from '@vsdb/core/db/client';
import type { Logger } from '@vsdb/core/logger';

/**
 * How long the migrator waits for its first connection. On a stage's first deploy RDS Proxy exists before
 * its target is registered and available, which can take well over five minutes after the instance is up.
 */
export const DATABASE_WAIT_MS = 12 * 60_000;
/** Kept back from the invocation's remaining time for the migrations themselves and the answer. */
export const MIGRATE_RESERVE_MS = 2 * 60_000;
const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;

export interface WaitClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}
const realClock: WaitClock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

/** The wait a migrator invocation can afford: DATABASE_WAIT_MS, within its remaining time less the reserve. */
export function waitBudget(remainingMs: number | undefined): number {
  const left = remainingMs === undefined ? Number.POSITIVE_INFINITY : remainingMs - MIGRATE_RESERVE_MS;
  return Math.max(0, Math.min(DATABASE_WAIT_MS, left));
}

/** The pause after the nth failed attempt: doubling from 1 s up to 30 s, with jitter (50-100%). */
export function backoffMs(attempt: number, random = Math.random): number {
  const full = Math.min(FIRST_DELAY_MS * 2 ** (attempt - 1), MAX_DELAY_MS);
  return Math.round(full * (0.5 + random() / 2));
}

/**
 * Retries `SELECT 1` until it answers or `budgetMs` is spent (the last pause is cut to what is left); then
 * throws the last error, saying how long it waited. Returns the number of attempts made.
 */
export async function waitForDatabase(
  sql: Sql,
  log: Logger,
  budgetMs: number,
  clock: WaitClock = realClock,
): Promise<number> {
  const started = clock.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await sql`SELECT 1`;
      return attempt;
    } catch (err) {
      const left = started + budgetMs - clock.now();
      if (left <= 0) {
        const waited = Math.round((clock.now() - started) / 1000);
        throw new Error(
          `Database not reachable after ${waited} s (${attempt} attempts): ${(err as Error).message}`,
          { cause: err },
        );
      }
      const pause = Math.min(backoffMs(attempt), left);
      log.warn('database not reachable yet; retrying', {
        attempt,
        retry_in_ms: pause,
        error: (err as Error).message,
      });
      await clock.sleep(pause);
    }
  }
}
