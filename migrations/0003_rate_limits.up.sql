-- Request counts per API key and minute, shared by every Lambda instance (RATE_LIMIT_STORE=postgres).
CREATE TABLE rate_limits (
  bucket       text NOT NULL,            -- sha256 of the API key
  window_start timestamptz NOT NULL,
  count        integer NOT NULL,
  PRIMARY KEY (bucket, window_start)
);
