-- A published draft's document frequencies join chunk_terms after the publish, a bounded batch per
-- transaction: a file may hold 100,000 lexemes, and merging them inside the publish held the embedded
-- engine's single connection for a second. Until a batch is merged its terms count from where they
-- are, in chunk_draft_terms, under a term_backlog row marked counted; BM25 adds both (search/bm25.ts).
-- A draft removed without publishing (a failed or abandoned attempt, a detached file) leaves its terms
-- under an uncounted row, deleted the same way. Deleting a published chunk whose terms are still in
-- the backlog takes them from chunk_terms at once: the sum of both stays exact throughout.
ALTER TABLE chunk_draft_terms
  DROP CONSTRAINT IF EXISTS chunk_draft_terms_vector_store_id_file_id_generation_fkey;

CREATE TABLE term_backlog (
  vector_store_id text NOT NULL,  -- no foreign key: a deleted store's terms are still to be removed
  file_id         text NOT NULL,
  generation      bigint NOT NULL,
  counted         boolean NOT NULL,  -- published: its terms count toward the store's statistics
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (vector_store_id, file_id, generation)
);
CREATE INDEX term_backlog_counted ON term_backlog (vector_store_id) WHERE counted;

-- A draft's row removed without a publish (which files its own counted row first) leaves its terms
-- to the backlog, uncounted.
CREATE FUNCTION chunk_drafts_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO term_backlog (vector_store_id, file_id, generation, counted)
    SELECT o.vector_store_id, o.file_id, o.generation, false FROM gone o
    WHERE EXISTS (SELECT 1 FROM chunk_draft_terms t WHERE t.vector_store_id = o.vector_store_id
                    AND t.file_id = o.file_id AND t.generation = o.generation)
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

CREATE TRIGGER chunk_drafts_gone AFTER DELETE ON chunk_drafts
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION chunk_drafts_gone();
