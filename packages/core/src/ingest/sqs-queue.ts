import { z } from 'zod';
import type { JobQueue, JobRef } from './queue.ts';

/** The body of one queue message: it only names a job; the vector_store_files row is the job. */
export const JobMessage = z.object({
  vectorStoreId: z.string().min(1).max(128),
  fileId: z.string().min(1).max(128),
});

/** The job a message names, or an Error saying why the body is not one (a poisoned message). */
export function parseJobMessage(body: string): JobRef {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new Error('message body is not JSON');
  }
  const parsed = JobMessage.safeParse(value);
  if (!parsed.success) throw new Error(`message body is not a job: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

/** What SqsJobQueue needs of an SQS client: SendMessageBatch (tests pass a recording stand-in). */
export interface SqsSender {
  sendBatch(
    queueUrl: string,
    entries: { Id: string; MessageBody: string }[],
  ): Promise<{ Failed?: { Id?: string }[] }>;
}

/** The real sender: @aws-sdk/client-sqs, imported on first use so it stays off the API's cold start. */
export function sqsSender(queueUrl: string, opts: { region?: string } = {}): SqsSender {
  type Sdk = typeof import('@aws-sdk/client-sqs');
  let sdk: Promise<{ m: Sdk; client: InstanceType<Sdk['SQSClient']> }> | undefined;
  return {
    async sendBatch(QueueUrl, Entries) {
      sdk ??= import('@aws-sdk/client-sqs').then((m) => ({
        m,
        // The queue URL names its endpoint (AWS, LocalStack, or a test server).
        client: new m.SQSClient({
          endpoint: new URL(queueUrl).origin,
          ...(opts.region ? { region: opts.region } : {}),
        }),
      }));
      const { m, client } = await sdk;
      return client.send(new m.SendMessageBatchCommand({ QueueUrl, Entries }));
    },
  };
}

const BATCH = 10; // SQS's limit per SendMessageBatch
const IN_FLIGHT = 4;

/** Wakes the worker function through SQS: one message per job, sent ten at a time; failed entries are retried once. */
export class SqsJobQueue implements JobQueue {
  private sender: SqsSender;
  private queueUrl: string;

  constructor(queueUrl: string, sender: SqsSender = sqsSender(queueUrl)) {
    this.queueUrl = queueUrl;
    this.sender = sender;
  }

  async enqueue(jobs: JobRef[]): Promise<void> {
    const batches: JobRef[][] = [];
    for (let i = 0; i < jobs.length; i += BATCH) batches.push(jobs.slice(i, i + BATCH));
    let next = 0;
    const lane = async () => {
      while (next < batches.length) await this.send(batches[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, batches.length) }, lane));
  }

  private async send(batch: JobRef[]): Promise<void> {
    let entries = batch.map((job, i) => ({
      Id: String(i),
      MessageBody: JSON.stringify({ vectorStoreId: job.vectorStoreId, fileId: job.fileId }),
    }));
    for (let attempt = 0; attempt < 2 && entries.length; attempt++) {
      const res = await this.sender.sendBatch(this.queueUrl, entries);
      const failed = new Set((res.Failed ?? []).map((f) => f.Id));
      entries = entries.filter((e) => failed.has(e.Id));
    }
    if (entries.length) throw new Error(`SQS refused ${entries.length} of ${batch.length} ingest messages`);
  }
}
