import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createKey } from '@vsdb/core/auth/keys';
import { expireUploads } from '@vsdb/core/uploads/service';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';

let app: TestApp;
let client: OpenAI;
let other: OpenAI;

beforeAll(async () => {
  app = await startTestApp({ API_KEYS: 'sk-test-a' });
  client = app.client();
  const { key } = await createKey(app.db.sql, 'other');
  other = app.client(key);
});
afterAll(() => app?.close());

const bytes = (n: number, seed: string) => {
  const line = Buffer.from(`${seed} upload line with some words in it\n`);
  return Buffer.concat(Array.from({ length: Math.ceil(n / line.length) }, () => line)).subarray(0, n);
};
const part = (buf: Buffer) => toFile(buf, 'part.bin');
const partBlobs = () => {
  try {
    return readdirSync(join(app.config.DATA_DIR, 'files', 'uploads'), { recursive: true }).filter((f) =>
      String(f).includes('part_'),
    );
  } catch {
    return [];
  }
};

describe('Uploads API through the official SDK', () => {
  it('creates, adds parts, completes in the given order, and the file is usable', async () => {
    const a = bytes(3000, 'alpha');
    const b = bytes(2000, 'bravo');
    const whole = Buffer.concat([a, b]);
    const upload = await client.uploads.create({
      filename: 'big.txt',
      purpose: 'assistants',
      bytes: whole.length,
      mime_type: 'text/plain',
    });
    expect(upload).toMatchObject({
      object: 'upload',
      status: 'pending',
      bytes: 5000,
      filename: 'big.txt',
      file: null,
    });
    expect(upload.id).toMatch(/^upload_/);
    expect(upload.expires_at - upload.created_at).toBe(3600);

    // Parts may arrive in any order; complete names the order.
    const pb = await client.uploads.parts.create(upload.id, { data: await part(b) });
    const pa = await client.uploads.parts.create(upload.id, { data: await part(a) });
    expect(pa).toMatchObject({ object: 'upload.part', upload_id: upload.id });
    expect(pa.id).toMatch(/^part_/);

    const md5 = createHash('md5').update(whole).digest('hex');
    const done = await client.uploads.complete(upload.id, { part_ids: [pa.id, pb.id], md5 });
    expect(done.status).toBe('completed');
    expect(done.file).toMatchObject({
      object: 'file',
      bytes: 5000,
      filename: 'big.txt',
      purpose: 'assistants',
    });
    const content = Buffer.from(await (await client.files.content(done.file!.id)).arrayBuffer());
    expect(content.equals(whole)).toBe(true);
    expect(partBlobs()).toEqual([]); // parts are removed once completed

    // Completing again returns the same file (a retried request), and the file ingests like any other.
    const again = await client.uploads.complete(upload.id, { part_ids: [pa.id, pb.id] });
    expect(again.file?.id).toBe(done.file!.id);
    const store = await client.vectorStores.create({ name: 'from upload' });
    const vsf = await client.vectorStores.files.createAndPoll(store.id, { file_id: done.file!.id });
    expect(vsf.status).toBe('completed');
  });

  it('refuses a wrong byte count, a wrong md5, unknown and repeated parts', async () => {
    const data = bytes(1000, 'charlie');
    const upload = await client.uploads.create({
      filename: 'c.txt',
      purpose: 'assistants',
      bytes: 1000,
      mime_type: 'text/plain',
    });
    const p1 = await client.uploads.parts.create(upload.id, { data: await part(data.subarray(0, 600)) });
    await expect(client.uploads.complete(upload.id, { part_ids: [p1.id] })).rejects.toMatchObject({
      status: 400,
      param: 'part_ids',
    });
    const p2 = await client.uploads.parts.create(upload.id, { data: await part(data.subarray(600)) });
    await expect(client.uploads.complete(upload.id, { part_ids: [p1.id, p1.id] })).rejects.toMatchObject({
      status: 400,
      param: 'part_ids',
    });
    await expect(
      client.uploads.complete(upload.id, { part_ids: [p1.id, 'part_nope'] }),
    ).rejects.toMatchObject({
      status: 400,
      param: 'part_ids',
    });
    await expect(
      client.uploads.complete(upload.id, { part_ids: [p1.id, p2.id], md5: '0'.repeat(32) }),
    ).rejects.toMatchObject({ status: 400, param: 'md5' });
    // Still pending after the failures: the right request completes it.
    const done = await client.uploads.complete(upload.id, { part_ids: [p1.id, p2.id] });
    expect(done.file?.bytes).toBe(1000);
  });

  it('bounds a part by the declared size and validates creation', async () => {
    const upload = await client.uploads.create({
      filename: 'd.txt',
      purpose: 'assistants',
      bytes: 10,
      mime_type: 'text/plain',
    });
    await expect(
      client.uploads.parts.create(upload.id, { data: await part(bytes(11, 'd')) }),
    ).rejects.toMatchObject({
      status: 413,
    });
    await expect(
      client.uploads.create({
        filename: 'x',
        purpose: 'nope' as 'assistants',
        bytes: 1,
        mime_type: 'text/plain',
      }),
    ).rejects.toMatchObject({ status: 400, param: 'purpose' });
    await expect(
      client.uploads.create({
        filename: 'x',
        purpose: 'assistants',
        bytes: app.config.MAX_FILE_SIZE_BYTES + 1,
        mime_type: 'text/plain',
      }),
    ).rejects.toMatchObject({ status: 400, param: 'bytes' });
    const res = await fetch(`${app.url}/v1/uploads/${upload.id}/parts`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-test-a' },
      body: (() => {
        const form = new FormData();
        form.append('file', new Blob(['abc']), 'a.txt');
        return form;
      })(),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.param).toBe('data');
  });

  it('cancels: no more parts, no completion, parts removed', async () => {
    const upload = await client.uploads.create({
      filename: 'e.txt',
      purpose: 'assistants',
      bytes: 5,
      mime_type: 'text/plain',
    });
    const p = await client.uploads.parts.create(upload.id, { data: await part(bytes(5, 'e')) });
    expect(partBlobs().length).toBeGreaterThan(0);
    const cancelled = await client.uploads.cancel(upload.id);
    expect(cancelled.status).toBe('cancelled');
    expect(partBlobs()).toEqual([]);
    expect((await client.uploads.cancel(upload.id)).status).toBe('cancelled');
    await expect(
      client.uploads.parts.create(upload.id, { data: await part(bytes(5, 'e')) }),
    ).rejects.toMatchObject({
      status: 400,
    });
    await expect(client.uploads.complete(upload.id, { part_ids: [p.id] })).rejects.toMatchObject({
      status: 400,
    });
  });

  it("is project-scoped: another project's upload is 404", async () => {
    const upload = await client.uploads.create({
      filename: 'f.txt',
      purpose: 'assistants',
      bytes: 5,
      mime_type: 'text/plain',
    });
    await expect(
      other.uploads.parts.create(upload.id, { data: await part(bytes(5, 'f')) }),
    ).rejects.toMatchObject({
      status: 404,
    });
    await expect(other.uploads.complete(upload.id, { part_ids: ['part_x'] })).rejects.toMatchObject({
      status: 404,
    });
    await expect(other.uploads.cancel(upload.id)).rejects.toMatchObject({ status: 404 });
    expect((await client.uploads.cancel(upload.id)).status).toBe('cancelled');
  });

  it('expires after its hour: reads as expired, refuses parts, maintenance removes its parts', async () => {
    const upload = await client.uploads.create({
      filename: 'g.txt',
      purpose: 'assistants',
      bytes: 5,
      mime_type: 'text/plain',
    });
    await client.uploads.parts.create(upload.id, { data: await part(bytes(5, 'g')) });
    await app.db.sql`UPDATE uploads SET expires_at = now() - interval '1 second' WHERE id = ${upload.id}`;
    await expect(
      client.uploads.parts.create(upload.id, { data: await part(bytes(5, 'g')) }),
    ).rejects.toMatchObject({
      status: 400,
      code: 'expired',
    });
    expect(await expireUploads(app.db.sql, app.deps.blobs)).toBe(1);
    expect(partBlobs()).toEqual([]);
    const [row] = await app.db.sql`SELECT status FROM uploads WHERE id = ${upload.id}`;
    expect(row?.status).toBe('expired');
  });
});
