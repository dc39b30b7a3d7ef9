-- The backlog's additions and removals join chunk_terms, terms of no draft go, and 0007's tables and
-- statistics are back.
LOCK TABLE vector_stores, chunk_terms, generation_terms, term_backlog IN EXCLUSIVE MODE;
INSERT INTO chunk_terms AS t (vector_store_id, lexeme, chunks)
  SELECT p.vector_store_id, p.lexeme, sum(b.sign * p.chunks)
  FROM term_backlog b JOIN generation_terms p USING (vector_store_id, file_id, generation)
  JOIN vector_stores s ON s.id = b.vector_store_id
  WHERE b.sign <> 0 AND p.lexeme > b.done_through GROUP BY 1, 2
ON CONFLICT (vector_store_id, lexeme) DO UPDATE SET chunks = t.chunks + excluded.chunks;
DELETE FROM generation_terms t WHERE NOT EXISTS (SELECT 1 FROM chunk_drafts d
  WHERE d.vector_store_id = t.vector_store_id AND d.file_id = t.file_id AND d.generation = t.generation);
DROP TRIGGER IF EXISTS chunk_drafts_gone ON chunk_drafts;
DROP FUNCTION IF EXISTS chunk_drafts_gone();
DROP TABLE IF EXISTS term_backlog;
DROP TABLE IF EXISTS term_sets;
ALTER INDEX IF EXISTS generation_terms_pkey RENAME TO chunk_draft_terms_pkey;
ALTER TABLE generation_terms RENAME TO chunk_draft_terms;
ALTER TABLE chunk_draft_terms ADD CONSTRAINT chunk_draft_terms_vector_store_id_file_id_generation_fkey
  FOREIGN KEY (vector_store_id, file_id, generation)
  REFERENCES chunk_drafts (vector_store_id, file_id, generation) ON DELETE CASCADE;
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
