-- Job identity tokens (issue 8, item 6): OpenID Connect ID tokens the orchestrator signs for jobs
-- with `permissions: id-token: write` (docs/security.md, "Job identity tokens").

-- Signing keys, per organization (each organization is its own issuer). RS256, 2048-bit RSA.
-- The private key (PKCS#8 DER) is sealed with the organization's data key, AES-256-GCM, AAD bound
-- to the organization, this row and its kid (src/job-identity/keys.ts). A key signs from
-- created_at until retired_at (rotation: after `rotation days`, or by hand); its public half stays
-- in the JWKS until every token it signed has expired (retired_at + the longest token lifetime).
CREATE TABLE job_identity_keys (
  id bigserial PRIMARY KEY,
  organization_id bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  kid text NOT NULL UNIQUE,
  alg text NOT NULL CHECK (alg = 'RS256'),
  -- The public JWK (kty, n, e), published as is with kid, alg and use added.
  public_jwk jsonb NOT NULL,
  organization_key_id bigint NOT NULL REFERENCES organization_keys (id) ON DELETE CASCADE,
  nonce bytea NOT NULL,
  ciphertext bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz,
  -- The latest expiry of a token it signed: the key stays published at least until then.
  last_expiry timestamptz
);
-- At most one signing key per organization.
CREATE UNIQUE INDEX job_identity_keys_signing ON job_identity_keys (organization_id) WHERE retired_at IS NULL;

-- The request tokens handed to job attempts that may ask for an ID token (sent in `assign`, seen by
-- the job as ACTIONS_ID_TOKEN_REQUEST_TOKEN). Only the SHA-256 is stored. A token works while its
-- job is assigned or running in that very attempt: a later attempt gets a new one.
CREATE TABLE job_request_tokens (
  job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  token_sha256 bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, attempt)
);
