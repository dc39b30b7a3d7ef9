DO $$
BEGIN
  IF (SELECT format_type(atttypid, NULL) FROM pg_attribute
      WHERE attrelid = 'chunks'::regclass AND attname = 'embedding') = 'vector' THEN
    DROP INDEX chunks_embedding;
    ALTER TABLE chunks ALTER COLUMN embedding TYPE halfvec({{EMBEDDING_DIMENSIONS}})
      USING embedding::halfvec({{EMBEDDING_DIMENSIONS}});
    CREATE INDEX chunks_embedding ON chunks USING hnsw (embedding halfvec_cosine_ops)
      WITH (m = 16, ef_construction = 64);
    ALTER TABLE embedding_cache ALTER COLUMN embedding TYPE halfvec USING embedding::halfvec;
  END IF;
END $$;
