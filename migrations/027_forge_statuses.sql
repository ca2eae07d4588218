-- Results back to the forge (issue 10): a commit status per workflow run, sent to GitHub, GitLab,
-- Gitea/Forgejo or Bitbucket with the repository's sealed forge token (src/forge-status).
--
-- The forge of a repository is inferred from its clone URL's host (or its webhook deliveries);
-- forge_kind and forge_api_url override that (self-hosted forges, tests against a local server).
ALTER TABLE repositories
  ADD COLUMN forge_kind text CHECK (forge_kind IN ('github', 'gitlab', 'gitea', 'bitbucket')),
  ADD COLUMN forge_api_url text CHECK (forge_api_url IS NULL OR forge_api_url ~ '^https?://');

-- The outbox: one row per run state change to report. Rows of one (repository, commit, context)
-- are sent in id order, and an unsent row is dropped ('superseded') once a newer one of its key
-- exists, so a late `pending` never overwrites `success`. Delivery: pending → sending (leased) →
-- sent | pending (retry after next_attempt_at) | failed (gave up: last_error says why).
CREATE TABLE forge_statuses (
  id bigserial PRIMARY KEY,
  run_id bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  commit text NOT NULL,
  context text NOT NULL,
  -- What the run is at: queued, waiting (for approval), running, success, failure, cancelled.
  phase text NOT NULL CHECK (phase IN ('queued', 'waiting', 'running', 'success', 'failure', 'cancelled')),
  delivery text NOT NULL DEFAULT 'pending'
    CHECK (delivery IN ('pending', 'sending', 'sent', 'superseded', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_expires_at timestamptz,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX forge_statuses_outstanding ON forge_statuses (repository_id, commit, context, id)
  WHERE delivery IN ('pending', 'sending');
CREATE INDEX forge_statuses_run ON forge_statuses (run_id, id);

-- The one place run state changes are turned into statuses, whichever code path made them (a
-- trigger, a driver, a cancel, an approval's rejection, a recovery after a restart): in the same
-- transaction as the change. Repositories without a forge token queue nothing.
CREATE FUNCTION forge_status_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  run_phase text;
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.state IS NOT DISTINCT FROM OLD.state
     AND NEW.approval IS NOT DISTINCT FROM OLD.approval THEN
    RETURN NEW;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM repository_credentials
                  WHERE repository_id = NEW.repository_id AND kind = 'forge-token') THEN
    RETURN NEW;
  END IF;
  run_phase := CASE
    WHEN NEW.state = 'completed' THEN coalesce(NEW.conclusion, 'failure')
    WHEN NEW.approval = 'required' THEN 'waiting'
    ELSE NEW.state
  END;
  INSERT INTO forge_statuses (run_id, repository_id, commit, context, phase)
  VALUES (NEW.id, NEW.repository_id, NEW.commit,
          -- One line: a workflow's name is the repository's text, control characters and all.
          'airlock/' || left(regexp_replace(coalesce(nullif(NEW.workflow_name, ''), nullif(NEW.workflow_file, ''), 'run'),
                                            '[[:cntrl:]]+', ' ', 'g'), 100),
          run_phase);
  RETURN NEW;
END;
$$;

CREATE TRIGGER runs_forge_status
  AFTER INSERT OR UPDATE OF state, approval ON runs
  FOR EACH ROW EXECUTE FUNCTION forge_status_enqueue();
