import type { Sql } from './db/client.ts';

export interface RateDecision {
  allowed: boolean;
  remaining: number;
  /** Seconds until the current window ends. */
  resetSeconds: number;
}

/** Counts requests per key in one-minute windows. */
export interface RateLimiter {
  hit(bucket: string, limitPerMinute: number): Promise<RateDecision>;
}

const windowOf = (now: number) => Math.floor(now / 60_000) * 60_000;

/** One process's own counts: right for `npm start`, where one process serves everything. */
export class MemoryRateLimiter implements RateLimiter {
  private windows = new Map<string, { start: number; count: number }>();

  async hit(bucket: string, limit: number): Promise<RateDecision> {
    const now = Date.now();
    const start = windowOf(now);
    let w = this.windows.get(bucket);
    if (!w || w.start !== start) {
      if (this.windows.size > 50_000) this.windows.clear();
      w = { start, count: 0 };
      this.windows.set(bucket, w);
    }
    w.count += 1;
    return decide(w.count, limit, start + 60_000 - now);
  }
}

/** Counts in Postgres, so Lambda instances that share nothing else share the limit (one upsert per request). */
export class PostgresRateLimiter implements RateLimiter {
  private sql: Sql;

  constructor(sql: Sql) {
    this.sql = sql;
  }

  async hit(bucket: string, limit: number): Promise<RateDecision> {
    const now = Date.now();
    const start = windowOf(now);
    const [row] = await this.sql<{ count: number }[]>`
      INSERT INTO rate_limits (bucket, window_start, count) VALUES (${bucket}, ${new Date(start)}, 1)
      ON CONFLICT (bucket, window_start) DO UPDATE SET count = rate_limits.count + 1
      RETURNING count`;
    return decide(row!.count, limit, start + 60_000 - now);
  }
}

function decide(count: number, limit: number, msLeft: number): RateDecision {
  return {
    allowed: count <= limit,
    remaining: Math.max(0, limit - count),
    resetSeconds: Math.max(1, Math.ceil(msLeft / 1000)),
  };
}

/** Drops finished windows (maintenance). */
export async function purgeRateLimits(sql: Sql): Promise<void> {
  await sql`DELETE FROM rate_limits WHERE window_start < now() - interval '2 minutes'`;
}
