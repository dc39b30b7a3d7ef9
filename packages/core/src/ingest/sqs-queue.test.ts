import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeAws, fakeAwsEnv, startFakeAws } from '../../../../test/fake-aws.ts';
import { parseJobMessage, SqsJobQueue, type SqsSender, sqsSender } from './sqs-queue.ts';

const jobs = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ vectorStoreId: 'vs_1', fileId: `file-${i}` }));

describe('SqsJobQueue', () => {
  it('sends one message per job, ten per batch, and retries the entries SQS failed once', async () => {
    const sent: string[][] = [];
    let failFirst = 2;
    const sender: SqsSender = {
      sendBatch: async (_url, entries) => {
        sent.push(entries.map((e) => e.MessageBody));
        const failed = entries.slice(0, failFirst).map((e) => ({ Id: e.Id, Code: 'x', SenderFault: false }));
        failFirst = 0;
        return { Successful: [], Failed: failed, $metadata: {} };
      },
    };
    await new SqsJobQueue('https://sqs.example/1/q', sender).enqueue(jobs(23));
    expect(sent.map((b) => b.length).sort((a, b) => a - b)).toEqual([2, 3, 10, 10]);
    const bodies = sent.flat().map(parseJobMessage);
    expect(new Set(bodies.map((b) => b.fileId)).size).toBe(23);
  });

  it('throws when SQS keeps failing an entry', async () => {
    const sender: SqsSender = {
      sendBatch: async (_url, entries) => ({
        Failed: entries.map((e) => ({ Id: e.Id, Code: 'x', SenderFault: false })),
        $metadata: {},
      }),
    };
    await expect(new SqsJobQueue('https://sqs.example/1/q', sender).enqueue(jobs(3))).rejects.toThrow(
      /refused 3/,
    );
  });

  it('parses job messages and rejects poisoned ones', () => {
    expect(parseJobMessage('{"vectorStoreId":"vs_1","fileId":"file-1"}')).toEqual({
      vectorStoreId: 'vs_1',
      fileId: 'file-1',
    });
    expect(() => parseJobMessage('not json')).toThrow(/not JSON/);
    expect(() => parseJobMessage('{"vectorStoreId":"vs_1"}')).toThrow(/not a job/);
  });
});

describe('sqsSender with the real SDK', () => {
  let aws: FakeAws;
  beforeAll(async () => {
    for (const [k, v] of Object.entries(fakeAwsEnv)) vi.stubEnv(k, v);
    aws = await startFakeAws();
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await aws?.close();
  });

  it('sends batches to the queue URL, checking the MD5 SQS returns', async () => {
    aws.failNextEntries(1);
    await new SqsJobQueue(aws.queueUrl, sqsSender(aws.queueUrl, { region: 'us-east-1' })).enqueue(jobs(12));
    expect(aws.messages.map((m) => parseJobMessage(m.body).fileId).sort()).toEqual(
      jobs(12)
        .map((j) => j.fileId)
        .sort(),
    );
  });
});
