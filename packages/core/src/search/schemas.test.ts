import { describe, expect, it } from 'vitest';
import { MAX_SEARCH_WINDOW } from '../limits.ts';
import { encodePage, MultiStoreSearchParams, VectorStoreSearchParams } from './schemas.ts';

/** The path of the first issue, as the HTTP layer reports it in `param`. */
const refused = (body: unknown, schema = VectorStoreSearchParams) => {
  const r = schema.safeParse(body);
  expect(r.success).toBe(false);
  return r.error!.issues[0]!.path.join('.');
};

describe('search requests are held to their bounds where they are parsed', () => {
  it('refuses a page size out of range, a page past the window and a page this server did not give', () => {
    expect(refused({ query: 'x', max_num_results: 0 })).toBe('max_num_results');
    expect(refused({ query: 'x', max_num_results: 51 })).toBe('max_num_results');
    expect(refused({ query: 'x', max_results: 101 })).toBe('max_results');
    expect(refused({ query: 'x', page: encodePage(MAX_SEARCH_WINDOW - 5) })).toBe('page');
    expect(refused({ query: 'x', page: encodePage(MAX_SEARCH_WINDOW - 1), max_results: 2 })).toBe('page');
    expect(refused({ query: 'x', page: 'garbage' })).toBe('page');
    expect(refused({ query: 'x', page: Buffer.from('offset:-1').toString('base64url') })).toBe('page');
    expect(
      refused({ vector_store_ids: ['vs_1'], query: 'x', page: encodePage(995) }, MultiStoreSearchParams),
    ).toBe('page');
  });

  it('parses a page into the offset it stands for, up to the last full page of the window', () => {
    expect(VectorStoreSearchParams.parse({ query: 'x' }).page).toBe(0);
    expect(VectorStoreSearchParams.parse({ query: 'x', page: encodePage(990) }).page).toBe(990);
  });

  it('refuses hybrid weights that are negative or both zero, and filters out of grammar', () => {
    const weights = (embedding_weight: number, text_weight: number) => ({
      query: 'x',
      ranking_options: { hybrid_search: { embedding_weight, text_weight } },
    });
    expect(refused(weights(-1, 1))).toBe('ranking_options.hybrid_search.embedding_weight');
    expect(refused(weights(0, 0))).toBe('ranking_options.hybrid_search');
    expect(refused({ query: 'x', filters: { type: 'eq', key: 'k', value: [1] } })).toMatch(/^filters/);
  });

  it('needs a query or a query embedding', () => {
    expect(refused({})).toBe('query');
    expect(refused({ query: '  ' })).toBe('query');
  });
});
