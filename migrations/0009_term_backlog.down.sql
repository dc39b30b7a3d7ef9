-- The backlog's counted terms join chunk_terms, the rest go, and every draft term belongs to its draft again.
LOCK TABLE vector_stores, chunk_terms, chunk_draft_terms, term_backlog IN EXCLUSIVE MODE;
INSERT INTO chunk_terms AS t (vector_store_id, lexeme, chunks)
  SELECT d.vector_store_id, d.lexeme, sum(d.chunks)
  FROM term_backlog b JOIN chunk_draft_terms d USING (vector_store_id, file_id, generation)
  JOIN vector_stores s ON s.id = b.vector_store_id
  WHERE b.counted GROUP BY 1, 2
ON CONFLICT (vector_store_id, lexeme) DO UPDATE SET chunks = t.chunks + excluded.chunks;
DELETE FROM chunk_draft_terms t WHERE NOT EXISTS (SELECT 1 FROM chunk_drafts d
  WHERE d.vector_store_id = t.vector_store_id AND d.file_id = t.file_id AND d.generation = t.generation);
DROP TRIGGER IF EXISTS chunk_drafts_gone ON chunk_drafts;
DROP FUNCTION IF EXISTS chunk_drafts_gone();
DROP TABLE IF EXISTS term_backlog;
ALTER TABLE chunk_draft_terms ADD CONSTRAINT chunk_draft_terms_vector_store_id_file_id_generation_fkey
  FOREIGN KEY (vector_store_id, file_id, generation)
  REFERENCES chunk_drafts (vector_store_id, file_id, generation) ON DELETE CASCADE;
