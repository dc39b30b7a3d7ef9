import {
  MaiaPreviewQuery,
  MaiaPreviewResponse,
  MaiaQueryRequest,
  MaiaQueryResponse,
  MaiaSearchRequest,
  MaiaSearchResponse,
} from '@vsdb/core/maia/schemas';
import { maiaSearch } from '@vsdb/core/maia/search';
import { previewStructured, queryStructured } from '@vsdb/core/maia/structured';
import { endpoint } from '../http/endpoint.ts';

const store = '/v1/vector_stores/{vector_store_id}';
const tag = 'structured';

/** MAIA's search, structured query (a store's CSV rows, or one file's) and CSV preview. */
export const maiaSearchEndpoints = [
  endpoint({
    method: 'post',
    path: `${store}/search`,
    operationId: 'search_v1_vector_stores__vector_store_id__search_post',
    summary: 'Search',
    tag: 'search',
    body: MaiaSearchRequest,
    response: MaiaSearchResponse,
    handler: (c, { params, body }) =>
      maiaSearch(c.get('deps'), c.get('projectId'), params.vector_store_id, body),
  }),
  endpoint({
    method: 'post',
    path: `${store}/query`,
    operationId: 'query_structured_v1_vector_stores__vector_store_id__query_post',
    summary: 'Query Structured',
    tag,
    body: MaiaQueryRequest,
    response: MaiaQueryResponse,
    handler: (c, { params, body }) =>
      queryStructured(c.get('deps').sql, c.get('projectId'), params.vector_store_id, body.sql),
  }),
  endpoint({
    method: 'post',
    path: `${store}/files/{file_id}/query`,
    summary: "Query one CSV file's rows with SQL (beyond MAIA)",
    tag,
    body: MaiaQueryRequest,
    response: MaiaQueryResponse,
    handler: (c, { params, body }) =>
      queryStructured(
        c.get('deps').sql,
        c.get('projectId'),
        params.vector_store_id,
        body.sql,
        params.file_id,
      ),
  }),
  endpoint({
    method: 'get',
    path: `${store}/files/{file_id}/preview`,
    operationId: 'preview_file_v1_vector_stores__vector_store_id__files__file_id__preview_get',
    summary: 'Preview File',
    tag,
    query: MaiaPreviewQuery,
    response: MaiaPreviewResponse,
    handler: (c, { params, query }) =>
      previewStructured(
        c.get('deps').sql,
        c.get('projectId'),
        params.vector_store_id,
        params.file_id,
        query.limit,
      ),
  }),
];
