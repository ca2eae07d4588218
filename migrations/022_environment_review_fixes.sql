-- Environments and job identity, after review (docs/security.md, "Environments" and "Job identity
-- tokens").

-- Who triggered a run attempt, as an Airlock user: the user of a manual trigger or a re-run (for a
-- service token, the user who made the token), null for webhooks and polling. A deployment's
-- reviewer may never be this user, nor the user of the run a re-run repeats (rerun_of), nor a
-- user whose name or linked forge login is the run's actor.
ALTER TABLE runs ADD COLUMN triggered_by_user_id bigint REFERENCES users (id) ON DELETE SET NULL;

-- The login name a provider last gave for an identity (a forge login: what webhooks name as the
-- actor), refreshed at every login through it. Never used to find a user (the subject is), only to
-- recognise a user's own pushes; null until the identity's next login.
ALTER TABLE user_identities ADD COLUMN login text CHECK (login IS NULL OR length(login) <= 255);
CREATE INDEX user_identities_login ON user_identities (lower(login)) WHERE login IS NOT NULL;

-- How many identity tokens a job attempt has been issued (capped: src/job-identity/issue.ts).
ALTER TABLE job_request_tokens ADD COLUMN issued integer NOT NULL DEFAULT 0 CHECK (issued >= 0);
