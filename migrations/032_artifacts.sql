-- Artifacts (issue 13, items 1 and 2): what jobs upload through the GitHub artifact service v4
-- (src/artifacts, docs/artifacts.md). The bytes live in the content-addressed blob store
-- (src/artifacts/store: sha256/ab/abcd…); a row says which run, attempt and job made them, on which
-- node, in which trust tier. Several rows may share one blob (same bytes): a blob is deleted only
-- when no row names its digest any more.
CREATE TABLE artifacts (
  id bigserial PRIMARY KEY,
  repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  run_id bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  -- The run attempt (runs.attempt, github.run_attempt) whose job uploaded it.
  run_attempt integer NOT NULL CHECK (run_attempt >= 1),
  job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  -- The job's delivery attempt (jobs.attempt) that uploaded it.
  job_attempt integer NOT NULL,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 256),
  mime_type text NOT NULL DEFAULT 'application/zip',
  -- What the store computed over the committed bytes (null until the block list is committed).
  size bigint CHECK (size >= 0),
  sha256 text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  -- The node the uploading attempt ran on (null once that node is deleted), and the run's tier.
  node_id bigint REFERENCES nodes (id) ON DELETE SET NULL,
  trust_tier text NOT NULL CHECK (trust_tier IN ('trusted', 'untrusted')),
  -- uploading -> finalized (FinalizeArtifact, the client's size and digest equal to the store's).
  state text NOT NULL DEFAULT 'uploading' CHECK (state IN ('uploading', 'finalized')),
  created_at timestamptz NOT NULL DEFAULT now(),
  committed_at timestamptz,
  finalized_at timestamptz,
  expires_at timestamptz NOT NULL,
  CHECK ((sha256 IS NULL) = (size IS NULL) AND (sha256 IS NULL) = (committed_at IS NULL)),
  CHECK (state = 'uploading' OR (sha256 IS NOT NULL AND finalized_at IS NOT NULL)),
  -- GitHub v4: an artifact name is unique within a run (here: within each run attempt, so a
  -- re-run can upload again; the newest attempt's artifact of a name hides the older ones).
  UNIQUE (run_id, run_attempt, name)
);
CREATE INDEX artifacts_by_digest ON artifacts (sha256) WHERE sha256 IS NOT NULL;
CREATE INDEX artifacts_expiring ON artifacts (expires_at);
CREATE INDEX artifacts_by_job ON artifacts (job_id);

-- The blocks of an upload in progress (Azure block blob: PUT ?comp=block&blockid=…), each staged
-- in the store's upload area under the artifact's id; the block list commit concatenates them in
-- the order the client names and removes these rows.
CREATE TABLE artifact_upload_blocks (
  artifact_id bigint NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
  -- The client's block id (base64, at most 64 bytes decoded: Azure's limit).
  block_id text NOT NULL CHECK (length(block_id) BETWEEN 1 AND 100),
  size bigint NOT NULL CHECK (size >= 0),
  sha256 text NOT NULL,
  staged_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (artifact_id, block_id)
);
