-- 026: re-runs as attempts of the same run, as on GitHub (github.run_attempt). A re-run no longer
-- makes a new run: the run keeps its id and number, `runs.attempt` counts up, and the jobs of every
-- attempt stay (jobs.run_attempt), with their conclusions, steps and logs. `runs` holds the current
-- attempt's state; `run_attempts` records each attempt: who triggered it (GitHub's
-- triggering_actor), whether it re-ran everything or only the failed jobs, and — once a later
-- attempt replaced it — how it ended. Runs and jobs that existed before are attempt 1.
-- (jobs.attempt keeps its meaning: the delivery attempt of a job, retried after a lost node.)
ALTER TABLE runs ADD COLUMN attempt integer NOT NULL DEFAULT 1 CHECK (attempt >= 1);

CREATE TABLE run_attempts (
  run_id bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  attempt integer NOT NULL CHECK (attempt >= 1),
  -- 'all': every job again; 'failed': failed and cancelled jobs and the jobs that need them, the
  -- other jobs' results reused (jobs.reused_from); 'job': one job (`job`) and the jobs that need it.
  mode text NOT NULL DEFAULT 'all' CHECK (mode IN ('all', 'failed', 'job')),
  job text CHECK ((mode = 'job') = (job IS NOT NULL)),
  triggering_actor text NOT NULL DEFAULT '',
  triggered_by_user_id bigint REFERENCES users (id) ON DELETE SET NULL,
  -- How the attempt ended, copied from the run when a later attempt starts (null: the current one).
  conclusion text CHECK (conclusion IN ('success', 'failure', 'cancelled')),
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  PRIMARY KEY (run_id, attempt)
);
INSERT INTO run_attempts (run_id, attempt, triggering_actor, triggered_by_user_id, created_at)
  SELECT id, 1, actor, triggered_by_user_id, created_at FROM runs;

ALTER TABLE jobs ADD COLUMN run_attempt integer NOT NULL DEFAULT 1 CHECK (run_attempt >= 1);
-- A job of a "re-run failed jobs" attempt that was not re-run: its result (and log) is this job's.
ALTER TABLE jobs ADD COLUMN reused_from bigint REFERENCES jobs (id) ON DELETE SET NULL;
ALTER TABLE jobs DROP CONSTRAINT jobs_run_id_key_key;
ALTER TABLE jobs ADD CONSTRAINT jobs_run_attempt_key UNIQUE (run_id, run_attempt, key);

-- When each log line was written (on the node, as the agent says, never later than when it was
-- stored), for timestamped logs (GitHub's raw logs prefix each line with it).
ALTER TABLE log_chunks ADD COLUMN logged_at timestamptz;
UPDATE log_chunks SET logged_at = created_at;
ALTER TABLE log_chunks ALTER COLUMN logged_at SET DEFAULT now();
ALTER TABLE log_chunks ALTER COLUMN logged_at SET NOT NULL;
