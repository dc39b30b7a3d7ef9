import { z } from 'zod';
import { MAX_SEARCH_WINDOW } from '../limits.ts';
import { AttributeValues } from '../schemas.ts';
import { combineFilters, type Filter, FilterSchema, FlatFilterSchema, filterLimitError } from './filters.ts';

// The wire contract of POST /v1/vector_stores/{id}/search and POST /v1/search.

const Query = z.string().trim().min(1, 'query must not be empty').max(4096);

const SearchFields = {
  query: z.union([Query, z.array(Query).min(1).max(10)]).optional(),
  filters: FilterSchema.optional(),
  max_num_results: z.number().int().min(1).max(50).optional(),
  ranking_options: z
    .strictObject({
      ranker: z.enum(['none', 'auto', 'default-2024-11-15']).optional(),
      score_threshold: z.number().min(0).max(1).optional(),
      hybrid_search: z
        .strictObject({ embedding_weight: z.number().min(0).max(1), text_weight: z.number().min(0).max(1) })
        .refine((w) => w.embedding_weight + w.text_weight > 0, 'the weights must not both be 0')
        .optional(),
    })
    .optional(),
  rewrite_query: z.boolean().optional(),
  // MAIA's dialect
  max_results: z.number().int().min(1).max(100).optional(),
  filter: FlatFilterSchema.optional(),
  score_threshold: z.number().min(0).max(1).optional(),
  search_mode: z.enum(['vector', 'keyword', 'hybrid']).optional(),
  query_embedding: z.array(z.number().finite()).min(1).max(4000).optional(),
  // Ours: the next_page of a previous answer to the same request, parsed into the offset it stands for.
  page: z
    .string()
    .max(200)
    .optional()
    .transform((page, ctx) => {
      if (page === undefined) return 0;
      const m = /^offset:(\d{1,6})$/.exec(Buffer.from(page, 'base64url').toString());
      if (m) return Number(m[1]);
      ctx.addIssue({ code: 'custom', message: 'page is not a next_page value this server gave.' });
      return z.NEVER;
    }),
};

/** The next_page of a page that ends at `offset`. */
export const encodePage = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64url');

/** Results per page: MAIA's max_results, else OpenAI's max_num_results, else 10. */
export const pageSize = (p: { max_results?: number; max_num_results?: number }) =>
  p.max_results ?? p.max_num_results ?? 10;

const needsQuery = (
  p: {
    query?: unknown;
    query_embedding?: unknown;
    filters?: Filter;
    filter?: Record<string, string | number | boolean>;
    page: number;
    max_results?: number;
    max_num_results?: number;
  },
  ctx: z.RefinementCtx,
) => {
  if (p.query === undefined && p.query_embedding === undefined) {
    ctx.addIssue({ code: 'custom', path: ['query'], message: 'query is required' });
  }
  // The filter searched is `filters` and `filter` together: it is held to the filter limits as a whole.
  const tooBig = p.filter && filterLimitError(combineFilters(p.filters, p.filter));
  if (tooBig) ctx.addIssue({ code: 'custom', path: ['filter'], message: tooBig });
  if (p.page + pageSize(p) > MAX_SEARCH_WINDOW) {
    ctx.addIssue({
      code: 'custom',
      path: ['page'],
      message: `Results past the first ${MAX_SEARCH_WINDOW} are not served.`,
    });
  }
};

export const VectorStoreSearchParams = z.strictObject(SearchFields).superRefine(needsQuery);
export type VectorStoreSearchParams = z.infer<typeof VectorStoreSearchParams>;

/** Our extension: one global top-k across several stores. */
export const MultiStoreSearchParams = z
  .strictObject({ ...SearchFields, vector_store_ids: z.array(z.string().min(1).max(128)).min(1).max(100) })
  .superRefine(needsQuery);

export const SearchResultItem = z.object({
  file_id: z.string(),
  filename: z.string(),
  score: z.number().min(0).max(1),
  attributes: AttributeValues,
  content: z.array(z.object({ type: z.literal('text'), text: z.string() })),
  // Our extras: only with the `X-Search-Extras: true` header (or on /v1/search), as the spec's item has none.
  vector_store_id: z.string().optional(),
  chunk_index: z.number().int().optional(),
  page: z.number().int().nullable().optional(),
  score_details: z.object({ vector: z.number().nullable(), text: z.number().nullable() }).optional(),
});
export type SearchResultItem = z.infer<typeof SearchResultItem>;

export const SearchResultsPage = z
  .object({
    object: z.literal('vector_store.search_results.page'),
    search_query: z.array(z.string()),
    data: z.array(SearchResultItem),
    has_more: z.boolean(),
    next_page: z.string().nullable(),
  })
  .meta({ id: 'SearchResultsPage' });
export type SearchResultsPage = z.infer<typeof SearchResultsPage>;
