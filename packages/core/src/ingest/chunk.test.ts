import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countTokens } from '../tokenizer.ts';
import { type Chunk, ChunkingStrategySchema, chunkText, type PageStart, resolveChunking } from './chunk.ts';

type Opts = { maxTokens: number; overlapTokens: number; pages?: PageStart[] | null };

/** The properties every chunking must have, checked against the text alone. */
function expectValidChunks(text: string, chunks: Chunk[], opts: Opts) {
  const covered = new Uint8Array(text.length);
  chunks.forEach((c, i) => {
    expect(c.index).toBe(i);
    expect(c.charStart).toBeLessThan(c.charEnd);
    expect(c.text).toBe(text.slice(c.charStart, c.charEnd));
    expect(c.tokens).toBe(countTokens(c.text));
    expect(c.tokens).toBeLessThanOrEqual(opts.maxTokens);
    expect(c.text).toMatch(/\S/);
    covered.fill(1, c.charStart, c.charEnd);
    const prev = chunks[i - 1];
    if (prev) {
      expect(c.charStart).toBeGreaterThan(prev.charStart);
      expect(c.charEnd).toBeGreaterThan(prev.charEnd);
      // A gap between chunks may only be whitespace (an all-whitespace window is not emitted).
      if (c.charStart > prev.charEnd) expect(text.slice(prev.charEnd, c.charStart)).not.toMatch(/\S/);
    }
    const pages = opts.pages?.length ? opts.pages : null;
    const first = c.charStart + c.text.search(/\S/);
    expect(c.page).toBe(pages ? (pages.filter((p) => p.start <= first).at(-1)?.page ?? null) : null);
  });
  for (let i = 0; i < text.length; i++) {
    if (!covered[i] && /\S/.test(text[i]!))
      expect.fail(`character ${i} (${JSON.stringify(text[i])}) is in no chunk`);
  }
}

// Pieces chosen to stress the tokenizer: multi-byte and astral characters, ZWJ sequences, combining
// marks, lone surrogates, scripts without spaces, special-token strings, odd whitespace.
const atom = fc.oneof(
  fc.constantFrom(
    'the',
    ' quick',
    ' brown fox',
    '.',
    ',',
    '!',
    ' ?',
    '"',
    ' ',
    '   ',
    '\n',
    '\n\n',
    ' \n \n ',
    '\t',
    '\r\n',
    '\u00a0',
    '\u3000',
    '😀',
    '👍🏽',
    '👨‍👩‍👧',
    '🇯🇵',
    '日本語のテキスト',
    '。',
    '中文字符没有空格',
    '한국어',
    'e\u0301',
    'a\u0308\u0323\u0301',
    'मनुष्य',
    'ﷺ',
    '<|endoftext|>',
    '1234567',
    'https://example.com/a?b=c',
    '\ud83d',
    '\udc00',
    'supercalifragilisticexpialidocious',
  ),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 4 }),
);
const anyText = fc.array(atom, { maxLength: 250, size: 'max' }).map((parts) => parts.join(''));

const sizes = fc.integer({ min: 8, max: 64 }).chain((maxTokens) =>
  fc.record({
    maxTokens: fc.constant(maxTokens),
    overlapTokens: fc.integer({ min: 0, max: maxTokens >> 1 }),
  }),
);

/** Random page starts over a text of the given length: page 1 at 0, then increasing offsets. */
const pagesFor = (length: number) =>
  fc
    .uniqueArray(fc.integer({ min: 1, max: Math.max(1, length) }), { maxLength: 6 })
    .map((cuts) => [0, ...cuts.sort((a, b) => a - b)].map((start, i) => ({ page: i + 1, start })));

// English words that are one token each, so every token boundary is a piece boundary.
const word = fc.constantFrom(
  ' the',
  ' cat',
  ' sat',
  ' on',
  ' a',
  ' mat',
  ' and',
  ' then',
  ' it',
  ' ran',
  ' far',
);
const separator = fc.constantFrom('', '', '', '', ',', '.', '!', '.\n', '.\n\n', '\n');
const wordText = fc
  .array(fc.tuple(word, separator), { minLength: 1, maxLength: 400, size: 'max' })
  .map((xs) => `Start${xs.map(([w, s]) => w + s).join('')}`);

describe('chunkText', () => {
  it('returns no chunks for empty or blank text', () => {
    expect(chunkText('', { maxTokens: 100, overlapTokens: 0 })).toEqual([]);
    expect(chunkText(' \n\t\u3000\n ', { maxTokens: 100, overlapTokens: 50 })).toEqual([]);
  });

  it('keeps a short text whole', () => {
    const text = 'Hello, world. <|endoftext|> is just text here. 😀';
    expect(chunkText(text, { maxTokens: 100, overlapTokens: 50 })).toEqual([
      { index: 0, text, tokens: countTokens(text), charStart: 0, charEnd: text.length, page: null },
    ]);
  });

  it('rejects sizes it cannot honour', () => {
    expect(() => chunkText('x', { maxTokens: 4, overlapTokens: 0 })).toThrow(RangeError);
    expect(() => chunkText('x', { maxTokens: 100.5, overlapTokens: 0 })).toThrow(/maxTokens/);
    expect(() => chunkText('x', { maxTokens: 100, overlapTokens: 51 })).toThrow(/overlapTokens/);
    expect(() => chunkText('x', { maxTokens: 100, overlapTokens: -1 })).toThrow(/overlapTokens/);
  });

  it('ends chunks at paragraph breaks when one is in the last quarter of the window', () => {
    const paragraph = `${' word'.repeat(84)}.`; // 85 tokens
    const text = Array.from({ length: 6 }, () => paragraph).join('\n\n');
    const chunks = chunkText(text, { maxTokens: 100, overlapTokens: 0 });
    expectValidChunks(text, chunks, { maxTokens: 100, overlapTokens: 0 });
    for (const c of chunks.slice(0, -1)) expect(c.text).toMatch(/\.\n\n$/);
    expect(chunks.length).toBe(6);
  });

  it('prefers sentence ends to word boundaries', () => {
    const text = Array.from({ length: 200 }, (_, i) => `Sentence number ${i} has a few words in it.`).join(
      ' ',
    );
    const chunks = chunkText(text, { maxTokens: 100, overlapTokens: 20 });
    expectValidChunks(text, chunks, { maxTokens: 100, overlapTokens: 20 });
    for (const c of chunks.slice(0, -1)) expect(c.text).toMatch(/\.$/);
    // Starts may move back up to maxTokens/8 tokens to begin at a sentence.
    expect(chunks.slice(1).filter((c) => /^ Sentence/.test(c.text)).length).toBeGreaterThan(
      chunks.length / 2,
    );
  });

  it('cuts text without any break at maxTokens and still reports true counts', () => {
    const text = '中文字符没有空格'.repeat(400) + 'x'.repeat(5000);
    const opts = { maxTokens: 100, overlapTokens: 30 };
    const chunks = chunkText(text, opts);
    expectValidChunks(text, chunks, opts);
    expect(chunks.length).toBeGreaterThan(10);
  });

  it('attributes each chunk to the page of its first non-blank character', () => {
    const pageTexts = ['First page. '.repeat(40), 'Second page. '.repeat(40), '', 'Fourth page. '.repeat(40)];
    let text = '';
    const pages: PageStart[] = [];
    pageTexts.forEach((body, i) => {
      if (body && text) text += '\n\n';
      pages.push({ page: i + 1, start: text.length });
      text += body;
    });
    const opts = { maxTokens: 100, overlapTokens: 0, pages };
    const chunks = chunkText(text, opts);
    expectValidChunks(text, chunks, opts);
    for (const c of chunks)
      expect(c.text.trim().split(' ')[0]).toBe(['', 'First', 'Second', '', 'Fourth'][c.page!]);
    expect(new Set(chunks.map((c) => c.page))).toEqual(new Set([1, 2, 4]));
  });

  it('holds its invariants on arbitrary unicode text', () => {
    fc.assert(
      fc.property(
        anyText.chain((text) => fc.tuple(fc.constant(text), sizes, fc.option(pagesFor(text.length)))),
        ([text, size, pages]) => {
          const opts = { ...size, pages };
          expectValidChunks(text, chunkText(text, opts), opts);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('overlaps consecutive chunks by overlapTokens plus at most min(overlapTokens, maxTokens/8)', () => {
    fc.assert(
      fc.property(wordText, sizes, (text, opts) => {
        const chunks = chunkText(text, opts);
        expectValidChunks(text, chunks, opts);
        const slack = Math.floor(opts.maxTokens / 4);
        const snap = Math.min(opts.overlapTokens, Math.floor(opts.maxTokens / 8));
        chunks.forEach((c, i) => {
          const prev = chunks[i - 1];
          if (i < chunks.length - 1) expect(c.tokens).toBeGreaterThanOrEqual(opts.maxTokens - slack);
          if (!prev) return;
          const shared = countTokens(text.slice(c.charStart, prev.charEnd));
          expect(shared).toBeGreaterThanOrEqual(opts.overlapTokens);
          expect(shared).toBeLessThanOrEqual(opts.overlapTokens + snap);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('chunks a long realistic document within the bounds', () => {
    const sentences = [
      'The vector store splits each file into overlapping chunks.',
      'Every chunk is embedded separately, so its size decides what a search can match.',
      'Résumé, naïve café: accents must survive the round trip — as must “quotes” and emoji 🎉.',
      'Numbers like 3.14159 and 1,000,000 should not end a sentence.',
    ];
    const text = Array.from(
      { length: 3000 },
      (_, i) => sentences[i % sentences.length]! + (i % 7 === 6 ? '\n\n' : ' '),
    ).join('');
    const opts = { maxTokens: 800, overlapTokens: 400 };
    const chunks = chunkText(text, opts);
    expectValidChunks(text, chunks, opts);
    const total = countTokens(text);
    // Stride is at least maxTokens/4 and at most maxTokens - overlapTokens.
    expect(chunks.length).toBeGreaterThanOrEqual(Math.floor(total / 400));
    expect(chunks.length).toBeLessThanOrEqual(Math.ceil(total / 200) + 1);
  });
});

describe('chunking strategy', () => {
  const defaults = { maxTokens: 800, overlapTokens: 400 };

  it('resolves auto, missing and static strategies', () => {
    expect(resolveChunking(undefined, defaults)).toEqual(defaults);
    expect(resolveChunking(null, defaults)).toEqual(defaults);
    expect(resolveChunking({ type: 'auto' }, defaults)).toEqual(defaults);
    const parsed = ChunkingStrategySchema.parse({
      type: 'static',
      static: { max_chunk_size_tokens: 1000, chunk_overlap_tokens: 500 },
    });
    expect(resolveChunking(parsed, defaults)).toEqual({ maxTokens: 1000, overlapTokens: 500 });
  });

  const issue = (input: unknown) => {
    const result = ChunkingStrategySchema.safeParse(input);
    if (result.success) throw new Error(`accepted ${JSON.stringify(input)}`);
    const first = result.error.issues[0]!;
    return `${first.path.join('.')}: ${first.message}`;
  };
  const staticOf = (max: unknown, overlap: unknown) => ({
    type: 'static',
    static: { max_chunk_size_tokens: max, chunk_overlap_tokens: overlap },
  });

  it("enforces OpenAI's limits with messages that name the field", () => {
    expect(ChunkingStrategySchema.parse(staticOf(100, 50))).toEqual(staticOf(100, 50));
    expect(ChunkingStrategySchema.parse(staticOf(4096, 0))).toEqual(staticOf(4096, 0));
    expect(issue(staticOf(99, 0))).toBe(
      'static.max_chunk_size_tokens: max_chunk_size_tokens must be at least 100',
    );
    expect(issue(staticOf(4097, 0))).toBe(
      'static.max_chunk_size_tokens: max_chunk_size_tokens must be at most 4096',
    );
    expect(issue(staticOf(100.5, 0))).toBe(
      'static.max_chunk_size_tokens: max_chunk_size_tokens must be an integer',
    );
    expect(issue(staticOf('800', 0))).toBe(
      'static.max_chunk_size_tokens: max_chunk_size_tokens must be an integer',
    );
    expect(issue(staticOf(800, -1))).toBe(
      'static.chunk_overlap_tokens: chunk_overlap_tokens must be at least 0',
    );
    expect(issue(staticOf(800, 401))).toBe(
      'static.chunk_overlap_tokens: chunk_overlap_tokens must not exceed half of max_chunk_size_tokens',
    );
    expect(issue({ type: 'static' })).toMatch(/^static: /);
    expect(issue({ type: 'semantic' })).toBe("type: type must be 'auto' or 'static'");
    expect(issue({})).toBe("type: type must be 'auto' or 'static'");
  });
});
