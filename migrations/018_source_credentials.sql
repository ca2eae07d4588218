-- Job-source credentials beside the webhook secret (issue 8): a clone URL's password (taken out of
-- the URL), an SSH deploy key (with known-hosts lines), and a forge API token — all sealed as the
-- webhook secret is, write-only. Who set a credential is kept for the listing (never the value).
ALTER TABLE repository_credentials DROP CONSTRAINT IF EXISTS repository_credentials_kind_check;
ALTER TABLE repository_credentials
  ADD CONSTRAINT repository_credentials_kind_check
  CHECK (kind IN ('webhook-secret', 'clone-password', 'deploy-key', 'forge-token'));
ALTER TABLE repository_credentials ADD COLUMN created_by text;
