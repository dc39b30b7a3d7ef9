-- Term statistics of large files change after the transaction that publishes or removes the file, a
-- bounded batch per transaction: a file may hold 100,000 distinct lexemes, and adding them to (or
-- taking them from) chunk_terms inside a publish or a delete held the embedded engine's single
-- connection for seconds. What is still to be done is the backlog, and BM25 counts it meanwhile, so
-- the document frequencies it sees are exact throughout (search/bm25.ts):
--   df = chunk_terms + sum over backlog entries (sign * the entry's generation's count, for its
--        lexemes not yet done).
-- A generation's term counts live in generation_terms (0007's chunk_draft_terms): a draft's while it
-- is written, a published one's until the backlog has added them, and a large one's (term_sets) for
-- as long as its chunks exist, so that deleting them can take its terms away later.
ALTER TABLE chunk_draft_terms RENAME TO generation_terms;
-- Its foreign key to chunk_drafts goes (whatever the engine named it): a published generation's terms
-- outlive its draft's row.
DO $$
DECLARE fk text;
BEGIN
  FOR fk IN SELECT conname FROM pg_constraint WHERE conrelid = 'generation_terms'::regclass AND contype = 'f' LOOP
    EXECUTE format('ALTER TABLE generation_terms DROP CONSTRAINT %I', fk);
  END LOOP;
END $$;
ALTER INDEX IF EXISTS chunk_draft_terms_pkey RENAME TO generation_terms_pkey;

-- Published generations holding more lexemes than one batch of the backlog: their terms are kept, and
-- their chunks' deletion leaves the terms' removal to the backlog. No foreign key: a store's deletion
-- leaves these to the backlog too.
CREATE TABLE term_sets (
  vector_store_id text NOT NULL,
  file_id         text NOT NULL,
  generation      bigint NOT NULL,
  PRIMARY KEY (vector_store_id, file_id, generation)
);

CREATE TABLE term_backlog (
  seq             bigint GENERATED ALWAYS AS IDENTITY,  -- a generation's entries are worked in this order
  vector_store_id text NOT NULL,  -- no foreign key: a deleted store's terms are still to be removed
  file_id         text NOT NULL,
  generation      bigint NOT NULL,
  sign            smallint NOT NULL,  -- 1: published, add; -1: deleted, take away; 0: never counted, drop
  done_through    text NOT NULL DEFAULT '',  -- lexemes up to this one are done
  PRIMARY KEY (vector_store_id, file_id, generation, sign)
);
CREATE UNIQUE INDEX term_backlog_seq ON term_backlog (seq);
CREATE INDEX term_backlog_counted ON term_backlog (vector_store_id) WHERE sign <> 0;

-- A draft removed without a publish (which files its own entry first) leaves its terms to be dropped.
CREATE FUNCTION chunk_drafts_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO term_backlog (vector_store_id, file_id, generation, sign)
    SELECT o.vector_store_id, o.file_id, o.generation, 0 FROM gone o
    WHERE EXISTS (SELECT 1 FROM generation_terms t WHERE t.vector_store_id = o.vector_store_id
                    AND t.file_id = o.file_id AND t.generation = o.generation)
      AND NOT EXISTS (SELECT 1 FROM term_backlog b WHERE b.vector_store_id = o.vector_store_id
                        AND b.file_id = o.file_id AND b.generation = o.generation)
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

CREATE TRIGGER chunk_drafts_gone AFTER DELETE ON chunk_drafts
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION chunk_drafts_gone();

-- 0007's statistics, with generation_terms, and the deletion of a term set's chunks left to the
-- backlog (chunks are only ever deleted a whole generation at a time: a publish replacing them, a
-- detach, a file's or a store's deletion).
CREATE OR REPLACE FUNCTION chunks_stats() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  sign integer := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE chunk_drafts d SET chunk_count = d.chunk_count + x.n, token_count = d.token_count + x.tokens
    FROM (SELECT vector_store_id, file_id, generation, count(*) AS n, sum(tsvector_tokens(tsv)) AS tokens
          FROM changed GROUP BY 1, 2, 3) x
    WHERE (d.vector_store_id, d.file_id, d.generation) = (x.vector_store_id, x.file_id, x.generation);
    INSERT INTO generation_terms AS t (vector_store_id, file_id, generation, lexeme, chunks)
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
      AND NOT EXISTS (SELECT 1 FROM term_sets k WHERE k.vector_store_id = c.vector_store_id
                        AND k.file_id = c.file_id AND k.generation = c.generation)
    GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (vector_store_id, lexeme) DO UPDATE SET chunks = t.chunks + excluded.chunks;
  IF TG_OP = 'DELETE' THEN
    WITH kept AS (
      DELETE FROM term_sets k USING (SELECT DISTINCT vector_store_id, file_id, generation FROM changed) c
      WHERE (k.vector_store_id, k.file_id, k.generation) = (c.vector_store_id, c.file_id, c.generation)
      RETURNING k.vector_store_id, k.file_id, k.generation)
    INSERT INTO term_backlog (vector_store_id, file_id, generation, sign)
      SELECT vector_store_id, file_id, generation, -1 FROM kept
    ON CONFLICT DO NOTHING;
  END IF;
  UPDATE vector_stores s SET chunk_count = s.chunk_count + sign * d.n, token_count = s.token_count + sign * d.tokens
  FROM (SELECT vector_store_id, count(*) AS n, sum(tsvector_tokens(tsv)) AS tokens
        FROM changed c
        WHERE NOT EXISTS (SELECT 1 FROM chunk_drafts d WHERE d.vector_store_id = c.vector_store_id
                            AND d.file_id = c.file_id AND d.generation = c.generation)
        GROUP BY 1) d
  WHERE s.id = d.vector_store_id;
  RETURN NULL;
END $$;
