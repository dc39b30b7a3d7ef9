import { randomUUID } from 'node:crypto';
import { deadlineSignal } from './deadline.ts';
import { claimJobs, releaseJob } from './jobs.ts';
import { type IngestDeps, type JobOutcome, runJob } from './pipeline.ts';
import type { JobQueue, JobRef, JobRunner } from './queue.ts';

/**
 * Claims the named job's lease and runs it. 'busy' when there is nothing to claim: already done, cancelled,
 * detached, or leased by another worker (which finishes it, or whose lease expires and is re-queued).
 * A job that hit an unexpected error has its lease released, so the next delivery can claim it at once.
 */
export async function runNamedJob(
  deps: IngestDeps,
  job: JobRef,
  owner: string,
  stop?: AbortSignal,
): Promise<JobOutcome | 'busy'> {
  const [claimed] = await claimJobs(deps.sql, owner, deps.config.INGEST_LEASE_SECONDS, 1, job);
  if (!claimed) return 'busy';
  const outcome = await runJob(deps, claimed, owner, stop);
  if (outcome === 'retry') await releaseJob(deps.sql, claimed, owner).catch(() => {});
  return outcome;
}

/**
 * The job runner of a process that cannot keep a worker running (a Lambda container): small sets of jobs
 * run in the caller's time, the rest go to the queue. A job run in the caller's time stops at the request's
 * deadline (withDeadline) and goes to the queue: the caller sees it in_progress and the worker finishes it. A queue that fails is only logged: the jobs are in
 * the database, and maintenance re-queues jobs nobody has claimed.
 */
export class QueueRunner implements JobRunner {
  readonly owner = `runner-${process.pid}-${randomUUID().slice(0, 8)}`;
  private deps: IngestDeps;
  private queue: JobQueue;

  constructor(deps: IngestDeps, queue: JobQueue) {
    this.deps = deps;
    this.queue = queue;
  }

  async runNow(job: JobRef): Promise<JobOutcome | 'busy'> {
    const deadline = deadlineSignal();
    try {
      const outcome = await runNamedJob(this.deps, job, this.owner, deadline?.signal);
      if (outcome === 'retry' || (outcome === 'lost' && deadline?.signal.aborted)) await this.enqueue([job]);
      return outcome;
    } finally {
      deadline?.dispose();
    }
  }

  async enqueue(jobs: JobRef[]): Promise<void> {
    try {
      await this.queue.enqueue(jobs);
    } catch (err) {
      this.deps.logger.child('queue').warn('could not queue ingest jobs; maintenance will re-queue them', {
        jobs: jobs.length,
        error: err,
      });
    }
  }
}
