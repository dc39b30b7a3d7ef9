/**
 * Where one job stands, for the slots of its process: a job holds a slot while it reads, extracts and chunks
 * (`preparing`) and while it writes (`writing`); not while it waits for its embeddings, so the files in flight
 * share embedding requests. Back from them (`ready`), it waits for a slot again before it writes: without that,
 * every file of a batch whose embeddings came back in one request wrote at once, and reads queued behind all
 * their transactions (seconds on the embedded engine's one connection; the pool and the store row on a server).
 */
type Phase = 'preparing' | 'embedding' | 'ready' | 'writing';

/** What a running job tells its slots (IngestDeps.slot). */
export interface JobSlot {
  /** The job waits for its embeddings: its slot goes to another job. */
  embedding(): void;
  /** Resolves once the job may write (at most `size` jobs prepare or write at once); rejects on abort. */
  write(signal: AbortSignal): Promise<void>;
}

/** The ingest slots of one process: `size` jobs at once prepare or write, any number wait for embeddings. */
export class IngestSlots {
  private phases = new Map<object, Phase>();
  /** Jobs back from their embeddings, in arrival order, each with what lets it write. */
  private queue: { key: object; grant: () => void }[] = [];

  /** Called when a slot frees (to claim more work). */
  onFree: () => void = () => {};

  private size: number;
  private writers: number;

  /**
   * `writers` bounds the jobs that write at once, below `size`: on the embedded engine (one thread, one
   * connection) two writers are no faster than one, and a read waits behind each one's statement.
   */
  constructor(size: number, writers = size) {
    this.size = size;
    this.writers = Math.min(writers, size);
  }

  private count(...phases: Phase[]): number {
    let n = 0;
    for (const p of this.phases.values()) if (phases.includes(p)) n++;
    return n;
  }

  /** Jobs that may start now: a slot a job back from its embeddings wants is not free. */
  get free(): number {
    return Math.max(this.size - this.count('preparing', 'writing', 'ready'), 0);
  }

  /** Jobs running (holding a slot or not). */
  get jobs(): number {
    return this.phases.size;
  }

  /** Jobs not waiting for embeddings: preparing, or back from them (more jobs start once they end). */
  get busy(): number {
    return this.count('preparing', 'ready', 'writing');
  }

  /** Jobs still reading, extracting or chunking: their inputs are still to come to the embedder. */
  get preparing(): number {
    return this.count('preparing');
  }

  /** A job starts (it takes a slot even past `size`: an inline run does not wait). `leave` when it ends. */
  enter(): JobSlot & { leave(): void } {
    const key = {};
    this.phases.set(key, 'preparing');
    return {
      embedding: () => {
        this.phases.set(key, 'embedding');
        this.handOff();
      },
      write: (signal) =>
        new Promise<void>((resolve, reject) => {
          signal.throwIfAborted();
          const grant = () => {
            signal.removeEventListener('abort', onAbort);
            this.phases.set(key, 'writing');
            resolve();
          };
          const onAbort = () => {
            this.queue = this.queue.filter((q) => q.key !== key);
            reject(signal.reason);
          };
          this.phases.set(key, 'ready');
          signal.addEventListener('abort', onAbort, { once: true });
          this.queue.push({ key, grant });
          this.handOff();
        }),
      leave: () => {
        this.phases.delete(key);
        this.queue = this.queue.filter((q) => q.key !== key);
        this.handOff();
      },
    };
  }

  /** Gives free slots to the jobs back from their embeddings first, then tells the claimer. */
  private handOff(): void {
    while (
      this.queue.length &&
      this.count('preparing', 'writing') < this.size &&
      this.count('writing') < this.writers
    )
      this.queue.shift()!.grant();
    this.onFree();
  }
}
