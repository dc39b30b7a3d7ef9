import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FakeAws, fakeAwsEnv, startFakeAws } from '../../../../test/fake-aws.ts';
import { S3BlobStore } from './s3.ts';

let aws: FakeAws;
let store: S3BlobStore;
const MiB = 1024 * 1024;

beforeAll(async () => {
  for (const [k, v] of Object.entries(fakeAwsEnv)) vi.stubEnv(k, v);
  aws = await startFakeAws();
  store = new S3BlobStore({ bucket: 'files', endpoint: aws.url, region: 'us-east-1', partBytes: 5 * MiB });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await aws?.close();
});

async function* chunks(total: number, size = 256 * 1024) {
  for (let sent = 0; sent < total; sent += size)
    yield new Uint8Array(Math.min(size, total - sent)).fill(sent % 251);
}

async function readAll(stream: ReadableStream<Uint8Array>) {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
  return Buffer.concat(parts);
}

describe('S3BlobStore against an S3-compatible endpoint', () => {
  it('puts a small body in one request, reads it back whole and streamed, deletes it', async () => {
    const body = Buffer.from('hello blobs');
    expect(await store.put('p/a.txt', body)).toEqual({ bytes: body.length });
    expect(aws.objects.get('files/p/a.txt')?.toString()).toBe('hello blobs');
    expect(Buffer.from(await store.get('p/a.txt')).toString()).toBe('hello blobs');
    expect((await readAll(store.stream('p/a.txt'))).toString()).toBe('hello blobs');
    await store.delete('p/a.txt');
    expect(aws.objects.has('files/p/a.txt')).toBe(false);
    await store.delete('p/a.txt'); // deleting twice is fine
  });

  it('streams a large body as a multipart upload', async () => {
    const total = 11 * MiB + 123;
    expect(await store.put('p/big.bin', chunks(total))).toEqual({ bytes: total });
    const stored = aws.objects.get('files/p/big.bin')!;
    expect(stored.length).toBe(total);
    const expected: Uint8Array[] = [];
    for await (const c of chunks(total)) expected.push(c);
    expect(stored.equals(Buffer.concat(expected))).toBe(true);
    expect(aws.openUploads.size).toBe(0);
  });

  it('refuses a body past maxBytes, aborting the multipart upload and keeping nothing', async () => {
    await expect(store.put('p/too-big.bin', chunks(7 * MiB), { maxBytes: 6 * MiB })).rejects.toMatchObject({
      code: 'payload_too_large',
    });
    expect(aws.objects.has('files/p/too-big.bin')).toBe(false);
    expect(aws.openUploads.size).toBe(0);
  });

  it('fails reading a missing key, in get and in stream', async () => {
    await expect(store.get('p/missing')).rejects.toMatchObject({ name: 'NoSuchKey' });
    await expect(readAll(store.stream('p/missing'))).rejects.toMatchObject({ name: 'NoSuchKey' });
  });
});
