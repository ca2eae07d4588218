-- Independent rebuilds (issue 13, item 6; docs/integrity.md "Corroboration"). A repository's
-- artifact policy may ask that a job's artifacts be built again by other workers: `builds` in all
-- (the job itself and builds - 1 replicas), each on a node of a different operator, `agree` of
-- which must give the same bytes for `corroborated`; and/or, when the job ran on an untrusted
-- worker, one more build on a trusted worker (`trusted` when it gives the same bytes).
-- `workflows`: only jobs of these workflow files (null: every workflow).
ALTER TABLE repository_artifact_policies
  ADD COLUMN corroborate_builds integer NOT NULL DEFAULT 1 CHECK (corroborate_builds BETWEEN 1 AND 9),
  ADD COLUMN corroborate_agree integer NOT NULL DEFAULT 1 CHECK (corroborate_agree >= 1),
  ADD COLUMN corroborate_trusted_build boolean NOT NULL DEFAULT false,
  ADD COLUMN corroborate_workflows text[],
  ADD CONSTRAINT corroborate_agree_le_builds CHECK (corroborate_agree <= corroborate_builds);

-- A replica is a job row of the same run attempt with the same description as the job it rebuilds
-- (replica_of), dispatched after that job succeeded with artifacts, never to a node whose operator
-- built the job or another of its replicas; `replica_trusted_worker`: only to a trusted worker.
-- Replicas are not in the run's job graph: nothing waits for them and their conclusion is not the
-- run's.
ALTER TABLE jobs
  ADD COLUMN replica_of bigint REFERENCES jobs (id) ON DELETE CASCADE,
  ADD COLUMN replica_trusted_worker boolean NOT NULL DEFAULT false,
  ADD CONSTRAINT jobs_replica_worker CHECK (replica_of IS NOT NULL OR NOT replica_trusted_worker);
CREATE INDEX jobs_replicas ON jobs (replica_of) WHERE replica_of IS NOT NULL;

-- What a replica uploads is kept beside the job's own artifacts (replica_of = the job it rebuilds):
-- compared with them, never listed or downloaded by jobs, never promoted.
ALTER TABLE artifacts ADD COLUMN replica_of bigint REFERENCES jobs (id) ON DELETE CASCADE;
ALTER TABLE artifacts DROP CONSTRAINT artifacts_run_id_run_attempt_name_key;
CREATE UNIQUE INDEX artifacts_run_name ON artifacts (run_id, run_attempt, name) WHERE replica_of IS NULL;
CREATE UNIQUE INDEX artifacts_replica_name ON artifacts (job_id, name) WHERE replica_of IS NOT NULL;
ALTER TABLE artifacts ADD CONSTRAINT artifacts_replica_never_promoted CHECK (replica_of IS NULL OR promoted_at IS NULL);

-- An artifact of a job whose rebuilds are not judged yet (set at finalize when the policy asks for
-- rebuilds, cleared by the verdict once none is queued or running, or when none is needed): not
-- promotable, and a deployment of its run waits (REBUILDS_PENDING).
ALTER TABLE artifacts ADD COLUMN awaiting_rebuilds boolean NOT NULL DEFAULT false;
CREATE INDEX artifacts_awaiting_rebuilds ON artifacts (run_id) WHERE awaiting_rebuilds;

-- A mismatch marks the run (first time it was found) ...
ALTER TABLE runs ADD COLUMN artifact_mismatch_at timestamptz;

-- ... flags every node that built the artifact for the operator (not a score: the node keeps
-- working until an administrator looks; `airlock nodes unflag`) ...
ALTER TABLE nodes
  ADD COLUMN flagged_at timestamptz,
  ADD COLUMN flag_reason text CHECK (flag_reason IS NULL OR length(flag_reason) <= 500);

-- ... and keeps a report of what differs.
CREATE TABLE artifact_mismatches (
  id bigserial PRIMARY KEY,
  repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  run_id bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  -- The job's own artifact, the replica job whose build differs, and its artifact of that name
  -- (null: the replica succeeded without one).
  -- (null once the artifact expired or was removed: the report, with both digests, stays)
  artifact_id bigint REFERENCES artifacts (id) ON DELETE SET NULL,
  replica_job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  replica_artifact_id bigint REFERENCES artifacts (id) ON DELETE SET NULL,
  name text NOT NULL,
  -- { builds: [{ node, operator, workerTrust, sha256 | null }], diff: ArchiveDiff | null, note }
  report jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (artifact_id, replica_job_id)
);
CREATE INDEX artifact_mismatches_by_run ON artifact_mismatches (run_id);
