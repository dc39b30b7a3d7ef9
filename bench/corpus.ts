// The real prose every text benchmark runs on: available offline, the same on every fresh `npm ci`.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const ROOT = join(import.meta.dirname, '..');

export interface TextDoc {
  /** Path relative to the repository root. */
  path: string;
  text: string;
}

export interface TextCorpus {
  docs: TextDoc[];
  bytes: number;
  /** sha256 of the concatenated texts, so two runs can tell whether they read the same corpus. */
  sha256: string;
  source: string;
}

export const CORPUS_SOURCE =
  "README.md and docs/*.md of this repository, then every README.md under node_modules (the installed packages' own documentation), in path order, duplicates removed";

/** The project's documentation plus every installed package's README: ~1.2 MB of real English and Markdown. */
export function loadTextCorpus(minBytes = 1_000_000): TextCorpus {
  const paths = [
    join(ROOT, 'README.md'),
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md') && f !== 'BENCHMARKS.md') // the bench's own output would drift
      .sort()
      .map((f) => join(ROOT, 'docs', f)),
    ...findReadmes(join(ROOT, 'node_modules')).sort(),
  ];
  const seen = new Set<string>();
  const docs: TextDoc[] = [];
  const hash = createHash('sha256');
  let bytes = 0;
  for (const path of paths) {
    const text = readFileSync(path, 'utf8');
    const digest = createHash('sha256').update(text).digest('hex');
    if (!text.trim() || seen.has(digest)) continue;
    seen.add(digest);
    docs.push({ path: relative(ROOT, path), text });
    hash.update(text);
    bytes += Buffer.byteLength(text);
  }
  if (bytes < minBytes)
    throw new Error(`the text corpus has ${bytes} bytes, fewer than ${minBytes}: run npm ci`);
  return { docs, bytes, sha256: hash.digest('hex'), source: CORPUS_SOURCE };
}

function findReadmes(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && !entry.isSymbolicLink()) out.push(...findReadmes(path));
    else if (entry.name.toLowerCase() === 'readme.md' && statSync(path).isFile()) out.push(path);
  }
  return out;
}
