import { randomUUID } from 'node:crypto';
import { holdEmbeddingsWhile } from './embed.ts';
import { type ClaimedJob, claimJobs } from './jobs.ts';
import { type IngestDeps, type JobOutcome, runJob } from './pipeline.ts';
import type { JobQueue, JobRef } from './queue.ts';
import { IngestSlots } from './slots.ts';

/** How many jobs per ingest slot may wait for embeddings at once. */
const MAX_WAITING_PER_SLOT = 128;

const jobKey = (job: JobRef) => `${job.vectorStoreId}/${job.fileId}`;

/**
 * The in-process worker pool of the local server: at most `concurrency` jobs extracting, chunking or writing
 * at once (slots.ts: jobs waiting for their embeddings do not count, so their requests can be shared), woken by enqueue and
 * polling now and then for expired leases. The database, not this object, knows which jobs exist.
 */
export class IngestWorker implements JobQueue {
  readonly owner = `local-${process.pid}-${randomUUID().slice(0, 8)}`;
  private deps: IngestDeps;
  private concurrency: number;
  private pollMs: number;
  private active = new Set<Promise<unknown>>();
  /** The jobs this pool is running, so an inline request can wait for one the pool claimed first. */
  private byJob = new Map<string, Promise<JobOutcome>>();
  private running = false;
  private stopping = new AbortController();
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private loopDone: Promise<void> | undefined;

  private slots: IngestSlots;
  private claiming = false;

  constructor(deps: IngestDeps, opts: { concurrency: number; writers?: number; pollMs?: number }) {
    this.deps = deps;
    this.slots = new IngestSlots(opts.concurrency, opts.writers);
    this.slots.onFree = () => this.wake();
    // Jobs still extracting or chunking will want embeddings too, and so will the jobs claimed once the
    // writers free their slots: the requests wait for them (up to the coalescer's bound).
    holdEmbeddingsWhile(deps.embedder, () => this.slots.busy > 0 || this.claiming);
    this.concurrency = opts.concurrency;
    this.pollMs = opts.pollMs ?? 2000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  async enqueue(_jobs: JobRef[]): Promise<void> {
    this.wake();
  }

  /**
   * Runs one job now, in the caller's time (small inline uploads). If this pool claimed it first, waits for
   * that run instead; 'busy' only when another process holds it.
   */
  async runNow(job: JobRef): Promise<JobOutcome | 'busy'> {
    const [claimed] = await claimJobs(
      this.deps.sql,
      this.owner,
      this.deps.config.INGEST_LEASE_SECONDS,
      1,
      job,
    );
    if (claimed) return this.run(claimed);
    // The loop may have claimed it a moment ago and not registered it yet.
    for (let i = 0; i < 5; i++) {
      const running = this.byJob.get(jobKey(job));
      if (running) return running;
      await new Promise((r) => setTimeout(r, 10));
    }
    return 'busy';
  }

  /** Stops claiming, hands running jobs back (their leases are released) and waits for them. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    this.wake();
    await this.loopDone;
    await Promise.allSettled(this.active);
  }

  /** Resolves when no job is running or runnable (tests). */
  async idle(): Promise<void> {
    for (;;) {
      while (this.active.size) await Promise.allSettled(this.active);
      // A lease of ours may belong to a job whose claim has not been tracked yet: not idle.
      const [row] = await this.deps.sql`
        SELECT count(*)::int AS n FROM vector_store_files
        WHERE status = 'in_progress'
          AND (lease_expires_at IS NULL OR lease_expires_at < now() OR lease_owner = ${this.owner})`;
      if (!row?.n && !this.active.size) return;
      this.wake();
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Runs a claimed job in a slot of this pool, tracked until it ends. */
  private run(job: ClaimedJob): Promise<JobOutcome> {
    const slot = this.slots.enter();
    const p = runJob({ ...this.deps, slot }, job, this.owner, this.stopping.signal);
    const key = jobKey(job);
    this.active.add(p);
    this.byJob.set(key, p);
    p.finally(() => {
      slot.leave();
      this.active.delete(p);
      if (this.byJob.get(key) === p) this.byJob.delete(key);
      this.wake();
    }).catch(() => {});
    return p;
  }

  private async loop(): Promise<void> {
    const log = this.deps.logger.child('worker');
    while (this.running) {
      // Waiting jobs free their slot, up to a bound on the leases one process holds.
      const free = Math.min(this.slots.free, this.concurrency * MAX_WAITING_PER_SLOT - this.slots.jobs);
      let claimed = 0;
      if (free > 0) {
        this.claiming = true;
        try {
          const jobs = await claimJobs(
            this.deps.sql,
            this.owner,
            this.deps.config.INGEST_LEASE_SECONDS,
            free,
          ).finally(() => {
            this.claiming = false;
          });
          claimed = jobs.length;
          for (const job of jobs) this.run(job);
        } catch (err) {
          log.warn('could not claim ingest jobs', { error: (err as Error).message });
        }
      }
      if ((claimed > 0 && claimed === free) || this.woken) {
        this.woken = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.pollMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
      this.woken = false;
    }
  }
}
