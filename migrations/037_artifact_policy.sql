-- Artifact retention, quotas and promotion (issue 13, items 1 and 8; docs/integrity.md).
-- A repository's artifact policy: its quota of finalized artifact bytes (null: the server's
-- default, artifactQuotaBytes) and its promotion gate, which statuses may be promoted (never
-- `mismatch`) and whether an artifact of an untrusted run may be. No row: every default.
CREATE TABLE repository_artifact_policies (
  repository_id bigint PRIMARY KEY REFERENCES repositories (id) ON DELETE CASCADE,
  quota_bytes bigint CHECK (quota_bytes >= 0),
  promote_require_status text[] NOT NULL DEFAULT ARRAY['corroborated', 'trusted']
    CHECK (promote_require_status <@ ARRAY['corroborated', 'trusted', 'unverified']
           AND cardinality(promote_require_status) >= 1),
  allow_untrusted_runs boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Promotion: set once, by the promote route, when the policy allowed it (never for `mismatch`).
ALTER TABLE artifacts
  ADD COLUMN promoted_at timestamptz,
  ADD COLUMN promoted_by text CHECK (promoted_by IS NULL OR length(promoted_by) <= 200),
  ADD CONSTRAINT artifacts_promoted_finalized CHECK (promoted_at IS NULL OR state = 'finalized');

-- The quota sums a repository's finalized bytes; the sweep finds uploads never finalized.
CREATE INDEX artifacts_by_repository ON artifacts (repository_id) WHERE state = 'finalized';
CREATE INDEX artifacts_stale_uploads ON artifacts (created_at) WHERE state = 'uploading';
