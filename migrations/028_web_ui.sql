-- 028: what the web UI needs from the server.
-- 1. Each log chunk's line style (src/runner/format.ts LineStyle, plus 'group-end' for the empty
--    chunk of `::endgroup::`), so the UI folds groups and lists annotations without parsing the
--    text. NULL: a chunk stored before this migration, or one without a style (truncation marker).
--    The text (`data`) is unchanged: the download and the CLI read only it.
ALTER TABLE log_chunks
  ADD COLUMN style text CHECK (style IN ('step', 'group', 'group-end', 'log', 'debug', 'error',
                                         'warning', 'notice', 'ok', 'bad', 'skip'));
-- The annotations of a run's jobs (GET /runs/:id/annotations) are found without reading the log.
CREATE INDEX log_chunks_annotations ON log_chunks (job_id, attempt, seq)
  WHERE style IN ('error', 'warning', 'notice');

-- 2. Step summaries (GITHUB_STEP_SUMMARY), per job attempt and step, in step order: the Markdown a
--    step wrote, masked, stored as text (the UI renders it as sanitized Markdown, never as HTML).
CREATE TABLE step_summaries (
  job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  step_index integer NOT NULL CHECK (step_index >= 0),
  step_id text NOT NULL DEFAULT '',
  step_name text NOT NULL DEFAULT '',
  markdown text NOT NULL,
  PRIMARY KEY (job_id, attempt, step_index)
);

-- 3. A repository's visibility: 'public' lets anyone see its status badges; 'private' (default)
--    answers a viewer without repository.read exactly as for a repository that does not exist.
ALTER TABLE repositories
  ADD COLUMN visibility text NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'public'));
