-- Identity and access (issue 7): people, their external identities, roles per organization and
-- per repository, browser sessions, scoped API tokens, and one-time node registration tokens.
-- Secrets are never stored: passwords as argon2id (or imported bcrypt) hashes, session ids, API
-- token secrets and registration secrets as SHA-256 digests of high-entropy random values,
-- recovery codes as digests.

CREATE TABLE users (
  id bigserial PRIMARY KEY,
  -- Login name of a built-in user, or a unique name given to an external one at first login.
  name text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  display_name text NOT NULL DEFAULT '',
  email text,
  -- argon2id PHC string (or an imported bcrypt hash, upgraded at the next login); null: no
  -- password login (an external user).
  password_hash text,
  disabled boolean NOT NULL DEFAULT false,
  -- Server-wide administrator (every organization, nodes, users, audit log).
  server_admin boolean NOT NULL DEFAULT false,
  -- TOTP (RFC 6238): base32 secret once confirmed; the last accepted time step (no replay).
  totp_secret text,
  totp_pending_secret text,
  totp_last_step bigint,
  recovery_code_hashes text[] NOT NULL DEFAULT '{}',
  -- Sessions and tokens issued before this instant are dead ("log out everywhere", disable).
  credentials_valid_after timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_name_key ON users (lower(name));

-- External identities: (provider, immutable provider user id), never a user name or e-mail.
CREATE TABLE user_identities (
  provider text NOT NULL, -- 'oidc:<issuer>', 'github', 'gitlab', 'bitbucket'
  subject text NOT NULL,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, subject)
);

ALTER TABLE organizations ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;

-- Roles: per organization (repository_id null) or per repository (a project).
CREATE TABLE role_grants (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  organization_id bigint NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  repository_id bigint REFERENCES repositories (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('admin', 'maintainer', 'developer', 'viewer')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX role_grants_org_key ON role_grants (user_id, organization_id) WHERE repository_id IS NULL;
CREATE UNIQUE INDEX role_grants_repo_key ON role_grants (user_id, repository_id) WHERE repository_id IS NOT NULL;

-- Browser sessions: the cookie holds a random id; only its digest is stored.
CREATE TABLE sessions (
  id_hash text PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  csrf_token_hash text NOT NULL,
  -- Password (and TOTP when the user has it) checked; false: waiting for the second factor.
  complete boolean NOT NULL,
  client_address text,
  user_agent text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- API tokens: personal (user_id) and service tokens, scoped and expiring. Looked up by public_id;
-- the secret part is compared in constant time against secret_hash. The older admin/agent tokens
-- (token_hash) stay until node registration and users replace them.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_kind_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_kind_check
  CHECK (kind IN ('admin', 'agent', 'personal', 'service', 'node'));
ALTER TABLE api_tokens ALTER COLUMN token_hash DROP NOT NULL;
ALTER TABLE api_tokens
  ADD COLUMN public_id text UNIQUE,
  ADD COLUMN secret_hash text,
  ADD COLUMN user_id bigint REFERENCES users (id) ON DELETE CASCADE,
  ADD COLUMN organization_id bigint REFERENCES organizations (id) ON DELETE CASCADE,
  ADD COLUMN scopes text[] NOT NULL DEFAULT '{}',
  ADD COLUMN expires_at timestamptz,
  ADD COLUMN revoked_at timestamptz,
  ADD COLUMN created_by bigint REFERENCES users (id) ON DELETE SET NULL;

-- One-time node registration tokens: exchanged once, before expires_at, for a node credential.
CREATE TABLE node_registrations (
  id bigserial PRIMARY KEY,
  public_id text NOT NULL UNIQUE,
  secret_hash text NOT NULL,
  node_name text NOT NULL,
  labels text[] NOT NULL DEFAULT '{}',
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  node_id bigint REFERENCES nodes (id) ON DELETE SET NULL,
  created_by bigint REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE nodes ADD COLUMN revoked_at timestamptz;

-- Facts about the identity setup that must survive the rows they are about (e.g. whether the
-- bootstrap `admin` user was ever created, to tell a first start from a recreation).
CREATE TABLE identity_state (
  key text PRIMARY KEY,
  value text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
