import {
  MultiStoreSearchParams,
  SearchResultsPage,
  VectorStoreSearchParams,
} from '@vsdb/core/search/schemas';
import { searchVectorStores } from '@vsdb/core/search/service';
import { endpoint } from '../http/endpoint.ts';

const tag = 'Search';

/** The spec's result items: exactly file_id, filename, score, attributes, content. */
function withoutExtras(page: SearchResultsPage): SearchResultsPage {
  return {
    ...page,
    data: page.data.map(({ file_id, filename, score, attributes, content }) => ({
      file_id,
      filename,
      score,
      attributes,
      content,
    })),
  };
}

export const searchEndpoints = [
  endpoint({
    method: 'post',
    path: '/v1/vector_stores/{vector_store_id}/search',
    summary: 'Search a vector store',
    tag,
    body: VectorStoreSearchParams,
    response: SearchResultsPage,
    handler: async (c, { params, body }) => {
      const page = await searchVectorStores(
        c.get('deps'),
        c.get('projectId'),
        [params.vector_store_id],
        body,
      );
      return /^(1|true)$/i.test(c.req.header('x-search-extras') ?? '') ? page : withoutExtras(page);
    },
  }),
  endpoint({
    method: 'post',
    path: '/v1/search',
    summary: 'Search several vector stores (extension)',
    tag,
    body: MultiStoreSearchParams,
    response: SearchResultsPage,
    handler: (c, { body: { vector_store_ids, ...body } }) =>
      searchVectorStores(c.get('deps'), c.get('projectId'), [...new Set(vector_store_ids)], body),
  }),
];
