-- The whole data model. {{EMBEDDING_DIMENSIONS}} is fixed here, when the schema is created,
-- and recorded in settings so that start-up can refuse a config that disagrees with it.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE settings (
  key   text PRIMARY KEY,
  value text NOT NULL
);
INSERT INTO settings (key, value) VALUES ('embedding_dimensions', '{{EMBEDDING_DIMENSIONS}}');


CREATE TABLE projects (
  id         text PRIMARY KEY,
  name       text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Keys from API_KEYS, and every request when the server runs open on loopback, belong here.
INSERT INTO projects (id, name) VALUES ('proj_default', 'default');

CREATE TABLE api_keys (
  id           text PRIMARY KEY,
  project_id   text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name         text,
  key_hash     text NOT NULL UNIQUE,           -- hex sha256 of the key; the key itself is never stored
  prefix       text NOT NULL,                  -- first characters, to tell keys apart in listings
  source       text NOT NULL DEFAULT 'db',     -- 'db' (npm run keys) or 'env' (API_KEYS)
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX api_keys_project ON api_keys (project_id);

CREATE TABLE files (
  id         text PRIMARY KEY,
  project_id text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  filename   text NOT NULL,
  bytes      bigint NOT NULL CHECK (bytes >= 0),
  purpose    text NOT NULL,
  mime_type  text,
  blob_key   text NOT NULL,
  status     text NOT NULL DEFAULT 'processed',
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz
);
CREATE INDEX files_list ON files (project_id, created_at, id);

-- Blobs of deleted files, purged from the blob store by maintenance (a delete is one transaction).
CREATE TABLE deleted_blobs (
  blob_key   text PRIMARY KEY,
  deleted_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE uploads (
  id         text PRIMARY KEY,
  project_id text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  filename   text NOT NULL,
  purpose    text NOT NULL,
  bytes      bigint NOT NULL CHECK (bytes >= 0),
  mime_type  text NOT NULL,
  status     text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'cancelled', 'expired')),
  file_id    text REFERENCES files (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);

CREATE TABLE upload_parts (
  id         text PRIMARY KEY,
  upload_id  text NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
  blob_key   text NOT NULL,
  bytes      bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX upload_parts_upload ON upload_parts (upload_id);

CREATE TABLE vector_stores (
  id             text PRIMARY KEY,
  project_id     text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name           text,
  description    text,
  metadata       jsonb NOT NULL DEFAULT '{}',
  expires_after  jsonb,
  expires_at     timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_active_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vector_stores_list ON vector_stores (project_id, created_at, id);

CREATE TABLE file_batches (
  id              text PRIMARY KEY,
  project_id      text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  vector_store_id text NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
  status          text NOT NULL DEFAULT 'in_progress'
                  CHECK (status IN ('in_progress', 'completed', 'cancelled', 'failed')),
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX file_batches_store ON file_batches (vector_store_id);

-- One row per file attached to a store; it is also the ingest job (status + lease).
CREATE TABLE vector_store_files (
  vector_store_id   text NOT NULL REFERENCES vector_stores (id) ON DELETE CASCADE,
  file_id           text NOT NULL REFERENCES files (id) ON DELETE CASCADE,
  project_id        text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  batch_id          text REFERENCES file_batches (id) ON DELETE SET NULL,
  status            text NOT NULL DEFAULT 'in_progress'
                    CHECK (status IN ('in_progress', 'completed', 'cancelled', 'failed')),
  attributes        jsonb NOT NULL DEFAULT '{}',
  chunking_strategy jsonb NOT NULL,
  usage_bytes       bigint NOT NULL DEFAULT 0,
  embedding_tokens  bigint NOT NULL DEFAULT 0,
  last_error        jsonb,
  attempts          integer NOT NULL DEFAULT 0,
  lease_owner       text,
  lease_expires_at  timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (vector_store_id, file_id)
);
CREATE INDEX vector_store_files_list ON vector_store_files (vector_store_id, created_at, file_id);
CREATE INDEX vector_store_files_file ON vector_store_files (file_id);
CREATE INDEX vector_store_files_batch ON vector_store_files (batch_id);
CREATE INDEX vector_store_files_pending ON vector_store_files (lease_expires_at) WHERE status = 'in_progress';

CREATE TABLE chunks (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  vector_store_id text NOT NULL,
  file_id         text NOT NULL,
  chunk_index     integer NOT NULL,
  content         text NOT NULL,
  tokens          integer NOT NULL,
  page            integer,
  char_start      integer NOT NULL,
  char_end        integer NOT NULL,
  attributes      jsonb NOT NULL DEFAULT '{}',   -- copied from the vector store file for filter push-down
  embedding       halfvec({{EMBEDDING_DIMENSIONS}}) NOT NULL,
  tsv             tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
  FOREIGN KEY (vector_store_id, file_id) REFERENCES vector_store_files (vector_store_id, file_id) ON DELETE CASCADE,
  UNIQUE (vector_store_id, file_id, chunk_index)
);
CREATE INDEX chunks_embedding ON chunks USING hnsw (embedding halfvec_cosine_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX chunks_tsv ON chunks USING gin (tsv);
