-- What search and ingestion need to know without counting: per-store chunk and token counts and
-- per-store term document frequencies (search planning and BM25), kept by triggers on chunks, so
-- that every insert and delete (ingestion, re-ingestion, detach, file or store deletion, cascades
-- included) keeps them exact in the same transaction; and a content-addressed embedding cache.
ALTER TABLE vector_stores
  ADD COLUMN chunk_count bigint NOT NULL DEFAULT 0,
  ADD COLUMN token_count bigint NOT NULL DEFAULT 0,           -- lexeme occurrences in its chunks (BM25 length)
  ADD COLUMN embedding_cache_hits bigint NOT NULL DEFAULT 0,  -- chunks whose embedding came from the cache
  ADD COLUMN embedding_cache_misses bigint NOT NULL DEFAULT 0;

-- In how many chunks of a store each lexeme occurs (BM25's document frequency).
CREATE TABLE chunk_terms (
  vector_store_id text NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
  lexeme          text NOT NULL,
  chunks          integer NOT NULL,
  PRIMARY KEY (vector_store_id, lexeme)
);

-- Lexeme occurrences in a tsvector (a chunk's length for BM25; Postgres keeps 256 positions a lexeme at most).
CREATE FUNCTION tsvector_tokens(v tsvector) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT coalesce(sum(coalesce(array_length(positions, 1), 1)), 0)::integer FROM unnest(v) $$;

-- Adds a statement's inserted chunks to their stores' statistics, or takes its deleted ones away.
-- The stores' rows are locked first (in id order), so writers to one store take turns and never
-- deadlock over its terms. A store being deleted is no longer visible here and is skipped: its
-- rows go with it.
CREATE FUNCTION chunks_stats() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  sign integer := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
BEGIN
  PERFORM 1 FROM vector_stores WHERE id IN (SELECT DISTINCT vector_store_id FROM changed)
    ORDER BY id FOR NO KEY UPDATE;
  INSERT INTO chunk_terms AS t (vector_store_id, lexeme, chunks)
    SELECT c.vector_store_id, u.lexeme, sign * count(*)
    FROM changed c JOIN vector_stores s ON s.id = c.vector_store_id, unnest(c.tsv) u
    GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (vector_store_id, lexeme) DO UPDATE SET chunks = t.chunks + excluded.chunks;
  UPDATE vector_stores s SET chunk_count = s.chunk_count + sign * d.n, token_count = s.token_count + sign * d.tokens
  FROM (SELECT vector_store_id, count(*) AS n, sum(tsvector_tokens(tsv)) AS tokens
        FROM changed GROUP BY 1) d
  WHERE s.id = d.vector_store_id;
  RETURN NULL;
END $$;

CREATE TRIGGER chunks_stats_insert AFTER INSERT ON chunks
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION chunks_stats();
CREATE TRIGGER chunks_stats_delete AFTER DELETE ON chunks
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION chunks_stats();

-- Statistics of the chunks already stored.
UPDATE vector_stores s SET chunk_count = d.n, token_count = d.tokens
FROM (SELECT vector_store_id, count(*) AS n, sum(tsvector_tokens(tsv)) AS tokens FROM chunks GROUP BY 1) d
WHERE s.id = d.vector_store_id;
INSERT INTO chunk_terms (vector_store_id, lexeme, chunks)
  SELECT c.vector_store_id, u.lexeme, count(*) FROM chunks c, unnest(c.tsv) u GROUP BY 1, 2;

-- One embedding per (model, dimensions, text): reused when the same text is embedded again, for a
-- chunk (another store, a re-attach, a re-upload, overlapping documents) or a search query.
CREATE TABLE embedding_cache (
  model       text NOT NULL,
  dimensions  integer NOT NULL,
  text_sha256 bytea NOT NULL,
  embedding   halfvec NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model, dimensions, text_sha256)
);

-- Okapi BM25 (k1 = 1.2, b = 0.75) of a chunk for query lexemes with their inverse document frequencies.
CREATE FUNCTION chunk_bm25(tsv tsvector, lexemes text[], idf float8[], avg_tokens float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT sum(q.idf * u.tf * 2.2 / (u.tf + 1.2 * (0.25 + 0.75 * d.len / greatest(avg_tokens, 1))))
  FROM (SELECT tsvector_tokens(tsv) AS len) d,
    unnest(lexemes, idf) AS q(lexeme, idf)
    JOIN (SELECT e.lexeme, coalesce(array_length(e.positions, 1), 1) AS tf FROM unnest(tsv) e) u
      ON u.lexeme = q.lexeme
$$;
