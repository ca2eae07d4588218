-- Single sign-on (issue 7, items 4 and 5): logins through an OpenID Connect provider or a forge's
-- OAuth (GitHub, GitLab, Bitbucket).
--
-- external_logins: a login under way, between the redirect to the provider and its callback.
-- Keyed by the SHA-256 of the `state` parameter; single use (the callback deletes the row before
-- anything else) and short-lived (expires_at, about 10 minutes). Nothing here is a secret: the
-- PKCE verifier and the nonce are derived (HMAC) from a random value that only the browser holds,
-- in a short-lived HttpOnly cookie, and browser_hash is that value's SHA-256, so a callback from
-- another browser (login CSRF: an attacker's code and state sent to a victim) is refused, and a
-- copy of this table cannot finish anyone's login.
CREATE TABLE external_logins (
  state_hash text PRIMARY KEY,
  -- 'oidc:<provider id>', 'github', 'gitlab' or 'bitbucket'.
  provider text NOT NULL,
  browser_hash text NOT NULL,
  -- Where to send the browser afterwards: a path under the server's public URL.
  return_to text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX external_logins_expiry ON external_logins (expires_at);

COMMENT ON COLUMN user_identities.provider IS
  'oidc:<provider id from the configuration>, github, gitlab or bitbucket';
COMMENT ON COLUMN user_identities.subject IS
  'the provider''s immutable user id: OIDC sub, GitHub or GitLab numeric user id, Bitbucket account uuid';

-- Roles given by a provider's groups mapping carry the provider (e.g. 'oidc:corp'), and are
-- replaced at each login through it; null: granted by an administrator, never touched by a login.
ALTER TABLE role_grants ADD COLUMN mapped_by text;
-- The same for the server administrator flag: set by a mapping (which may take it away again),
-- or null when an administrator set it (or it is not set at all).
ALTER TABLE users ADD COLUMN server_admin_mapped_by text;
