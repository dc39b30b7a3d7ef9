// Lambda: SQS -> ingest. A message names a job; the job is the vector_store_files row, claimed by its lease.
import { randomUUID } from 'node:crypto';
import { holdEmbeddingsWhile } from '@vsdb/core/ingest/embed';
import { runNamedJob } from '@vsdb/core/ingest/runner';
import { IngestSlots } from '@vsdb/core/ingest/slots';
import { parseJobMessage } from '@vsdb/core/ingest/sqs-queue';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { services } from './lambda/container.ts';
import { withMetrics } from './lambda/metrics.ts';

/** Time kept back before the function's timeout to hand unfinished jobs back (their messages are redelivered). */
const HAND_BACK_MS = 15_000;

/**
 * Runs the named jobs, INGEST_CONCURRENCY at a time outside the embed stage, and reports as failed (for SQS to redeliver, then
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
  // A job waiting for its embeddings holds no slot (slots.ts), so every message of the batch reaches the embed
  // stage and the process's coalescer fills requests across them; it holds its requests while jobs are still
  // to start or extracting, as the local worker's does. Back from them, jobs write at most
  // INGEST_CONCURRENCY at once.
  const slots = new IngestSlots(config.INGEST_CONCURRENCY);
  let wake: () => void = () => {};
  slots.onFree = () => wake();
  holdEmbeddingsWhile(ingest.embedder, () => records.length > 0 || slots.busy > 0);
  const runRecord = async (record: SQSRecord) => {
    const fields = {
      message_id: record.messageId,
      receive_count: record.attributes?.ApproximateReceiveCount,
    };
    if (stop.signal.aborted) {
      failed.push(record.messageId); // out of time: not started, redelivered
      return;
    }
    try {
      const job = parseJobMessage(record.body);
      const slot = slots.enter();
      const outcome = await runNamedJob({ ...ingest, slot }, job, owner, stop.signal).finally(slot.leave);
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
  };
  const running = new Set<Promise<void>>();
  try {
    while (records.length) {
      if (slots.free === 0) {
        // Until a job finishes or starts waiting for its embeddings.
        await Promise.race([...running, new Promise<void>((resolve) => (wake = resolve))]);
        continue;
      }
      const run = runRecord(records.shift()!).finally(() => running.delete(run));
      running.add(run);
    }
    await Promise.all(running);
  } finally {
    holdEmbeddingsWhile(ingest.embedder, () => false);
    clearTimeout(timer);
  }
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
