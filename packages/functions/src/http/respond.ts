import type { Config } from '@vsdb/core/config';
import type { Context } from 'hono';

/** The SDK's *AndPoll helpers wait this long between polls when told to (5 s otherwise). */
const POLL_AFTER_MS = '300';

/** Tells pollers to come back soon while something is still in progress. */
export function pollHint<C extends Context>(c: C, status: string): C {
  if (status === 'in_progress') c.header('openai-poll-after-ms', POLL_AFTER_MS);
  return c;
}

/** The chunk sizes a strategy of `auto` (or none) stands for. */
export const chunkDefaults = (config: Config) => ({
  maxTokens: config.CHUNK_SIZE,
  overlapTokens: config.CHUNK_OVERLAP,
});
