UPDATE file_texts f SET text = f.text || p.rest
  FROM (SELECT file_id, string_agg(text, '' ORDER BY part) AS rest FROM file_text_parts GROUP BY 1) p
  WHERE p.file_id = f.file_id;
DROP TABLE IF EXISTS file_text_parts;
DELETE FROM chunks c USING chunk_drafts d
  WHERE d.vector_store_id = c.vector_store_id AND d.file_id = c.file_id AND d.generation = c.generation;
DROP TABLE IF EXISTS chunk_draft_terms;
DROP TABLE IF EXISTS chunk_drafts;
DROP SEQUENCE IF EXISTS chunk_generations;
ALTER TABLE chunks DROP CONSTRAINT IF EXISTS chunks_generation_chunk_index_key;
ALTER TABLE chunks DROP COLUMN IF EXISTS generation;
ALTER TABLE chunks ADD CONSTRAINT chunks_vector_store_id_file_id_chunk_index_key
  UNIQUE (vector_store_id, file_id, chunk_index);
CREATE OR REPLACE FUNCTION chunks_stats() RETURNS trigger LANGUAGE plpgsql AS $$
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
