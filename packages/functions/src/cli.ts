// npm run cli -- ingest <folder> --store <name or id> [--attributes k=v ...] | search <store> "query"
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadCliConfig } from '@vsdb/core/config';
import { isSupportedFile } from '@vsdb/core/ingest/extract';
import OpenAI, { toFile } from 'openai';

const USAGE = `usage:
  npm run cli -- ingest <folder> --store <name or id> [--attributes k=v ...] [--url URL] [--api-key KEY]
  npm run cli -- search <store> "query" [--max N] [--url URL] [--api-key KEY]
env: VECTORDB_URL (default http://127.0.0.1:8000/v1), VECTORDB_API_KEY`;

const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);

async function walk(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await walk(path)));
    else if (entry.isFile()) found.push(path);
  }
  return found.sort();
}

/** A store by id, or by name (created when no store has that name). */
async function resolveStore(client: OpenAI, nameOrId: string): Promise<{ id: string; name: string | null }> {
  if (/^vs_/.test(nameOrId)) return client.vectorStores.retrieve(nameOrId);
  for await (const s of client.vectorStores.list({ limit: 100 })) if (s.name === nameOrId) return s;
  return client.vectorStores.create({ name: nameOrId });
}

function parseAttributes(pairs: string[]): Record<string, string | number | boolean> {
  const attrs: Record<string, string | number | boolean> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--attributes takes key=value, got "${pair}"`);
    const [k, v] = [pair.slice(0, eq), pair.slice(eq + 1)];
    attrs[k] =
      v === 'true' ? true : v === 'false' ? false : v !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  return attrs;
}

function progress(label: string, done: number, total: number): void {
  const width = 30;
  const filled = total ? Math.round((done / total) * width) : width;
  const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}${done === total ? '\n' : ''}`);
  else if (done === total || done % 25 === 0) err(line);
}

async function pool<T>(items: T[], size: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(size, items.length) }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}

async function ingest(
  client: OpenAI,
  folder: string,
  storeArg: string,
  attributes: Record<string, string | number | boolean>,
) {
  const started = performance.now();
  if (!(await stat(folder)).isDirectory()) throw new Error(`${folder} is not a folder`);
  const all = await walk(folder);
  const files = all.filter((f) => isSupportedFile(f));
  for (const skipped of all.filter((f) => !isSupportedFile(f)))
    err(`skipped (unsupported type): ${relative(folder, skipped)}`);
  const store = await resolveStore(client, storeArg);
  out(`store ${store.id}${store.name ? ` (${store.name})` : ''}: ${files.length} files to ingest`);

  const uploaded: { id: string; path: string }[] = [];
  const failures: string[] = [];
  let done = 0;
  await pool(files, 4, async (path) => {
    try {
      const file = await client.files.create({
        file: await toFile(await readFile(path), basename(path)),
        purpose: 'assistants',
      });
      uploaded.push({ id: file.id, path });
    } catch (e) {
      failures.push(`${relative(folder, path)}: upload failed: ${(e as Error).message}`);
    }
    progress('upload', ++done, files.length);
  });

  let chunks = 0;
  for (let i = 0; i < uploaded.length; i += 2000) {
    const part = uploaded.slice(i, i + 2000);
    const batch = await client.vectorStores.fileBatches.createAndPoll(store.id, {
      file_ids: part.map((f) => f.id),
      ...(Object.keys(attributes).length ? { attributes } : {}),
    });
    progress('ingest', Math.min(i + 2000, uploaded.length), uploaded.length);
    for await (const f of client.vectorStores.fileBatches.listFiles(batch.id, {
      vector_store_id: store.id,
      limit: 100,
    })) {
      chunks += (f as unknown as { chunk_count?: number }).chunk_count ?? 0;
      if (f.status !== 'completed') {
        const path = part.find((p) => p.id === f.id)?.path ?? f.id;
        failures.push(
          `${relative(folder, path)}: ${f.status}${f.last_error ? ` (${f.last_error.code}: ${f.last_error.message})` : ''}`,
        );
      }
    }
  }
  for (const f of failures) err(`failed: ${f}`);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  out(
    `files: ${uploaded.length - failures.filter((f) => !f.includes('upload failed')).length} ingested, ${failures.length} failed, ${all.length - files.length} skipped; chunks: ${chunks}; time: ${seconds} s`,
  );
  return failures.length ? 1 : 0;
}

async function search(client: OpenAI, storeArg: string, query: string, max: number) {
  const store = /^vs_/.test(storeArg) ? { id: storeArg } : await resolveExisting(client, storeArg);
  const page = await client.vectorStores.search(store.id, { query, max_num_results: max });
  if (!page.data.length) out('no results');
  page.data.forEach((r, i) => {
    const text = r.content
      .map((c) => c.text)
      .join(' ')
      .replace(/\s+/g, ' ')
      .trim();
    out(`${String(i + 1).padStart(2)}. ${r.score.toFixed(3)}  ${r.filename}`);
    out(`    ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`);
  });
  return 0;
}

async function resolveExisting(client: OpenAI, name: string): Promise<{ id: string }> {
  for await (const s of client.vectorStores.list({ limit: 100 })) if (s.name === name) return s;
  throw new Error(`no vector store named "${name}"`);
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      store: { type: 'string' },
      attributes: { type: 'string', multiple: true },
      url: { type: 'string' },
      'api-key': { type: 'string' },
      max: { type: 'string' },
    },
  });
  const env = loadCliConfig();
  const client = new OpenAI({
    baseURL: values.url ?? env.VECTORDB_URL,
    apiKey: values['api-key'] ?? env.VECTORDB_API_KEY ?? 'none',
    organization: null,
    project: null,
    maxRetries: 2,
  });
  const [command, a, b] = positionals;
  if (command === 'ingest' && a && values.store)
    return ingest(client, a, values.store, parseAttributes(values.attributes ?? []));
  if (command === 'search' && a && b)
    return search(client, a, b, Math.min(50, Math.max(1, Number(values.max ?? 10) || 10)));
  err(USAGE);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    err(e instanceof ConfigError ? e.message : `error: ${(e as Error).message}`);
    process.exit(1);
  },
);
