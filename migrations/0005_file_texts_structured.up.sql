-- Kept at ingest, beside the chunks:
-- the parsed text of a file (pages in order, no chunk overlap) for GET .../files/{id}/content;
-- extraction does not depend on the store, so it is kept once per file.
CREATE TABLE file_texts (
  file_id text PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
  text    text NOT NULL,
  pages   jsonb                      -- [{page, start}] character offsets of each page, null if unpaged
);

-- MAIA's structured data: a CSV file's typed columns and its rows, queried by an isolated engine.
CREATE TABLE structured_files (
  file_id   text PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
  columns   jsonb NOT NULL,
  row_count integer NOT NULL
);
CREATE TABLE structured_rows (
  file_id text NOT NULL REFERENCES structured_files (file_id) ON DELETE CASCADE,
  row_id  integer NOT NULL,
  data    jsonb NOT NULL,
  PRIMARY KEY (file_id, row_id)
);
