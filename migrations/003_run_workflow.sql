-- 003: a run is one workflow's run for one event (as on GitHub): record which workflow file and
-- name it runs, and what the job's machine needs beyond its labels (the network placeholder).
ALTER TABLE runs ADD COLUMN workflow_file text NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN workflow_name text NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN network text NOT NULL DEFAULT 'none' CHECK (network IN ('none', 'host'));
