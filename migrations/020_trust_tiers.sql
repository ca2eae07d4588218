-- Trust tiers (issue 9, item 1). Every run has a tier decided when it is created, from who
-- triggered it and which ref it builds (src/orchestrator/trust.ts): 'trusted' (pushes and tags to
-- the repository, manual runs by authorized users, polling, pull requests from the repository
-- itself, pull_request_target) or 'untrusted' (pull requests from forks or from a head repository
-- that is unknown). Untrusted runs get no secrets and no write credentials, run only on low-trust
-- pools, and wait for a maintainer's approval when the repository's policy says so (first-time
-- contributors always). An approval is bound to the commit: the repository, the commit and who
-- approved it are recorded, and a later commit needs another.
ALTER TABLE runs
  ADD COLUMN trust_tier text NOT NULL DEFAULT 'trusted' CHECK (trust_tier IN ('trusted', 'untrusted')),
  -- null: no approval needed; 'required': waiting (not driven); 'approved'; 'rejected'.
  ADD COLUMN approval text CHECK (approval IN ('required', 'approved', 'rejected')),
  ADD COLUMN approval_reason text,
  ADD COLUMN approved_by text,
  ADD COLUMN approved_at timestamptz;
CREATE INDEX runs_awaiting_approval ON runs (repository_id) WHERE approval = 'required';

-- Commits a maintainer approved for untrusted runs (per repository): a run at an approved commit
-- (another workflow of the same push, a re-run) needs no new approval; any other commit does.
CREATE TABLE untrusted_approvals (
  repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  commit text NOT NULL,
  -- Whose code it is (the run's actor), and who approved it.
  author text NOT NULL,
  approved_by text NOT NULL,
  approved_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repository_id, commit)
);

-- Which untrusted runs wait for approval: 'all' (the default), or 'first-time' (only contributors
-- with no approved run in this repository yet, and those GitHub calls first-time; they always wait).
ALTER TABLE repositories
  ADD COLUMN untrusted_approval text NOT NULL DEFAULT 'all' CHECK (untrusted_approval IN ('all', 'first-time'));
