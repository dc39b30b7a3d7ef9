import type { Endpoint } from '../http/endpoint.ts';
import { chunkEndpoints } from './chunks.ts';
import { consoleEndpoints } from './console.ts';
import { docsEndpoints } from './docs.ts';
import { embeddingEndpoints } from './embeddings.ts';
import { fileBatchEndpoints } from './file-batches.ts';
import { fileEndpoints } from './files.ts';
import { healthEndpoints } from './health.ts';
import { searchEndpoints } from './search.ts';
import { uploadEndpoints } from './uploads.ts';
import { vectorStoreFileEndpoints } from './vector-store-files.ts';
import { vectorStoreEndpoints } from './vector-stores.ts';

/** Every endpoint the API serves: the router and /openapi.json are both built from this list. */
export const ENDPOINTS: readonly Endpoint[] = [
  ...healthEndpoints,
  ...docsEndpoints(() => ENDPOINTS),
  ...consoleEndpoints,
  ...vectorStoreEndpoints,
  ...vectorStoreFileEndpoints,
  ...chunkEndpoints,
  ...fileBatchEndpoints,
  ...searchEndpoints,
  ...fileEndpoints,
  ...embeddingEndpoints,
  ...uploadEndpoints,
];
