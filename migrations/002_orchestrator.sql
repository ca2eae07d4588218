-- 002: the orchestrator's state: organizations, repositories (projects), runs, jobs, steps, logs,
-- machine templates (images), flavours, nodes, API tokens and webhook deliveries.
-- States and their allowed transitions are written in src/orchestrator/states.ts and enforced by
-- the queue's SQL (`WHERE state = ...`).

CREATE TABLE organizations (
  id bigserial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  max_concurrent_jobs integer CHECK (max_concurrent_jobs IS NULL OR max_concurrent_jobs > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO organizations (name) VALUES ('default');

-- A project is a repository for now.
CREATE TABLE repositories (
  id bigserial PRIMARY KEY,
  organization_id bigint NOT NULL REFERENCES organizations (id),
  name text NOT NULL,
  clone_url text NOT NULL,
  default_branch text NOT NULL DEFAULT 'main',
  webhook_secret text NOT NULL,
  poll_interval_seconds integer CHECK (poll_interval_seconds IS NULL OR poll_interval_seconds >= 10),
  last_polled_at timestamptz,
  last_seen_commit text,
  max_concurrent_jobs integer CHECK (max_concurrent_jobs IS NULL OR max_concurrent_jobs > 0),
  next_run_number integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organization_id, name)
);

CREATE TABLE webhook_deliveries (
  provider text NOT NULL,
  delivery_id text NOT NULL,
  repository_id bigint REFERENCES repositories (id) ON DELETE CASCADE,
  event text NOT NULL,
  outcome text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, delivery_id)
);

CREATE TABLE runs (
  id bigserial PRIMARY KEY,
  repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  number integer NOT NULL,
  event text NOT NULL,
  ref text NOT NULL,
  commit text NOT NULL,
  trigger text NOT NULL CHECK (trigger IN ('webhook', 'manual', 'poll', 'rerun')),
  actor text NOT NULL DEFAULT '',
  title text NOT NULL DEFAULT '',
  payload jsonb NOT NULL DEFAULT '{}',
  inputs jsonb NOT NULL DEFAULT '{}',
  state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'completed')),
  conclusion text CHECK (conclusion IN ('success', 'failure', 'cancelled')),
  cancel_requested boolean NOT NULL DEFAULT false,
  error text,
  rerun_of bigint REFERENCES runs (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  UNIQUE (repository_id, number)
);
CREATE INDEX runs_active ON runs (id) WHERE state <> 'completed';

CREATE TABLE images (
  id bigserial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  labels text[] NOT NULL DEFAULT '{}',
  required_labels text[] NOT NULL DEFAULT '{}',
  provisioner text NOT NULL DEFAULT 'sandbox',
  -- Backend-specific source: a rootfs folder for the sandbox (empty = the host, read-only).
  source text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE flavours (
  id bigserial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  cpus numeric NOT NULL CHECK (cpus > 0),
  memory_mb integer NOT NULL CHECK (memory_mb > 0),
  disk_mb integer NOT NULL CHECK (disk_mb > 0),
  labels text[] NOT NULL DEFAULT '{}',
  required_labels text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE nodes (
  id bigserial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  labels text[] NOT NULL DEFAULT '{}',
  required_labels text[] NOT NULL DEFAULT '{}',
  cpus numeric NOT NULL DEFAULT 0,
  memory_mb integer NOT NULL DEFAULT 0,
  disk_mb integer NOT NULL DEFAULT 0,
  provisioners text[] NOT NULL DEFAULT '{}',
  images text[] NOT NULL DEFAULT '{}',
  enabled boolean NOT NULL DEFAULT true,
  connected boolean NOT NULL DEFAULT false,
  last_seen_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE jobs (
  id bigserial PRIMARY KEY,
  run_id bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  -- Identifies the job instance within the run: "<workflow file>#<job id>#<matrix index>".
  key text NOT NULL,
  job_id text NOT NULL,
  name text NOT NULL,
  workflow text NOT NULL,
  matrix jsonb,
  labels text[] NOT NULL DEFAULT '{}',
  -- The plain JobDescription the node agent runs (null for jobs that never run: skipped, failed early).
  description jsonb,
  state text NOT NULL DEFAULT 'queued'
    CHECK (state IN ('queued', 'assigned', 'running', 'completed', 'lost')),
  conclusion text CHECK (conclusion IN ('success', 'failure', 'cancelled', 'skipped')),
  continue_on_error boolean NOT NULL DEFAULT false,
  attempt integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 3,
  node_id bigint REFERENCES nodes (id) ON DELETE SET NULL,
  image_id bigint REFERENCES images (id) ON DELETE SET NULL,
  flavour_id bigint REFERENCES flavours (id) ON DELETE SET NULL,
  lease_expires_at timestamptz,
  wait_reason text,
  outputs jsonb NOT NULL DEFAULT '{}',
  error text,
  log_bytes bigint NOT NULL DEFAULT 0,
  log_truncated boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  queued_at timestamptz,
  assigned_at timestamptz,
  started_at timestamptz,
  finished_at timestamptz,
  UNIQUE (run_id, key)
);
CREATE INDEX jobs_queued ON jobs (queued_at, id) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE state IN ('assigned', 'running');
CREATE INDEX jobs_by_node ON jobs (node_id) WHERE state IN ('assigned', 'running');

CREATE TABLE steps (
  job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  idx integer NOT NULL,
  step_id text NOT NULL,
  name text NOT NULL,
  stage text NOT NULL CHECK (stage IN ('pre', 'main', 'post')),
  outcome text,
  conclusion text,
  outputs jsonb NOT NULL DEFAULT '{}',
  started_at timestamptz,
  finished_at timestamptz,
  PRIMARY KEY (job_id, idx)
);

-- Log lines in chunks; `seq` is the agent's per-attempt event sequence number, so a chunk delivered
-- twice (after a reconnect) is stored once.
CREATE TABLE log_chunks (
  job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  seq integer NOT NULL,
  data text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, attempt, seq)
);

CREATE TABLE api_tokens (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('admin', 'agent')),
  -- sha256 of the token; the token itself is shown once and never stored.
  token_hash text NOT NULL UNIQUE,
  node_id bigint REFERENCES nodes (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz
);
