/** One ingest job: a file attached to a store. The row in vector_store_files is the job; this only names it. */
export interface JobRef {
  vectorStoreId: string;
  fileId: string;
}

/** Wakes whoever runs ingest jobs (the in-process worker locally, SQS in production). */
export interface JobQueue {
  enqueue(jobs: JobRef[]): Promise<void>;
}

/** A queue that can also run one job in the caller's time (small uploads finish within their request). */
export interface JobRunner extends JobQueue {
  runNow(job: JobRef): Promise<string>;
}
