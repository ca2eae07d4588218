-- Secrets and variables (issue 8, items 1 and 2), with envelope encryption:
--   KMS key (key file or HSM; never in the database)
--     → organization_keys: one data key (DEK) per organization, wrapped by the KMS key
--       → secrets.wrapped_dek: one DEK per secret version, wrapped by the organization DEK
--       → runs.run_key_wrapped: one DEK per run, wrapped by the organization DEK
-- Everything is AES-256-GCM with a random 96-bit nonce; each ciphertext's AAD names the row it
-- belongs to (src/secrets/envelope.ts), so bytes copied to another row do not decrypt.
-- Rotation re-wraps organization_keys under a new KMS key and touches no secret row.
-- Crypto-shredding: an organization key is destroyed by clearing its wrapped DEK (the row stays as
-- a tombstone, so its secrets fail with KEY_DESTROYED rather than an opaque error).

CREATE TABLE organization_keys (
  id bigserial PRIMARY KEY,
  organization_id bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  -- The KMS key that wrapped it ('local-2-3f9a1c0e', 'pkcs11:airlock-kms:2'); null once destroyed.
  kms_key_id text,
  -- nonce ‖ AES-256-GCM(KMS key, DEK) ‖ tag; null once destroyed.
  wrapped_dek bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  rewrapped_at timestamptz,
  destroyed_at timestamptz,
  CHECK ((destroyed_at IS NULL) = (kms_key_id IS NOT NULL AND wrapped_dek IS NOT NULL))
);
CREATE UNIQUE INDEX organization_keys_live ON organization_keys (organization_id) WHERE destroyed_at IS NULL;
CREATE INDEX organization_keys_kms_key ON organization_keys (kms_key_id) WHERE destroyed_at IS NULL;

-- Organization-level (repository_id null), repository-level (environment null) and
-- environment-level secrets. Names as GitHub's, stored upper-case (names are case-insensitive);
-- environment names stored lower-case (likewise). Values are never stored in clear.
CREATE TABLE secrets (
  id bigserial PRIMARY KEY,
  organization_id bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  repository_id bigint REFERENCES repositories (id) ON DELETE CASCADE,
  environment text CHECK (
    environment IS NULL OR (repository_id IS NOT NULL AND environment <> '' AND environment = lower(environment))
  ),
  name text NOT NULL CHECK (name ~ '^[A-Z_][A-Z0-9_]*$' AND name !~ '^GITHUB_'),
  -- 1 at creation, +1 at each new value; part of the AAD.
  version integer NOT NULL CHECK (version > 0),
  organization_key_id bigint NOT NULL REFERENCES organization_keys (id) ON DELETE CASCADE,
  -- nonce ‖ AES-256-GCM(organization DEK, secret DEK) ‖ tag
  wrapped_dek bytea NOT NULL,
  nonce bytea NOT NULL,
  -- AES-256-GCM(secret DEK, value) ‖ tag
  ciphertext bytea NOT NULL,
  created_by text NOT NULL,
  updated_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX secrets_name ON secrets (organization_id, COALESCE(repository_id, 0), COALESCE(environment, ''), name);
CREATE INDEX secrets_repository ON secrets (repository_id) WHERE repository_id IS NOT NULL;

-- Configuration variables (the `vars` context): plain text, the same levels and names.
CREATE TABLE variables (
  id bigserial PRIMARY KEY,
  organization_id bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  repository_id bigint REFERENCES repositories (id) ON DELETE CASCADE,
  environment text CHECK (
    environment IS NULL OR (repository_id IS NOT NULL AND environment <> '' AND environment = lower(environment))
  ),
  name text NOT NULL CHECK (name ~ '^[A-Z_][A-Z0-9_]*$' AND name !~ '^GITHUB_'),
  value text NOT NULL,
  created_by text NOT NULL,
  updated_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX variables_name ON variables (organization_id, COALESCE(repository_id, 0), COALESCE(environment, ''), name);
CREATE INDEX variables_repository ON variables (repository_id) WHERE repository_id IS NOT NULL;

-- A run's own DEK (secrets delivered to its jobs are sealed with it), wrapped by the
-- organization DEK named beside it.
ALTER TABLE runs
  ADD COLUMN run_key_wrapped bytea,
  ADD COLUMN run_key_organization_key_id bigint REFERENCES organization_keys (id) ON DELETE SET NULL;

-- Job-source credentials of a repository, sealed as secrets are (a DEK each, wrapped by the
-- organization DEK; AAD: organization, repository, row, kind). The webhook secret moves here:
-- repositories.webhook_secret stays only for rows written before this migration, and the server
-- seals those at its next start and clears the column (src/secrets/credentials.ts).
CREATE TABLE repository_credentials (
  id bigserial PRIMARY KEY,
  organization_id bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('webhook-secret')),
  organization_key_id bigint NOT NULL REFERENCES organization_keys (id) ON DELETE CASCADE,
  wrapped_dek bytea NOT NULL,
  nonce bytea NOT NULL,
  ciphertext bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (repository_id, kind)
);
ALTER TABLE repositories ALTER COLUMN webhook_secret DROP NOT NULL;
