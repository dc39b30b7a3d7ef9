import { ApiError } from '../errors.ts';
import { saveDerived } from '../maia/derived.ts';
import { metrics } from '../metrics.ts';
import type { Services } from '../services.ts';
import { type ChunkRow, completeJob, discardDrafts } from './chunk-write.ts';
import { prepareFile } from './cpu-pool.ts';
import { embedChunks } from './embed.ts';
import { type ClaimedJob, failJob, releaseJob, renewLease } from './jobs.ts';
import type { JobSlot } from './slots.ts';

/** What running a job needs. */
export type IngestDeps = Pick<Services, 'config' | 'sql' | 'blobs' | 'embedder' | 'logger'> & {
  /** The job's place in its process's slots (slots.ts): none waits for nothing. */
  slot?: JobSlot;
};

/** Attempts after which a job that keeps failing for unexpected reasons is failed for good. */
export const MAX_ATTEMPTS = 3;

/** How long a stopped job's stage may take to end itself before the job is handed back without it. */
const STOP_GRACE_MS = 3000;

export type JobOutcome = 'completed' | 'failed' | 'lost' | 'retry';

/** Cancelled, detached or reclaimed under us: stop without writing. */
class LeaseLost extends Error {}

/** The job ran past INGEST_JOB_TIMEOUT_MS. */
class JobOverdue extends Error {}

/**
 * Runs one claimed job: extract, chunk, embed, then write the chunks as a draft in short transactions and
 * publish them at once (chunk-write.ts). The lease is renewed while it runs and checked between stages and
 * slices, so a cancel or a delete stops it without a trace.
 */
export async function runJob(
  deps: IngestDeps,
  job: ClaimedJob,
  owner: string,
  stop?: AbortSignal,
): Promise<JobOutcome> {
  const started = performance.now();
  const outcome = await runStages(deps, job, owner, stop);
  metrics.inc('ingest_jobs_total', { outcome });
  if (outcome === 'completed')
    metrics.observe('ingest_duration_seconds', {}, (performance.now() - started) / 1000);
  return outcome;
}

async function runStages(
  deps: IngestDeps,
  job: ClaimedJob,
  owner: string,
  stop?: AbortSignal,
): Promise<JobOutcome> {
  const { sql, config } = deps;
  const log = deps.logger.child('ingest');
  const started = performance.now();
  const lease = config.INGEST_LEASE_SECONDS;
  const abort = new AbortController();
  const onStop = () => abort.abort();
  stop?.addEventListener('abort', onStop);
  if (stop?.aborted) abort.abort(); // stopped before it began: hand the job straight back
  const check = async () => {
    if (abort.signal.aborted || !(await renewLease(sql, job, owner, lease))) throw new LeaseLost();
  };
  const renewer = setInterval(
    () => {
      check().catch(() => abort.abort());
    },
    (lease * 1000) / 3,
  );
  const fields = { vector_store_id: job.vectorStoreId, file_id: job.fileId, attempt: job.attempts };
  // A stage that never settles (a read that hangs) must not hold the job's slot, and renew its lease, for
  // ever: past the budget the job is failed and left behind, and when it is stopped it is handed back at
  // once. Whatever the stage still does is harmless: every later write checks that the job is still ours
  // and in progress.
  let overdueTimer: NodeJS.Timeout | undefined;
  const overdue = new Promise<never>((_, reject) => {
    overdueTimer = setTimeout(() => reject(new JobOverdue()), config.INGEST_JOB_TIMEOUT_MS);
  });
  overdue.catch(() => {}); // handled by whichever stage it ends (or by none, when the job is done by then)
  // Stopped (the server shuts down): the stage sees the abort and ends itself, removing what it wrote; one
  // that does not within STOP_GRACE_MS (a read that hangs) is left behind, and the job handed back anyway.
  let graceTimer: NodeJS.Timeout | undefined;
  let giveUp = () => {};
  const stopped = new Promise<never>((_, reject) => {
    giveUp = () => {
      graceTimer = setTimeout(() => reject(new LeaseLost()), STOP_GRACE_MS);
    };
  });
  stopped.catch(() => {});
  if (stop?.aborted) giveUp();
  else stop?.addEventListener('abort', giveUp, { once: true });
  const staged = <T>(stage: Promise<T>): Promise<T> => {
    stage.catch(() => {}); // a stage left behind may reject later
    return Promise.race([stage, overdue, stopped]);
  };
  try {
    if (job.attempts > MAX_ATTEMPTS) {
      const failed = await failJob(sql, job, owner, {
        code: 'server_error',
        message: `Ingestion failed ${MAX_ATTEMPTS} times; attach the file again to retry.`,
      });
      if (failed) await discardDrafts(sql, job); // what crashed attempts left
      return 'failed';
    }
    const bytes = await staged(deps.blobs.get(job.blobKey));
    const { extracted, chunks, csv } = await staged(
      prepareFile(
        config,
        {
          bytes,
          filename: job.filename,
          mimeType: job.mimeType,
          maxTokens: job.chunking.static.max_chunk_size_tokens,
          overlapTokens: job.chunking.static.chunk_overlap_tokens,
        },
        abort.signal,
      ),
    );
    await check();
    // Requests to a provider are waited for (and shared with other files) without a slot; the local
    // embedder computes, so its job keeps the slot.
    if (deps.embedder.kind !== 'local') deps.slot?.embedding();
    const embedded = await staged(embedChunks(sql, deps.embedder, chunks, abort.signal));
    await staged(deps.slot?.write(abort.signal) ?? Promise.resolve());
    await check();
    // Best effort: a cache that could not be written only costs a later upload of the same text its hit.
    await staged(
      embedded
        .cache(sql)
        .catch((err: unknown) =>
          log.warn('could not write the embedding cache', { ...fields, error: (err as Error).message }),
        ),
    );
    const rows: ChunkRow[] = chunks.map((c, i) => ({
      chunk_index: c.index,
      content: c.text,
      tokens: c.tokens,
      page: c.page,
      char_start: c.charStart,
      char_end: c.charEnd,
      embedding: embedded.embeddings[i]!,
    }));
    const usage = chunks.reduce((n, c) => n + Buffer.byteLength(c.text) + config.EMBEDDING_DIMENSIONS * 4, 0);
    // The parsed text (and a CSV's rows) are kept in the transaction that publishes the chunks.
    const done = await staged(
      completeJob(
        sql,
        job,
        owner,
        rows,
        { bytes: usage, tokens: embedded.tokens },
        (tx) =>
          saveDerived(tx, job.fileId, job.filename, extracted, csv).then(() =>
            embedded.remember(tx, job.vectorStoreId),
          ),
        abort.signal,
      ),
    );
    if (!done) throw new LeaseLost();
    log.info('file completed', {
      ...fields,
      chunks: chunks.length,
      cached: embedded.hits,
      ms: Math.round(performance.now() - started),
    });
    return 'completed';
  } catch (err) {
    if (err instanceof JobOverdue) {
      abort.abort();
      const message = `Ingestion did not finish within ${config.INGEST_JOB_TIMEOUT_MS / 1000} s (INGEST_JOB_TIMEOUT_MS); attach the file again to retry.`;
      // A publish that committed meanwhile wins: the job is no longer in progress and stays completed.
      const failed = await failJob(sql, job, owner, { code: 'server_error', message });
      if (!failed) return 'lost';
      await discardDrafts(sql, job);
      log.error('ingest job overdue; failed', { ...fields, ms: Math.round(performance.now() - started) });
      return 'failed';
    }
    if (err instanceof LeaseLost || abort.signal.aborted) {
      if (stop?.aborted) await releaseJob(sql, job, owner).catch(() => {});
      log.info('job stopped: cancelled, detached or handed back', fields);
      return 'lost';
    }
    if (err instanceof ApiError) {
      const code = err.code === 'unsupported_file' || err.code === 'invalid_file' ? err.code : 'server_error';
      if (await failJob(sql, job, owner, { code, message: err.message })) await discardDrafts(sql, job);
      log.warn('file failed', {
        ...fields,
        code,
        reason: err.message,
        ...(err.cause ? { cause: String(err.cause) } : {}),
      });
      return 'failed';
    }
    // Unexpected (database blip, bug): the lease expires and the job is claimed again, up to MAX_ATTEMPTS.
    log.error('ingest job error; will retry', { ...fields, error: err });
    return 'retry';
  } finally {
    clearTimeout(overdueTimer);
    clearTimeout(graceTimer);
    clearInterval(renewer);
    stop?.removeEventListener('abort', onStop);
    stop?.removeEventListener('abort', giveUp);
  }
}
