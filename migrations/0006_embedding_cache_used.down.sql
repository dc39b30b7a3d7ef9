DROP INDEX IF EXISTS embedding_cache_used_at;
ALTER TABLE embedding_cache DROP COLUMN IF EXISTS used_at;
