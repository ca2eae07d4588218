-- Server-side triggers of issue 10 (src/orchestrator/schedule.ts, workflow-run.ts):
--
-- schedule_slots: the last cron slot fired per repository, workflow file and cron string. A slot is
-- claimed by moving `slot` forward in one statement (INSERT … ON CONFLICT DO UPDATE … WHERE the
-- stored slot is older): of several orchestrator processes, or one restarted, exactly one fires it.
CREATE TABLE schedule_slots (
  repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  workflow_file text NOT NULL,
  cron text NOT NULL,
  slot timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repository_id, workflow_file, cron)
);

-- workflow_run: how far each run's `workflow_run` events have been announced (0 none, 1 requested,
-- 2 in_progress, 3 completed). Moved forward by a conditional UPDATE, so each event is announced
-- once whichever process sees it. Runs that existed before this migration announce nothing.
ALTER TABLE runs ADD COLUMN workflow_run_announced smallint NOT NULL DEFAULT 0
  CHECK (workflow_run_announced BETWEEN 0 AND 3);
UPDATE runs SET workflow_run_announced = 3;
CREATE INDEX runs_workflow_run_pending ON runs (id) WHERE workflow_run_announced < 3;

-- Runs started by the scheduler and by another run's workflow_run event.
ALTER TABLE runs DROP CONSTRAINT IF EXISTS runs_trigger_check;
ALTER TABLE runs ADD CONSTRAINT runs_trigger_check
  CHECK (trigger IN ('webhook', 'manual', 'poll', 'rerun', 'schedule', 'workflow_run'));
