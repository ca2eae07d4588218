-- The web UI's job graph (issue 11): a run keeps its workflow's jobs and their `needs` as planned,
-- so the graph shows every job, also those whose rows do not exist yet (a job's row is written when
-- it can run or is skipped). [{ "id": "build", "name": "Build", "needs": ["lint"] }, ...]; null for
-- runs from before this migration and for runs of a workflow file that did not parse.
ALTER TABLE runs ADD COLUMN graph jsonb;
