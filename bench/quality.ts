// Retrieval quality on real text: the license files under node_modules, searched with queries held out
// of any tuning (made by a fixed rule from a sentence only one license holds), through the API.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { ROOT } from './corpus.ts';
import { round } from './stats.ts';

const MAX_DOCS = 120;
const MAX_QUERIES = 40;

interface LicenseDoc {
  path: string;
  text: string;
}

function findLicenses(dir: string, depth = 0, out: string[] = []): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path);
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      if (depth < 4 && name !== '.bin') findLicenses(path, depth + 1, out);
    } else if (/^licen[cs]e(\.(md|txt))?$/i.test(name) && st.size >= 300 && st.size <= 300_000)
      out.push(path);
  }
  return out;
}

const normalize = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();
const sentences = (text: string) =>
  text
    .replace(/\s+/g, ' ')
    .split(/(?<=[.;:!?])\s+/)
    .map((s) => s.trim());

/** Distinct license texts, in path order. */
export function loadLicenses(): LicenseDoc[] {
  const seen = new Set<string>();
  const docs: LicenseDoc[] = [];
  for (const path of findLicenses(join(ROOT, 'node_modules')).sort()) {
    const text = readFileSync(path, 'utf8');
    const key = createHash('sha256').update(normalize(text)).digest('hex');
    if (seen.has(key)) continue;
    seen.add(key);
    docs.push({ path: relative(ROOT, path), text });
    if (docs.length >= MAX_DOCS) break;
  }
  return docs;
}

/**
 * One query per license that holds a sentence of 8 words or more found in no other license: that
 * sentence without every third word (so it is not a verbatim phrase), lower-cased.
 */
export function heldOutQueries(docs: LicenseDoc[]): { doc: number; query: string }[] {
  const counts = new Map<string, number>();
  const per = docs.map((d) => [...new Set(sentences(d.text).map(normalize))]);
  for (const list of per) for (const s of list) counts.set(s, (counts.get(s) ?? 0) + 1);
  const queries: { doc: number; query: string }[] = [];
  per.forEach((list, doc) => {
    const unique = list
      .filter((s) => counts.get(s) === 1 && s.split(' ').length >= 8 && /[a-z]{3}/.test(s))
      .sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
    const pick = unique[Math.floor(unique.length / 2)];
    if (!pick) return;
    const words = pick.split(' ').filter((_, i) => i % 3 !== 2);
    queries.push({ doc, query: words.slice(0, 24).join(' ') });
  });
  // Spread over the set rather than the first packages alphabetically.
  const step = Math.max(1, queries.length / MAX_QUERIES);
  return Array.from(
    { length: Math.min(MAX_QUERIES, queries.length) },
    (_, i) => queries[Math.floor(i * step)]!,
  );
}

type Mode = 'hybrid' | 'keyword' | 'vector';

/** top-1 and MRR@5 (by file) of each search mode, on a store holding every license as one file. */
export async function benchQuality(url: string) {
  const docs = loadLicenses();
  const queries = heldOutQueries(docs);
  const client = new OpenAI({ apiKey: 'bench', baseURL: `${url}/v1`, maxRetries: 0, timeout: 600_000 });
  const store = await client.vectorStores.create({ name: 'licenses' });
  const fileIds: string[] = [];
  for (const [i, d] of docs.entries()) {
    const file = await client.files.create({
      file: await toFile(Buffer.from(d.text), `license-${String(i).padStart(3, '0')}.txt`),
      purpose: 'assistants',
    });
    fileIds.push(file.id);
  }
  const batch = await client.vectorStores.fileBatches.createAndPoll(store.id, { file_ids: fileIds });
  if (batch.file_counts.completed !== docs.length)
    throw new Error(`license ingest: ${JSON.stringify(batch.file_counts)}`);
  const result: Record<Mode, { top1: number; mrr_at_5: number }> = {} as never;
  for (const mode of ['hybrid', 'keyword', 'vector'] as Mode[]) {
    let top1 = 0;
    let mrr = 0;
    for (const q of queries) {
      const res = await fetch(`${url}/v1/vector_stores/${store.id}/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
        body: JSON.stringify({ query: q.query, max_num_results: 20, search_mode: mode }),
      });
      const page = (await res.json()) as { data: { file_id: string }[] };
      const files = [...new Set(page.data.map((h) => h.file_id))].slice(0, 5);
      const rank = files.indexOf(fileIds[q.doc]!);
      if (rank === 0) top1++;
      if (rank >= 0) mrr += 1 / (rank + 1);
    }
    result[mode] = { top1: round(top1 / queries.length, 3), mrr_at_5: round(mrr / queries.length, 3) };
  }
  return {
    source:
      'LICENSE files under node_modules (distinct texts, path order), one file each; lexical local embedding',
    documents: docs.length,
    queries: queries.length,
    ...result,
  };
}
