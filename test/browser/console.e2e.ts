import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../app.ts';
import { type Browser, openBrowser } from './browser.ts';

// Set CONSOLE_SCREENSHOTS=docs to refresh the screenshots in docs/ (see docs/CONSOLE.md).
const SHOTS = process.env.CONSOLE_SCREENSHOTS;
const KEY = 'sk-console-e2e-key';

let app: TestApp;
let b: Browser;

/** Form controls with no accessible name (a <label>, aria-label or aria-labelledby): must stay empty. */
const unlabelled = () =>
  b.page.evaluate(() =>
    Array.from(document.querySelectorAll('input, select, textarea, button'))
      .filter((el) => {
        const c = el as HTMLInputElement;
        if (c.type === 'hidden') return false;
        const named = c.labels?.length || c.getAttribute('aria-label') || c.getAttribute('aria-labelledby');
        return !named && !(el.tagName === 'BUTTON' && el.textContent?.trim());
      })
      .map((el) => el.outerHTML.slice(0, 80)),
  );

/** Checks the console screen's labels (Swagger UI's own markup is not ours), then maybe saves a screenshot. */
const shot = async (name: string) => {
  if (b.page.url().includes('/console')) expect(await unlabelled()).toEqual([]);
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await b.page.screenshot({ path: join(SHOTS, `console-${name}.png`), fullPage: false });
};

async function makePdf(pages: string[]): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const text of pages) doc.addPage().drawText(text, { x: 50, y: 700, font, size: 12 });
  return Buffer.from(await doc.save());
}

beforeAll(async () => {
  // INLINE_MAX_BYTES=1: every upload goes through the worker, so the page shows in_progress turn into completed.
  app = await startTestApp({ API_KEYS: KEY, INLINE_MAX_BYTES: '1' });
  b = await openBrowser({ width: 1280, height: 800 });
});
afterAll(async () => {
  await b?.close();
  await app?.close();
});

describe('the console in Chromium', () => {
  it('signs in, manages a store, uploads txt and pdf, searches with a filter, opens a chunk, deletes', async () => {
    const { page } = b;
    await page.goto(`${app.url}/console`);

    // Sign in, by keyboard: a wrong key is refused, the right one opens the store list.
    await page.getByLabel('API key').fill('sk-wrong');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'refused' }).waitFor();
    await page.getByLabel('API key').fill(KEY);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Vector stores' }).waitFor();
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual(['vectordb.console.apiKey']);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);

    // Create, then rename and set an expiry.
    await page.getByLabel('Name', { exact: true }).fill('e2e handbook');
    await page.getByRole('button', { name: 'Create store' }).click();
    await page.getByRole('link', { name: 'e2e handbook' }).waitFor();
    await page.getByRole('button', { name: 'Edit e2e handbook' }).click();
    await page.getByLabel('Name', { exact: true }).last().fill('Handbook');
    await page.getByLabel('Expires after (days idle; empty = never)').fill('30');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('link', { name: 'Handbook' }).waitFor();
    await page.getByText('30 d after last use').waitFor();
    const [store] = (await app.client(KEY).vectorStores.list()).data;
    expect(store).toMatchObject({ name: 'Handbook', expires_after: { anchor: 'last_active_at', days: 30 } });

    // Upload: the txt by drag and drop, the pdf through the file input, each with attributes.
    await page.getByRole('link', { name: 'Handbook' }).click();
    await page.getByRole('heading', { name: 'Upload' }).waitFor();
    await page.getByLabel('Attributes for these uploads (JSON, optional)').fill('{"lang": "en"}');
    const dropped = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      const text = 'The launch checklist: fuel the rocket, check the valves, count down from ten.';
      dt.items.add(new File([text], 'checklist.txt', { type: 'text/plain' }));
      return dt;
    });
    await page.dispatchEvent('.drop', 'drop', { dataTransfer: dropped });
    await page.locator('li[data-upload="checklist.txt"] .badge-completed').waitFor();
    await page.getByLabel('Attributes for these uploads (JSON, optional)').fill('{"lang": "de"}');
    await page.locator('#file-input').setInputFiles({
      name: 'manual.pdf',
      mimeType: 'application/pdf',
      buffer: await makePdf(['Die Startprozedur: launch sequence for the rocket.', 'Second page: landing.']),
    });
    await page.locator('li[data-upload="manual.pdf"] progress').waitFor();
    await page.locator('li[data-upload="manual.pdf"] .badge-completed').waitFor();
    await page.locator('tr[data-file] .badge-completed').nth(1).waitFor();
    expect(await page.locator('tr[data-file]').count()).toBe(2);
    expect(
      await page
        .locator('li[data-upload] progress')
        .evaluateAll((ps) => ps.map((p) => (p as HTMLProgressElement).value)),
    ).toEqual([1, 1]);
    await page.getByRole('link', { name: 'manual.pdf' }).waitFor();
    await shot('files');
    await page.getByRole('link', { name: 'Stores', exact: true }).first().click();
    await page.getByRole('cell', { name: /^2\/2$/ }).waitFor();
    await shot('stores');
    await page.getByRole('link', { name: 'Handbook' }).click();

    // Search with a filter built in the form: only the German file is left.
    await page.getByRole('link', { name: 'Search' }).click();
    await page.getByLabel('Query').fill('launch rocket');
    await page.getByRole('button', { name: 'Add condition' }).click();
    await page.getByLabel('Key').fill('lang');
    await page.getByLabel('Value').fill('de');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('heading', { name: /^\d+ results?$/ }).waitFor();
    const hits = page.locator('.hit');
    expect(await hits.count()).toBeGreaterThan(0);
    // Chunk index and score details are extras the console asks for (X-Search-Extras): shown on every hit.
    expect(await hits.first().textContent()).toMatch(/chunk \d+.*vector \d\.\d{3} · text/);
    for (const name of await page.locator('.hit .row > span:nth-child(2)').allTextContents()) {
      expect(name).toBe('manual.pdf');
    }
    expect((await page.locator('.hit mark').allTextContents()).map((s) => s.toLowerCase())).toContain(
      'launch',
    );
    await page
      .locator('.hit')
      .first()
      .getByText(/vector \d\.\d{3} · text \d\.\d{3}/)
      .waitFor();
    const curl = await page.locator('.snippet pre').first().textContent();
    expect(curl).toContain('"filters":{"type":"eq","key":"lang","value":"de"}');
    expect(curl).toContain('$VECTORDB_API_KEY');
    expect(curl).not.toContain(KEY);
    const sdk = await page.locator('.snippet pre').nth(1).textContent();
    expect(sdk).toContain(`client.vectorStores.search("${store!.id}"`);
    // The same search as JSON gives the same hits.
    await page.getByLabel('JSON').check();
    await page.getByLabel(/^Filter \(OpenAI/).fill('{"type":"eq","key":"lang","value":"en"}');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('.hit', { hasText: 'checklist.txt' }).first().waitFor();
    await page.getByLabel('Form').check();
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('.hit', { hasText: 'manual.pdf' }).first().waitFor();
    await shot('search');

    // Open the hit's chunk: the file page shows it with its page and tokens, and the parsed text.
    await page
      .locator('.hit', { hasText: 'manual.pdf' })
      .first()
      .getByRole('link', { name: 'Open chunk' })
      .click();
    const selected = page.locator('article.chunk.selected');
    await selected.waitFor();
    expect(await selected.locator('h3').textContent()).toMatch(/Chunk \d+ · page 1 · \d+ tokens/);
    expect(await selected.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.getByText('Parsed text').click();
    await page.locator('pre.text').first().getByText('Second page: landing.').waitFor();
    await shot('file');

    // A file that cannot be parsed fails with its last_error, in the table and on the health tab.
    await page.getByRole('link', { name: 'Handbook' }).click();
    await page.locator('#file-input').setInputFiles({
      name: 'broken.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('%PDF-1.7 this is not really a PDF'),
    });
    await page.locator('li[data-upload="broken.pdf"] .badge-failed').waitFor();
    const failedRow = page.locator('tr[data-file]', { has: page.locator('.badge-failed') });
    await failedRow.locator('.error').waitFor();
    expect(await failedRow.locator('.error').textContent()).toMatch(/^invalid_file: /);

    // Health: nothing in progress, one failure with its error, the server's ingest counters.
    await page.getByRole('link', { name: 'Health' }).click();
    await page.getByText('jobs in progress').waitFor();
    expect(await page.locator('.tile strong').allTextContents()).toEqual(
      expect.arrayContaining(['0', '1', '2']),
    );
    await page.locator('li', { hasText: 'invalid_file' }).waitFor();
    await page
      .locator('.tile', { hasText: 'embedding cache hits' })
      .locator('strong', { hasText: /^\d+$/ })
      .waitFor();
    await page.locator('td', { hasText: 'ingest_jobs_total' }).first().waitFor();
    // The same query was searched three times: its embedding came from the cache at least twice.
    const cacheHits = page
      .locator('tr', { hasText: 'query_embedding_cache_total' })
      .filter({ hasText: 'hit' });
    expect(Number(await cacheHits.locator('td').last().textContent())).toBeGreaterThanOrEqual(2);
    await shot('health');

    // Detach one file and delete the store, each after a confirmation.
    await page.getByRole('link', { name: 'Files' }).click();
    await page
      .locator('tr[data-file]')
      .first()
      .getByRole('button', { name: /Detach/ })
      .click();
    await page.getByRole('dialog').getByRole('button', { name: 'Detach' }).click();
    await page.waitForFunction(() => document.querySelectorAll('tr[data-file]').length === 2);
    await page.getByRole('link', { name: 'Stores' }).first().click();
    await page.getByRole('button', { name: 'Delete Handbook' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Delete Handbook' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete store' }).click();
    await page.getByText('No stores yet').waitFor();
    expect((await app.client(KEY).vectorStores.list()).data).toEqual([]);

    // Nothing left for another host, and the key never went into a URL.
    const origin = new URL(app.url).origin;
    expect(b.requests.filter((u) => new URL(u).origin !== origin && !u.startsWith('data:'))).toEqual([]);
    expect(b.requests.filter((u) => u.includes(KEY))).toEqual([]);
  });

  it('fits a narrow screen: stores, files and search without sideways scrolling', async () => {
    const { page } = b;
    await page.setViewportSize({ width: 360, height: 740 });
    const client = app.client(KEY);
    const vs = await client.vectorStores.create({
      name: 'a store with a rather long name for a phone screen',
    });
    await client.vectorStores.files.uploadAndPoll(
      vs.id,
      new File(['Phones show the same console.'], 'phone-notes-with-a-long-file-name.txt'),
    );
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.goto(`${app.url}/console#/`);
    await page.reload();
    await page.getByRole('link', { name: /rather long name/ }).waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await shot('narrow');
    await page.getByRole('link', { name: /rather long name/ }).click();
    await page.locator('tr[data-file] .badge-completed').waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.getByRole('link', { name: 'Search' }).click();
    await page.getByLabel('Query').fill('phones');
    await page.getByRole('button', { name: 'Add condition' }).click();
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('.hit').first().waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('goes back to the sign-in form when the API refuses the kept key', async () => {
    const { page } = b;
    await page.goto(`${app.url}/console#/`);
    await page.getByRole('heading', { name: 'Vector stores' }).waitFor();
    await page.evaluate(() => sessionStorage.setItem('vectordb.console.apiKey', 'sk-revoked'));
    await page.reload();
    await page.getByText('Your key was refused; sign in again.').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.getByLabel('API key').fill(KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Vector stores' }).waitFor();
  });

  it('serves /docs offline: Swagger UI from the app renders the operations', async () => {
    const { page } = b;
    const before = b.requests.length;
    await page.goto(`${app.url}/docs`);
    await page.locator('.opblock').first().waitFor();
    expect(await page.locator('.opblock').count()).toBeGreaterThan(20);
    const origin = new URL(app.url).origin;
    const mine = b.requests.slice(before);
    expect(mine.filter((u) => new URL(u).origin !== origin && !u.startsWith('data:'))).toEqual([]);
    await shot('docs');
  });
});
