import type { Context } from 'hono';

/** The SDK's *AndPoll helpers wait this long between polls when told to (5 s otherwise). */
const POLL_AFTER_MS = '300';

/** Tells pollers to come back soon while something is still in progress. */
export function pollHint(c: Context, status: string): void {
  if (status === 'in_progress') c.header('openai-poll-after-ms', POLL_AFTER_MS);
}
