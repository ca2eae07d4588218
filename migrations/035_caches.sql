-- Caches (issue 13, items 2 and 4): what jobs save through the GitHub cache service v2
-- (src/caches, docs/integrity.md "Caches"). An entry lives in a scope: (repository, trust tier of
-- the run that wrote it, the ref it ran on). A trusted run reads the trusted entries of its ref,
-- its pull request's base branch and the default branch; an untrusted run reads the untrusted
-- entries of its own ref and the trusted ones of its base and default branches. A trusted run
-- never reads an untrusted entry.
-- The bytes live in the cache's own content-addressed blob store; a blob is deleted only when no
-- entry names its digest any more.
CREATE TABLE cache_entries (
  id bigserial PRIMARY KEY,
  repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  trust_tier text NOT NULL CHECK (trust_tier IN ('trusted', 'untrusted')),
  -- The full ref of the run that wrote it (refs/heads/main, refs/pull/7/merge, refs/tags/v1).
  ref text NOT NULL CHECK (length(ref) BETWEEN 1 AND 1024),
  key text NOT NULL CHECK (length(key) BETWEEN 1 AND 512),
  -- The client's hash of the cached paths and compression: a restore needs the same.
  version text NOT NULL CHECK (length(version) BETWEEN 1 AND 512),
  -- Who wrote it (null once the run or node is gone).
  run_id bigint REFERENCES runs (id) ON DELETE SET NULL,
  job_id bigint REFERENCES jobs (id) ON DELETE SET NULL,
  job_attempt integer NOT NULL,
  node_id bigint REFERENCES nodes (id) ON DELETE SET NULL,
  size bigint CHECK (size >= 0),
  sha256 text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  -- uploading -> finalized (FinalizeCacheEntryUpload, the declared size equal to the stored one).
  -- A finalized entry never changes; eviction deletes the row.
  state text NOT NULL DEFAULT 'uploading' CHECK (state IN ('uploading', 'finalized')),
  created_at timestamptz NOT NULL DEFAULT now(),
  committed_at timestamptz,
  finalized_at timestamptz,
  -- Last restore (or the finalization): the LRU order of eviction.
  last_accessed_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((sha256 IS NULL) = (size IS NULL) AND (sha256 IS NULL) = (committed_at IS NULL)),
  CHECK (state = 'uploading' OR (sha256 IS NOT NULL AND finalized_at IS NOT NULL)),
  UNIQUE (repository_id, trust_tier, ref, key, version)
);
CREATE INDEX cache_entries_lookup ON cache_entries (repository_id, trust_tier, ref, version, key text_pattern_ops);
CREATE INDEX cache_entries_lru ON cache_entries (repository_id, trust_tier, last_accessed_at);
CREATE INDEX cache_entries_by_digest ON cache_entries (sha256) WHERE sha256 IS NOT NULL;

-- The blocks of an upload in progress (Azure Put Block), as artifact_upload_blocks.
CREATE TABLE cache_upload_blocks (
  entry_id bigint NOT NULL REFERENCES cache_entries (id) ON DELETE CASCADE,
  block_id text NOT NULL CHECK (length(block_id) BETWEEN 1 AND 100),
  size bigint NOT NULL CHECK (size >= 0),
  sha256 text NOT NULL,
  staged_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (entry_id, block_id)
);
