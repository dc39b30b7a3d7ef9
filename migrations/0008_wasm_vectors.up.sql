-- On a server compiled to WebAssembly (the embedded engine, PGlite), halfvec's half-float conversions run
-- in software: inserting a 1,536-d chunk into the HNSW graph took 29 ms as halfvec and 8 ms as vector
-- (3,000 rows, one engine), and the engine serves one statement at a time, so every read waits behind
-- that. There embeddings are stored at full precision. Native servers keep halfvec (half the storage and
-- I/O; the CPU converts). Only while nothing is stored yet: converting a filled table would rewrite it and
-- rebuild its index before the server answers, so a database that already holds embeddings keeps halfvec.
DO $$
BEGIN
  IF version() LIKE '%wasm32%'
     AND (SELECT format_type(atttypid, NULL) FROM pg_attribute
          WHERE attrelid = 'chunks'::regclass AND attname = 'embedding') = 'halfvec'
     AND NOT EXISTS (SELECT 1 FROM chunks) AND NOT EXISTS (SELECT 1 FROM embedding_cache) THEN
    DROP INDEX chunks_embedding;
    ALTER TABLE chunks ALTER COLUMN embedding TYPE vector({{EMBEDDING_DIMENSIONS}});
    CREATE INDEX chunks_embedding ON chunks USING hnsw (embedding vector_cosine_ops)
      WITH (m = 16, ef_construction = 64);
    ALTER TABLE embedding_cache ALTER COLUMN embedding TYPE vector;
  END IF;
END $$;
