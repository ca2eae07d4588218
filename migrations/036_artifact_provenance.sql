-- Artifact status and provenance (issue 13, items 6 and 7). Every finalized artifact gets a status
-- (corroborated | trusted | unverified | mismatch: docs/integrity.md) and a provenance statement
-- written and signed by the orchestrator, never the worker: a DSSE envelope over an in-toto
-- Statement v1 with a SLSA Provenance v1 predicate, signed with the organization's Ed25519
-- provenance key (migration 034).
ALTER TABLE artifacts
  ADD COLUMN status text NOT NULL DEFAULT 'unverified'
    CHECK (status IN ('corroborated', 'trusted', 'unverified', 'mismatch'));

CREATE TABLE artifact_provenance (
  artifact_id bigint PRIMARY KEY REFERENCES artifacts (id) ON DELETE CASCADE,
  keyid text NOT NULL CHECK (keyid ~ '^[0-9a-f]{64}$'),
  envelope jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
