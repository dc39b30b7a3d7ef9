import { describe, expect, it } from 'vitest';
import { testConfig } from '../../../../test/config.ts';
import { countTokens } from '../tokenizer.ts';
import { LocalEmbeddingProvider, lexicalEmbedding } from './local.ts';

const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const norm = (a: number[]) => Math.sqrt(cosine(a, a));

// [query, a text sharing its words, an unrelated text]
const TRIPLES: Array<[string, string, string]> = [
  ['How do I reset my password?', 'Resetting a forgotten password', 'Quarterly revenue grew in Europe'],
  ['vector database indexing', 'indexes for vector databases', 'chocolate cake recipe with butter'],
  ['The cat sat on the mat', 'a cat on a mat', 'stock markets fell sharply today'],
  ['東京の天気', '東京の天気は晴れ', '株価が下落した'],
  ['Größe der Datei', 'die Datei hat eine Größe', 'Wetter in Berlin'],
];

describe('LocalEmbeddingProvider', () => {
  it('is offline, lexical, and sized by EMBEDDING_DIMENSIONS or the call', async () => {
    const p = new LocalEmbeddingProvider(testConfig());
    expect(p).toMatchObject({ kind: 'local', semantic: false, dimensions: 64 });
    const r = await p.embed(['hello world', 'second text']);
    expect(r.requests).toBe(0);
    expect(r.tokens).toBe(countTokens('hello world') + countTokens('second text'));
    expect(r.embeddings.map((v) => v.length)).toEqual([64, 64]);
    const wide = await p.embed(['hello'], { dimensions: 300 });
    expect(wide.embeddings[0]).toHaveLength(300);
  });

  it('gives the same text the same vector, across calls and instances', async () => {
    const text = 'Same input, same vector: always.';
    const a = await new LocalEmbeddingProvider(testConfig()).embed([text, 'other', text]);
    const b = await new LocalEmbeddingProvider(testConfig()).embed([text]);
    expect(a.embeddings[0]).toEqual(a.embeddings[2]);
    expect(a.embeddings[0]).toEqual(b.embeddings[0]);
    expect(a.embeddings[0]).not.toEqual(a.embeddings[1]);
  });

  it('does not drift between versions (stored vectors depend on it)', () => {
    const v = lexicalEmbedding('The quick brown fox jumps over the lazy dog', 8).map((x) =>
      Number(x.toFixed(6)),
    );
    expect(v).toEqual([0.65157, -0.488678, 0.407231, 0.142531, -0.101808, 0.305424, 0.142531, -0.162893]);
  });

  it('returns unit vectors, and a fixed unit vector for text without words', () => {
    for (const text of ['hello', 'a much longer text with many many words in it', 'to be or not to be']) {
      expect(norm(lexicalEmbedding(text, 64))).toBeCloseTo(1, 10);
    }
    const empty = lexicalEmbedding('', 64);
    expect(empty).toEqual(lexicalEmbedding('  ... !!! ', 64));
    expect(norm(empty)).toBe(1);
    expect(empty.every(Number.isFinite)).toBe(true);
    // Stopword-only text keeps its own words rather than collapsing to the fixed vector.
    expect(lexicalEmbedding('to be or not to be', 64)).not.toEqual(empty);
  });

  it('scores texts sharing words clearly above unrelated texts', () => {
    const e = (t: string) => lexicalEmbedding(t, 1536);
    for (const [query, related, unrelated] of TRIPLES) {
      const q = e(query);
      expect(cosine(q, e(related)), query).toBeGreaterThan(cosine(q, e(unrelated)) + 0.3);
    }
  });

  it('still ranks related texts higher on average at 64 dimensions', () => {
    const e = (t: string) => lexicalEmbedding(t, 64);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const related = mean(TRIPLES.map(([q, r]) => cosine(e(q), e(r))));
    const unrelated = mean(TRIPLES.map(([q, , u]) => cosine(e(q), e(u))));
    expect(related).toBeGreaterThan(unrelated + 0.3);
  });

  it('keeps inflections close through stems and character trigrams', () => {
    const e = (t: string) => lexicalEmbedding(t, 1536);
    for (const [a, b] of [
      ['indexing', 'indexes'],
      ['database', 'databases'],
      ['resetting', 'reset'],
      ['queries', 'query'],
    ] as const) {
      expect(cosine(e(a), e(b)), `${a} ~ ${b}`).toBeGreaterThan(0.3);
      expect(cosine(e(a), e('banana')), `${a} !~ banana`).toBeLessThan(0.1);
    }
  });

  it('is case- and width-insensitive', () => {
    expect(lexicalEmbedding('HELLO World', 64)).toEqual(lexicalEmbedding('hello world', 64));
    expect(lexicalEmbedding('ＡＢＣ', 64)).toEqual(lexicalEmbedding('abc', 64));
  });
});
