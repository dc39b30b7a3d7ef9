// Lambda: SQS -> ingest. A message names a job; the job is the vector_store_files row, claimed by its lease.
import { randomUUID } from 'node:crypto';
import { runNamedJob } from '@vsdb/core/ingest/runner';
import { parseJobMessage } from '@vsdb/core/ingest/sqs-queue';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { services } from './lambda/container.ts';
import { withMetrics } from './lambda/metrics.ts';

/** Time kept back before the function's timeout to hand unfinished jobs back (their messages are redelivered). */
const HAND_BACK_MS = 15_000;

/**
 * Runs the named jobs, INGEST_CONCURRENCY at a time, and reports as failed (for SQS to redeliver, then
 * dead-letter) each message that could not be parsed, whose job hit an unexpected error, or that was handed
 * back because time ran out. The other messages of the batch are deleted.
 */
export function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  return withMetrics(() => runBatch(event, context));
}

async function runBatch(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  const ingest = await services('worker');
  const { config, logger } = ingest;
  const log = logger.child('worker');
  const owner = `worker-${context?.awsRequestId ?? randomUUID()}`;
  const stop = new AbortController();
  const left = context?.getRemainingTimeInMillis?.();
  const timer =
    left === undefined ? undefined : setTimeout(() => stop.abort(), Math.max(left - HAND_BACK_MS, 0));
  const failed: string[] = [];
  const records = [...event.Records];
  const lane = async () => {
    for (let record = records.shift(); record; record = records.shift()) {
      const fields = {
        message_id: record.messageId,
        receive_count: record.attributes?.ApproximateReceiveCount,
      };
      if (stop.signal.aborted) {
        failed.push(record.messageId); // out of time: not started, redelivered
        continue;
      }
      try {
        const job = parseJobMessage(record.body);
        const outcome = await runNamedJob(ingest, job, owner, stop.signal);
        log.info('message done', {
          ...fields,
          vector_store_id: job.vectorStoreId,
          file_id: job.fileId,
          outcome,
        });
        if (outcome === 'retry' || (outcome === 'lost' && stop.signal.aborted)) failed.push(record.messageId);
      } catch (err) {
        log.error('message failed', { ...fields, error: err });
        failed.push(record.messageId);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(config.INGEST_CONCURRENCY, records.length) }, lane));
  } finally {
    clearTimeout(timer);
  }
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
