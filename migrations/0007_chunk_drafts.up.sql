-- A file's chunks are written in short transactions of their own (so one file never holds the embedded
-- engine's single connection for long) under a new generation, which stays hidden until one short
-- statement publishes it. A generation listed in chunk_drafts is hidden: from search, listings, counts
-- and the statistics of 0004. Publishing removes its row; a failed or abandoned attempt's rows are
-- deleted (they were never visible nor counted).
ALTER TABLE chunks ADD COLUMN generation bigint NOT NULL DEFAULT 0;
ALTER TABLE chunks DROP CONSTRAINT IF EXISTS chunks_vector_store_id_file_id_chunk_index_key;
ALTER TABLE chunks ADD CONSTRAINT chunks_generation_chunk_index_key
  UNIQUE (vector_store_id, file_id, generation, chunk_index);

CREATE SEQUENCE chunk_generations;

CREATE TABLE chunk_drafts (
  vector_store_id text NOT NULL,
  file_id         text NOT NULL,
  generation      bigint NOT NULL,
  chunk_count     bigint NOT NULL DEFAULT 0,  -- what publishing adds to the store's statistics
  token_count     bigint NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (vector_store_id, file_id, generation)
  -- No foreign key: when the file is detached or deleted, its chunks go by cascade while this row still
  -- says they were hidden (so the statistics do not lose them twice); ingestion removes the row after.
);

-- The document frequencies of a draft's chunks, added to chunk_terms when it is published.
CREATE TABLE chunk_draft_terms (
  vector_store_id text NOT NULL,
  file_id         text NOT NULL,
  generation      bigint NOT NULL,
  lexeme          text NOT NULL,
  chunks          integer NOT NULL,
  PRIMARY KEY (vector_store_id, file_id, generation, lexeme),
  FOREIGN KEY (vector_store_id, file_id, generation)
    REFERENCES chunk_drafts (vector_store_id, file_id, generation) ON DELETE CASCADE
);

-- 0004's statistics, for visible chunks only. An inserted chunk of a draft counts toward its draft; a
-- deleted chunk of a draft was never counted.
CREATE OR REPLACE FUNCTION chunks_stats() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  sign integer := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE chunk_drafts d SET chunk_count = d.chunk_count + x.n, token_count = d.token_count + x.tokens
    FROM (SELECT vector_store_id, file_id, generation, count(*) AS n, sum(tsvector_tokens(tsv)) AS tokens
          FROM changed GROUP BY 1, 2, 3) x
    WHERE (d.vector_store_id, d.file_id, d.generation) = (x.vector_store_id, x.file_id, x.generation);
    INSERT INTO chunk_draft_terms AS t (vector_store_id, file_id, generation, lexeme, chunks)
      SELECT c.vector_store_id, c.file_id, c.generation, u.lexeme, count(*)
      FROM changed c JOIN chunk_drafts d USING (vector_store_id, file_id, generation), unnest(c.tsv) u
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (vector_store_id, file_id, generation, lexeme) DO UPDATE SET chunks = t.chunks + excluded.chunks;
  END IF;
  PERFORM 1 FROM vector_stores WHERE id IN (
      SELECT DISTINCT vector_store_id FROM changed c
      WHERE NOT EXISTS (SELECT 1 FROM chunk_drafts d WHERE d.vector_store_id = c.vector_store_id
                          AND d.file_id = c.file_id AND d.generation = c.generation))
    ORDER BY id FOR NO KEY UPDATE;
  INSERT INTO chunk_terms AS t (vector_store_id, lexeme, chunks)
    SELECT c.vector_store_id, u.lexeme, sign * count(*)
    FROM changed c JOIN vector_stores s ON s.id = c.vector_store_id, unnest(c.tsv) u
    WHERE NOT EXISTS (SELECT 1 FROM chunk_drafts d WHERE d.vector_store_id = c.vector_store_id
                        AND d.file_id = c.file_id AND d.generation = c.generation)
    GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (vector_store_id, lexeme) DO UPDATE SET chunks = t.chunks + excluded.chunks;
  UPDATE vector_stores s SET chunk_count = s.chunk_count + sign * d.n, token_count = s.token_count + sign * d.tokens
  FROM (SELECT vector_store_id, count(*) AS n, sum(tsvector_tokens(tsv)) AS tokens
        FROM changed c
        WHERE NOT EXISTS (SELECT 1 FROM chunk_drafts d WHERE d.vector_store_id = c.vector_store_id
                            AND d.file_id = c.file_id AND d.generation = c.generation)
        GROUP BY 1) d
  WHERE s.id = d.vector_store_id;
  RETURN NULL;
END $$;

-- A long parsed text (0005) is kept in parts of at most 1 MB beyond file_texts.text, its first part, so
-- that no single statement moves megabytes into the embedded engine.
CREATE TABLE file_text_parts (
  file_id text NOT NULL REFERENCES file_texts (file_id) ON DELETE CASCADE,
  part    integer NOT NULL,  -- 1, 2, ... after file_texts.text
  text    text NOT NULL,
  PRIMARY KEY (file_id, part)
);
