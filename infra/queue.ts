/** Messages that failed MAX_RECEIVES times land here and page someone (infra/alarms.ts); kept 14 days. */
export const deadLetters = new sst.aws.Queue('IngestDlq', {
  transform: { queue: { messageRetentionSeconds: 14 * 24 * 3600 } },
});

export const MAX_RECEIVES = 5;

/** The worker's timeout (infra/functions.ts). */
export const WORKER_TIMEOUT_MINUTES = 5;

/**
 * Wakes the worker: a message only names a job ({vectorStoreId, fileId}). AWS asks for a visibility timeout
 * of at least six times the function's timeout, so a batch Lambda retries (throttling, a cold start, a
 * crash) is not delivered again while it may still run; a job handed back waits that long (or for
 * maintenance's re-queue of a stale lease, whichever comes first).
 */
export const ingestQueue = new sst.aws.Queue('IngestQueue', {
  visibilityTimeout: `${6 * WORKER_TIMEOUT_MINUTES} minutes`,
  dlq: { queue: deadLetters.arn, retry: MAX_RECEIVES },
});
