DROP TABLE IF EXISTS embedding_cache;
DROP TRIGGER IF EXISTS chunks_stats_insert ON chunks;
DROP TRIGGER IF EXISTS chunks_stats_delete ON chunks;
DROP FUNCTION IF EXISTS chunks_stats();
DROP FUNCTION IF EXISTS chunk_bm25(tsvector, text[], float8[], float8);
DROP FUNCTION IF EXISTS tsvector_tokens(tsvector);
DROP TABLE IF EXISTS chunk_terms;
ALTER TABLE vector_stores
  DROP COLUMN IF EXISTS chunk_count,
  DROP COLUMN IF EXISTS token_count,
  DROP COLUMN IF EXISTS embedding_cache_hits,
  DROP COLUMN IF EXISTS embedding_cache_misses;
