-- `concurrency:` groups (GitHub's "Control the concurrency of workflows and jobs"), per repository,
-- names compared case-insensitively (key = lower(name)). A member is a run (workflow level,
-- job_id NULL) or a job (job level). At most one running and one pending member per group, held by
-- the unique partial indexes below; joins and releases lock the group's row FOR UPDATE first, so
-- several orchestrators never decide about one group at once (src/orchestrator/concurrency/).
-- 'superseded': a pending member replaced by a newer one, being cancelled (never claimable).
CREATE TABLE concurrency_groups (
  repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  key text NOT NULL,
  PRIMARY KEY (repository_id, key)
);

CREATE TABLE concurrency_members (
  id bigserial PRIMARY KEY,
  repository_id bigint NOT NULL,
  key text NOT NULL,
  name text NOT NULL CHECK (length(name) <= 400),
  run_id bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  job_id bigint REFERENCES jobs (id) ON DELETE CASCADE,
  state text NOT NULL CHECK (state IN ('pending', 'running', 'superseded')),
  cancel_in_progress boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (repository_id, key) REFERENCES concurrency_groups (repository_id, key) ON DELETE CASCADE
);
CREATE UNIQUE INDEX concurrency_one_running ON concurrency_members (repository_id, key) WHERE state = 'running';
CREATE UNIQUE INDEX concurrency_one_pending ON concurrency_members (repository_id, key) WHERE state = 'pending';
CREATE UNIQUE INDEX concurrency_run_member ON concurrency_members (run_id) WHERE job_id IS NULL;
CREATE UNIQUE INDEX concurrency_job_member ON concurrency_members (job_id) WHERE job_id IS NOT NULL;

-- Why a run has not started yet (its workflow's concurrency group); NULL once it runs.
ALTER TABLE runs ADD COLUMN wait_reason text;
