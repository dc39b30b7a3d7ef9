-- When each cached embedding was last used: lookups move it (at most once a day), and maintenance removes
-- the entries unused for EMBEDDING_CACHE_RETENTION_DAYS, so the cache does not grow without bound.
ALTER TABLE embedding_cache ADD COLUMN used_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX embedding_cache_used_at ON embedding_cache (used_at);
