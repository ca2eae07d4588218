-- Provenance signing keys (issue 13, item 7): the orchestrator signs each artifact's in-toto/SLSA
-- provenance (a DSSE envelope) with an Ed25519 key of the artifact's organization. Jobs never see
-- it. The private key (PKCS#8 DER) is sealed with the organization's data key, AES-256-GCM, AAD
-- bound to the organization, this row and its keyid (src/artifacts/provenance/keys.ts), so it
-- follows the KMS hierarchy, KMS rotation and crypto-shredding like job identity keys.
-- keyid = SHA-256 (hex) of the public key's SubjectPublicKeyInfo DER. A key signs from created_at
-- until retired_at (rotation); its public half stays published for good: provenance outlives keys.
CREATE TABLE provenance_keys (
  id bigserial PRIMARY KEY,
  organization_id bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  keyid text NOT NULL UNIQUE CHECK (keyid ~ '^[0-9a-f]{64}$'),
  alg text NOT NULL CHECK (alg = 'ed25519'),
  -- The public key as PEM (SPKI), published as is.
  public_pem text NOT NULL,
  organization_key_id bigint NOT NULL REFERENCES organization_keys (id) ON DELETE CASCADE,
  nonce bytea NOT NULL,
  ciphertext bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz
);
-- At most one signing key per organization.
CREATE UNIQUE INDEX provenance_keys_signing ON provenance_keys (organization_id) WHERE retired_at IS NULL;
