-- Environments (GitHub's `environment:` on a job; issue 8, item 3): per repository, made by an
-- administrator or implicitly the first time a job names one (then without rules). Protection
-- rules: required reviewers (named users and/or a minimum role on the repository; the user who
-- triggered a run can never approve it), the branches and tags allowed to deploy, a wait timer.
-- Names are case-insensitive and stored lower-case, as secrets.environment and
-- variables.environment are (migration 013).
CREATE TABLE environments (
  id bigserial PRIMARY KEY,
  repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (name <> '' AND name = lower(name) AND length(name) <= 255),
  -- Anyone with at least this role on the repository may approve (null: named reviewers only).
  reviewer_role text CHECK (reviewer_role IN ('viewer', 'developer', 'maintainer', 'admin')),
  -- GitHub's "selected branches and tags": filter patterns (`*`, `**`). Both empty: any ref.
  branch_patterns text[] NOT NULL DEFAULT '{}',
  tag_patterns text[] NOT NULL DEFAULT '{}',
  wait_timer_minutes integer NOT NULL DEFAULT 0 CHECK (wait_timer_minutes BETWEEN 0 AND 43200),
  created_by text NOT NULL,
  updated_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (repository_id, name)
);

-- Named reviewers (by user id: a renamed user stays a reviewer, a deleted one is gone).
CREATE TABLE environment_reviewers (
  environment_id bigint NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (environment_id, user_id)
);

-- A job that deploys to an environment with required reviewers: waiting, then approved or rejected
-- (by whom, when, with what comment). One row per job; a rerun's jobs are new jobs.
CREATE TABLE deployments (
  job_id bigint PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
  run_id bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  environment_id bigint REFERENCES environments (id) ON DELETE SET NULL,
  environment text NOT NULL,
  state text NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'approved', 'rejected')),
  reviewer_id bigint REFERENCES users (id) ON DELETE SET NULL,
  reviewer_name text,
  comment text CHECK (comment IS NULL OR length(comment) <= 1000),
  created_at timestamptz NOT NULL DEFAULT now(),
  reviewed_at timestamptz,
  CHECK ((state = 'waiting') = (reviewed_at IS NULL))
);
CREATE INDEX deployments_waiting ON deployments (run_id) WHERE state = 'waiting';

-- On jobs: the environment (evaluated name), the URL the job reported at its end, and the gate.
-- A queued job with a gate is not dispatched (claimQueuedJobs skips it) until the environment's
-- rules let it go; eligible_at holds a job back until a wait timer has run out.
ALTER TABLE jobs
  ADD COLUMN environment text,
  ADD COLUMN environment_url text,
  ADD COLUMN gate text CHECK (gate IN ('environment')),
  ADD COLUMN eligible_at timestamptz;
