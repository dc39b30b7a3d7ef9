-- Uploads (OpenAI's Uploads API): the file's own expiry, chosen at creation, is applied on completion;
-- indexes for listing a project's uploads and for maintenance to find those past their hour.
ALTER TABLE uploads ADD COLUMN file_expires_after integer;
CREATE INDEX uploads_project ON uploads (project_id, created_at);
CREATE INDEX uploads_pending ON uploads (expires_at) WHERE status = 'pending';
