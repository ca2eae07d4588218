-- Delivery of secrets to the live job only (issue 8, item 4). A job description never carries a
-- plaintext secret: the values it references are sealed under the run's DEK (runs.run_key_wrapped,
-- migration 013). When a job attempt is assigned, the orchestrator mints a one-time release token
-- for it and keeps only its SHA-256 here; the agent, once it has created the attempt's machine,
-- presents the token with the machine's id and gets the run DEK unwrapped, once. The token is dead
-- after that (a second machine, or the same one again, gets 401), and whenever the attempt is no
-- longer assigned or running (finished, cancelled, lease expired and retried elsewhere).
CREATE TABLE job_secret_releases (
  job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  token_hash bytea NOT NULL,
  -- The machine that redeemed the token, and when; null until then.
  machine text,
  redeemed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, attempt),
  CHECK ((machine IS NULL) = (redeemed_at IS NULL))
);
CREATE UNIQUE INDEX job_secret_releases_token ON job_secret_releases (token_hash);
