import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.ts';
import { ThreadPool } from '../thread-pool.ts';
import { countTokens } from '../tokenizer.ts';
import type { LocalEmbedResult, LocalEmbedTask } from './local-task.ts';
import type { EmbeddingProvider, EmbedOptions, EmbedResult } from './provider.ts';

/** Up to this many characters in all are embedded in place (a query): a thread's round trip costs more. */
const INLINE_CHARS = 4096;
/** One task of the pool: at most this many texts and characters (a few tens of milliseconds of work). */
const TASK_TEXTS = 128;
const TASK_CHARS = 128 * 1024;

/**
 * Offline, deterministic lexical embedding by feature hashing: words, their light stems, adjacent pairs
 * and the character trigrams of each word (so "index" and "indexes" stay close), each hashed with a sign into
 * one of `dimensions` buckets, weighted sublinearly and L2-normalised. Texts that share words score a
 * clearly higher cosine than unrelated texts; synonyms do not (it is not semantic).
 */
export class LocalEmbeddingProvider implements EmbeddingProvider {
  readonly kind = 'local' as const;
  readonly semantic = false;
  readonly model = 'local-lexical-v1';
  readonly dimensions: number;

  constructor(config: Pick<Config, 'EMBEDDING_DIMENSIONS'>) {
    this.dimensions = config.EMBEDDING_DIMENSIONS;
  }

  /**
   * Small inputs (a query) are embedded in place; larger ones in the pool's threads, one bounded task
   * after another, so the request thread only turns the moved-back vectors into arrays.
   */
  async embed(inputs: string[], opts: EmbedOptions = {}): Promise<EmbedResult> {
    opts.signal?.throwIfAborted();
    const dimensions = opts.dimensions ?? this.dimensions;
    const chars = inputs.reduce((n, t) => n + t.length, 0);
    const threads = chars > INLINE_CHARS ? embedPool() : null;
    if (!threads) return embedInPlace(inputs, dimensions);
    const embeddings: number[][] = [];
    let tokens = 0;
    for (const texts of tasksOf(inputs)) {
      const task: LocalEmbedTask = { texts, dimensions };
      const r = await threads.run<LocalEmbedResult>(task, { signal: opts.signal ?? null });
      tokens += r.tokens;
      for (let i = 0; i < texts.length; i++)
        embeddings.push(Array.from(r.vectors.subarray(i * dimensions, (i + 1) * dimensions)));
    }
    return { embeddings, tokens, requests: 0 };
  }
}

function embedInPlace(inputs: string[], dimensions: number): EmbedResult {
  let tokens = 0;
  const embeddings = inputs.map((text) => {
    tokens += countTokens(text);
    return lexicalEmbedding(text, dimensions);
  });
  return { embeddings, tokens, requests: 0 };
}

function tasksOf(inputs: string[]): string[][] {
  const tasks: string[][] = [];
  let task: string[] = [];
  let chars = 0;
  for (const text of inputs) {
    if (task.length && (task.length >= TASK_TEXTS || chars + text.length > TASK_CHARS)) {
      tasks.push(task);
      task = [];
      chars = 0;
    }
    task.push(text);
    chars += text.length;
  }
  if (task.length) tasks.push(task);
  return tasks;
}

let pool: ThreadPool | null | undefined;

/**
 * The local embedder's threads (a pool of its own, so a query's embedding never waits behind a file's
 * extraction); null where its module is not shipped (then the work is done in place).
 */
function embedPool(): ThreadPool | null {
  if (pool !== undefined) return pool;
  const file = ['./local-task.ts', './local-embed-task.mjs', '../local-embed-task.mjs']
    .map((p) => fileURLToPath(new URL(p, import.meta.url)))
    .find((f) => existsSync(f));
  pool = file
    ? new ThreadPool({
        filename: file,
        maxThreads: Math.max(1, Math.min(2, availableParallelism() - 1)),
        idleTimeout: 30_000,
      })
    : null;
  return pool;
}

/** Stops the local embedder's threads (shutdown, tests). */
export async function closeLocalEmbedder(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.destroy();
}

const WEIGHT = { word: 1, stem: 0.7, pair: 0.5, trigram: 0.3 } as const;

// Scripts written without spaces: each character is a token, and adjacent pairs act as words.
const NO_SPACES = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}';
const TOKEN = new RegExp(`[${NO_SPACES}]|(?:(?![${NO_SPACES}])[\\p{L}\\p{M}\\p{N}])+`, 'gu');

const STOPWORDS = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have he her his how i if in into ' +
    'is it its me my no not of on or our she so than that the their them then there these they this those to ' +
    'too was we were what when where which who why will with would you your'
  ).split(' '),
);

/** The lexical embedding of one text: same text and dimensions, same vector, on every machine. */
export function lexicalEmbedding(text: string, dimensions: number): number[] {
  const words = text.normalize('NFKC').toLowerCase().match(TOKEN) ?? [];
  const content = words.filter((w) => !STOPWORDS.has(w));
  // A stopword-only text ("to be or not to be") still deserves a vector of its own words.
  const kept = content.length > 0 ? content : words;

  const counts = new Map<string, number>();
  const add = (feature: string, weight: number) => counts.set(feature, (counts.get(feature) ?? 0) + weight);
  const stems = kept.map(stem);
  kept.forEach((word, i) => {
    add(`w:${word}`, 1);
    add(`s:${stems[i]}`, 1);
    if (i > 0) add(`p:${stems[i - 1]} ${stems[i]}`, 1);
    if (word.length >= 3) {
      const marked = `^${word}$`;
      for (let j = 0; j + 3 <= marked.length; j++) add(`t:${marked.slice(j, j + 3)}`, 1);
    }
  });

  const vector = new Float64Array(dimensions);
  for (const [feature, count] of counts) {
    const h = fnv1a(feature);
    const mixed = fmix32(h);
    const sign = fmix32(h ^ 0x9e3779b9) & 1 ? 1 : -1;
    const kind = WEIGHT[KIND[feature[0] as keyof typeof KIND]];
    vector[mixed % dimensions]! += sign * kind * (1 + Math.log(count));
  }

  let norm = 0;
  for (const x of vector) norm += x * x;
  norm = Math.sqrt(norm);
  // No words (or an exact cancellation): a fixed unit vector, never NaNs.
  if (norm === 0) return Array.from({ length: dimensions }, (_, i) => (i === 0 ? 1 : 0));
  return Array.from(vector, (x) => x / norm);
}

const KIND = { w: 'word', s: 'stem', p: 'pair', t: 'trigram' } as const;

/** A light English suffix stripper ("indexes", "indexing" -> "index"); other scripts pass through. */
function stem(word: string): string {
  if (word.length < 5 || !/^[a-z]+$/.test(word)) return word;
  let s = word;
  const suffix = ['ies', 'ing', 'ed', 'es', 's'].find((x) => s.endsWith(x) && s.length - x.length >= 3);
  if (suffix === 'ies') return `${s.slice(0, -3)}y`;
  if (suffix === 's' && s.endsWith('ss')) return s;
  if (suffix) s = s.slice(0, -suffix.length);
  // "resetting" -> "reset", "database" and "databases" -> "databas"
  if ((suffix === 'ing' || suffix === 'ed') && /([b-df-hj-np-tv-z])\1$/.test(s)) s = s.slice(0, -1);
  if (s.endsWith('e') && s.length > 3) s = s.slice(0, -1);
  return s;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// MurmurHash3's finaliser: spreads FNV's weak low bits before taking a bucket and a sign.
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
