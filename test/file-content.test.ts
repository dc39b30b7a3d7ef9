import { toFile } from 'openai';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_ITEM_CHARS, CONTENT_PAGE_CHARS } from '../packages/core/src/limits.ts';
import { startTestApp, type TestApp } from './app.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ INLINE_MAX_BYTES: '2000000' });
});
afterAll(() => app?.close());

async function attach(name: string, body: Uint8Array | string) {
  const client = app.client();
  const store = await client.vectorStores.create({ name: 'content' });
  const file = await client.files.create({
    file: await toFile(Buffer.from(body), name),
    purpose: 'assistants',
  });
  const vsf = await client.vectorStores.files.createAndPoll(
    store.id,
    { file_id: file.id },
    { pollIntervalMs: 50 },
  );
  expect(vsf.status).toBe('completed');
  return { store: store.id, file: file.id };
}

const get = (store: string, file: string, page?: string) =>
  fetch(`${app.url}/v1/vector_stores/${store}/files/${file}/content${page ? `?page=${page}` : ''}`).then(
    async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }),
  );

describe('GET /v1/vector_stores/{id}/files/{file_id}/content', () => {
  it('returns the parsed text once, without the chunks’ overlap', async () => {
    const text = Array.from(
      { length: 400 },
      (_, i) => `Sentence number ${i} talks about topic ${i % 7}.`,
    ).join(' ');
    const { store, file } = await attach('long.txt', text);
    const chunks = await app.db.sql`SELECT count(*)::int AS n FROM chunks WHERE file_id = ${file}`;
    expect(chunks[0]!.n).toBeGreaterThan(1); // several overlapping chunks, yet one text comes back
    const { status, body } = await get(store, file);
    expect(status).toBe(200);
    expect(body).toEqual({
      object: 'vector_store.file_content.page',
      data: [{ type: 'text', text }],
      has_more: false,
      next_page: null,
    });
    const viaSdk: string[] = [];
    for await (const part of await app.client().vectorStores.files.content(file, { vector_store_id: store }))
      viaSdk.push(part.text!);
    expect(viaSdk.join('')).toBe(text);
  });

  it('gives a PDF’s pages in order, one item each', async () => {
    const pdf = await PDFDocument.create();
    const font = await pdf.embedFont(StandardFonts.Helvetica);
    for (const n of [1, 2, 3])
      pdf.addPage().drawText(`Page ${n} speaks of apples ${n}.`, { x: 50, y: 700, font });
    const { store, file } = await attach('three.pdf', await pdf.save());
    const { body } = await get(store, file);
    const texts = (body.data as { text: string }[]).map((d) => d.text);
    expect(texts).toHaveLength(3);
    for (const [i, t] of texts.entries()) expect(t).toContain(`Page ${i + 1} speaks of apples ${i + 1}.`);
  });

  it('pages a large file with has_more and next_page', async () => {
    const size = CONTENT_PAGE_CHARS + CONTENT_ITEM_CHARS + 123;
    const text = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(size / 27)).slice(0, size);
    const { store, file } = await attach('big.txt', text);
    const first = await get(store, file);
    expect(first.body.has_more).toBe(true);
    expect(first.body.next_page).toMatch(/^page_\d+$/);
    const second = await get(store, file, first.body.next_page as string);
    expect(second.body.has_more).toBe(false);
    expect(second.body.next_page).toBeNull();
    const all = [...(first.body.data as { text: string }[]), ...(second.body.data as { text: string }[])];
    expect(all.every((d) => d.text.length <= CONTENT_ITEM_CHARS)).toBe(true);
    expect(all.map((d) => d.text).join('')).toBe(text);
    const bad = await get(store, file, 'nope');
    expect(bad.status).toBe(400);
  });
});
