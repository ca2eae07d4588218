-- 004: a single job can be cancelled (fail-fast of a matrix, a cancelled DAG branch) while its
-- run goes on. Like runs.cancel_requested, the flag keeps a job whose node rejects it or stops
-- answering after the cancel from being queued again: it completes as cancelled instead.
ALTER TABLE jobs ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false;
