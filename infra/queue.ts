/** Messages that failed MAX_RECEIVES times land here and page someone (infra/alarms.ts); kept 14 days. */
export const deadLetters = new sst.aws.Queue('IngestDlq', {
  transform: { queue: { messageRetentionSeconds: 14 * 24 * 3600 } },
});

export const MAX_RECEIVES = 5;

/**
 * Wakes the worker: a message only names a job ({vectorStoreId, fileId}). The visibility timeout exceeds the
 * worker's timeout (infra/functions.ts), so a message is not delivered twice while its batch still runs.
 */
export const ingestQueue = new sst.aws.Queue('IngestQueue', {
  visibilityTimeout: '6 minutes',
  dlq: { queue: deadLetters.arn, retry: MAX_RECEIVES },
});
