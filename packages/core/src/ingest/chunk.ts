import { z } from 'zod';
import { tokenBytes as bpeRanks, countTokens, encodePieces } from '../tokenizer.ts';

/** Where a 1-based page starts, as a UTF-16 offset into the extracted text. */
export type PageStart = { page: number; start: number };

export type Chunk = {
  index: number;
  text: string;
  tokens: number;
  charStart: number;
  charEnd: number;
  page: number | null;
};

export type ChunkSize = { maxTokens: number; overlapTokens: number };
export type ChunkOptions = ChunkSize & { pages?: PageStart[] | null };

/** A character can take 4 byte tokens; below this a window cut inside characters might not fit one. */
export const MIN_CHUNK_TOKENS = 8;

// Token boundary flags. Every tokenizer piece boundary is a safe chunk start: re-encoding from there
// yields the same pieces. It is a safe end too, except between two all-whitespace pieces: the
// tokenizer's `\s+$` alternative would merge them at the end of a slice.
// Inside a piece, a boundary between whole characters is the next best thing (the slice is recounted).
const START_OK = 1;
const END_OK = 2;
const CHAR_OK = 4;

// How good a place to cut is; higher wins.
const CHAR = 1;
const PIECE = 2;
const WORD = 3;
const LINE = 4;
const SENTENCE = 5;
const PARAGRAPH = 6;

// What chunkText guarantees (the tests check each):
// - chunk.text === text.slice(charStart, charEnd), and chunk.tokens is the token count of chunk.text
//   re-encoded on its own, never more than maxTokens;
// - chunks are in text order (charStart and charEnd strictly increase), indexed 0..n-1, and every
//   non-whitespace character is in one (gaps between chunks are whitespace only);
// - with both cuts on tokenizer piece boundaries (always, for ordinary prose), consecutive chunks
//   share overlapTokens to overlapTokens + min(overlapTokens, maxTokens / 8) tokens, and every chunk
//   but the last has at least 3/4 of maxTokens;
// - page is the page holding the chunk's first non-whitespace character.
// Linear: one tokenization, bounded scans per chunk; only windows cut inside a tokenizer piece (text
// with no break for maxTokens / 4 tokens) are re-encoded, once or a few times each.

/** Splits text into windows of at most maxTokens cl100k_base tokens that overlap by about overlapTokens. */
export function chunkText(text: string, opts: ChunkOptions): Chunk[] {
  const { maxTokens: max, overlapTokens: overlap } = opts;
  if (!Number.isInteger(max) || max < MIN_CHUNK_TOKENS) {
    throw new RangeError(`maxTokens must be an integer >= ${MIN_CHUNK_TOKENS} (got ${max})`);
  }
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > max / 2) {
    throw new RangeError(`overlapTokens must be an integer from 0 to maxTokens / 2 (got ${overlap})`);
  }
  if (firstNonSpace(text, 0, text.length) === text.length) return [];

  const { at, flags } = tokenBoundaries(text);
  const n = at.length - 1;
  const pages = opts.pages?.length ? [...opts.pages].sort((a, b) => a.start - b.start) : null;
  const snap = Math.min(overlap, Math.floor(max / 8));
  const chunks: Chunk[] = [];
  let lastEnd = 0;
  let s = 0;
  for (;;) {
    // End in the last quarter of the window, at the best break there.
    let e = s + max >= n ? n : bestCut(text, at, flags, s + max - Math.floor(max / 4), s + max, END_OK);
    const charStart = at[s]!;
    let charEnd = at[e]!;
    let tokens = e - s;
    if (!(flags[s]! & START_OK && flags[e]! & END_OK)) ({ e, charEnd, tokens } = fit(text, at, s, e, max));
    const first = firstNonSpace(text, charStart, charEnd);
    // Skip windows of only whitespace, and windows the previous chunk already holds (possible only
    // when cuts fall inside characters).
    if (first < charEnd && charEnd > lastEnd) {
      const page = pages ? pageAt(pages, first) : null;
      chunks.push({
        index: chunks.length,
        text: text.slice(charStart, charEnd),
        tokens,
        charStart,
        charEnd,
        page,
      });
      lastEnd = charEnd;
    }
    if (e >= n) return chunks;
    // Start overlapTokens before that end, or up to `snap` tokens earlier at a better break, and
    // at least one character after this start.
    const target = Math.max(s + 1, e - overlap);
    let next = bestCut(text, at, flags, Math.max(s + 1, target - snap), target, START_OK);
    while (at[next]! <= charStart) next++;
    s = next;
  }
}

/**
 * Tokenizes once. at[k] is the UTF-16 offset of token boundary k (rounded down to a character
 * start when a token ends inside a multi-byte character); flags[k] says whether k is a safe cut.
 */
function tokenBoundaries(text: string): { at: number[]; flags: number[] } {
  const at = [0];
  const flags = [START_OK | END_OK | CHAR_OK];
  let char = 0;
  let pending = 0; // token bytes not yet matched to whole characters
  let prevBlank = false;
  // encodePieces yields the tokens of one pre-tokenizer piece at a time.
  for (const piece of encodePieces(text)) {
    const pieceStart = char;
    for (const token of piece) {
      pending += tokenBytes(token);
      while (char < text.length) {
        const code = text.charCodeAt(char);
        let bytes = code < 0x80 ? 1 : code < 0x800 ? 2 : 3; // a lone surrogate encodes as U+FFFD: 3 bytes
        let units = 1;
        if (code >= 0xd800 && code <= 0xdbff) {
          const low = text.charCodeAt(char + 1);
          if (low >= 0xdc00 && low <= 0xdfff) {
            bytes = 4;
            units = 2;
          }
        }
        if (bytes > pending) break;
        pending -= bytes;
        char += units;
      }
      at.push(char);
      flags.push(pending === 0 ? CHAR_OK : 0);
    }
    if (pending !== 0) throw new Error('chunkText: a tokenizer piece ended inside a character');
    const blank = firstNonSpace(text, pieceStart, char) === char;
    flags[flags.length - 1] = START_OK | CHAR_OK | (blank && prevBlank ? 0 : END_OK);
    prevBlank = blank;
  }
  if (char !== text.length) throw new Error('chunkText: tokens do not cover the text');
  flags[flags.length - 1] = START_OK | END_OK | CHAR_OK;
  return { at, flags };
}

// Sized on first use, not at import: touching bpeRanks loads the 1 MB rank table (a Lambda cold start pays for it).
let byteLengths: Uint16Array | undefined; // 0 = not computed yet

function tokenBytes(token: number): number {
  byteLengths ??= new Uint16Array(bpeRanks.length);
  const known = byteLengths[token];
  if (known) return known;
  const entry = bpeRanks[token];
  if (entry === undefined) throw new Error(`chunkText: cl100k_base has no token ${token}`);
  const bytes = typeof entry === 'string' ? Buffer.byteLength(entry, 'utf8') : entry.length;
  byteLengths[token] = bytes;
  return bytes;
}

/** The best cut in [lo, hi]: the highest level, the latest on a tie; hi when none is even CHAR_OK. */
function bestCut(text: string, at: number[], flags: number[], lo: number, hi: number, safe: number): number {
  let best = hi;
  let bestLevel = 0;
  for (let k = hi; k >= lo; k--) {
    const f = flags[k]!;
    const level = f & safe ? breakLevel(text, at[k]!) : f & CHAR_OK ? CHAR : 0;
    if (level > bestLevel) {
      best = k;
      bestLevel = level;
      if (level === PARAGRAPH) break;
    }
  }
  return best;
}

/** For a window with an unsafe edge: count the slice's tokens for real and shrink it until it fits. */
function fit(text: string, at: number[], s: number, end: number, max: number) {
  const charStart = at[s]!;
  let e = end;
  for (;;) {
    // A window inside one character widens to that whole character (at most 4 tokens).
    while (at[e]! <= charStart) e++;
    const charEnd = at[e]!;
    const tokens = countTokens(text.slice(charStart, charEnd));
    if (tokens <= max || e === s + 1) return { e, charEnd, tokens };
    e = Math.max(s + 1, e - (tokens - max));
  }
}

const LOOKBACK = 64;

function breakLevel(text: string, c: number): number {
  let i = c - 1;
  let newlines = 0;
  while (i >= 0 && c - i <= LOOKBACK && isSpace(text.charCodeAt(i))) {
    if (text.charCodeAt(i) === 10) newlines++;
    i--;
  }
  if (newlines >= 2) return PARAGRAPH;
  const spaceAfter = i < c - 1 || c >= text.length || isSpace(text.charCodeAt(c));
  if (endsSentence(text, i, spaceAfter)) return SENTENCE;
  if (newlines === 1) return LINE;
  return spaceAfter || (c > 0 && isSpace(text.charCodeAt(c - 1))) ? WORD : PIECE;
}

const CLOSERS = new Set([0x22, 0x27, 0x29, 0x5d, 0x7d, 0x2019, 0x201d, 0xbb]); // " ' ) ] } ’ ” »
const LATIN_STOPS = new Set([0x2e, 0x21, 0x3f, 0x2026]); // . ! ? …
const CJK_STOPS = new Set([0x3002, 0xff01, 0xff1f, 0xff0e, 0x0964]); // 。！？．।

function endsSentence(text: string, last: number, spaceAfter: boolean): boolean {
  let i = last;
  while (i > 0 && last - i < 3 && CLOSERS.has(text.charCodeAt(i))) i--;
  const code = text.charCodeAt(i);
  return CJK_STOPS.has(code) || (spaceAfter && LATIN_STOPS.has(code));
}

/** JavaScript's `\s`, the class the tokenizer splits on. */
function isSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

function firstNonSpace(text: string, from: number, to: number): number {
  let i = from;
  while (i < to && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** The page holding offset pos: the last page starting at or before it. */
function pageAt(pages: PageStart[], pos: number): number | null {
  let lo = 0;
  let hi = pages.length - 1;
  let found: number | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (pages[mid]!.start <= pos) {
      found = pages[mid]!.page;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

const size = (field: string, min: number, max: number) =>
  z
    .int({ error: `${field} must be an integer` })
    .min(min, { error: `${field} must be at least ${min}` })
    .max(max, { error: `${field} must be at most ${max}` });

/** OpenAI's StaticFileChunkingStrategy: max 100..4096 tokens, overlap at most half of it. */
export const StaticChunkingSchema = z
  .strictObject({
    max_chunk_size_tokens: size('max_chunk_size_tokens', 100, 4096),
    chunk_overlap_tokens: size('chunk_overlap_tokens', 0, 4096),
  })
  .refine((s) => s.chunk_overlap_tokens <= s.max_chunk_size_tokens / 2, {
    path: ['chunk_overlap_tokens'],
    error: 'chunk_overlap_tokens must not exceed half of max_chunk_size_tokens',
  });

/** OpenAI's FileChunkingStrategyParam: {type: 'auto'} or {type: 'static', static: {...}}. */
export const ChunkingStrategySchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('auto') }),
    z.strictObject({ type: z.literal('static'), static: StaticChunkingSchema }),
  ],
  { error: "type must be 'auto' or 'static'" },
);

export type ChunkingStrategy = z.infer<typeof ChunkingStrategySchema>;

/** Token sizes for a chunking strategy; 'auto' and no strategy mean the configured defaults. */
export function resolveChunking(
  strategy: ChunkingStrategy | null | undefined,
  defaults: ChunkSize,
): ChunkSize {
  if (strategy?.type === 'static') {
    return {
      maxTokens: strategy.static.max_chunk_size_tokens,
      overlapTokens: strategy.static.chunk_overlap_tokens,
    };
  }
  return { maxTokens: defaults.maxTokens, overlapTokens: defaults.overlapTokens };
}
