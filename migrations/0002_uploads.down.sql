DROP INDEX IF EXISTS uploads_pending;
DROP INDEX IF EXISTS uploads_project;
ALTER TABLE uploads DROP COLUMN IF EXISTS file_expires_after;
