-- Who saved a cache entry: a trusted or an untrusted worker (issue 13; docs/integrity.md "Caches",
-- "Scopes: who can restore what"). Scopes keep an untrusted RUN's entries from trusted runs, but an
-- untrusted WORKER running a trusted run's job saves into the trusted scope; a job on a trusted
-- worker that restored it would build from inputs a third party chose, and its artifact would be
-- `trusted` at once (a trusted worker built it). So a job on a trusted worker restores only entries
-- saved by trusted workers; a job on an untrusted worker restores both.
-- `worker_trust` is the saving job's worker trust as recorded when the attempt was assigned
-- (jobs.assigned_worker_trust, migration 039; else the node's value then; no node: untrusted),
-- set by insertEntry (src/caches/records.ts) from the live caller, never from the job.
-- Existing rows default to 'untrusted': an entry nobody can vouch for is not fed to trusted workers
-- (at worst a miss and a rebuild of the cache). The backfill makes an entry trusted only when its
-- job's row still describes the saving attempt (same attempt, same node: a retry since says
-- nothing about it) and that assignment's record (or, for jobs assigned before 039, the node's
-- current value, as everywhere else) says trusted.
ALTER TABLE cache_entries
  ADD COLUMN worker_trust text NOT NULL DEFAULT 'untrusted' CHECK (worker_trust IN ('trusted', 'untrusted'));

UPDATE cache_entries e SET worker_trust = 'trusted'
  FROM jobs j LEFT JOIN nodes n ON n.id = j.node_id
 WHERE j.id = e.job_id AND j.attempt = e.job_attempt AND j.node_id = e.node_id
   AND coalesce(j.assigned_worker_trust, n.worker_trust) = 'trusted';

-- One slot per worker trust: an untrusted worker that saves a key first does not keep a trusted
-- worker from saving the same key and version in the same scope (else trusted callers would miss
-- it for good). The service refuses an untrusted worker's save of a key a trusted worker has
-- already finalized there (src/caches/service.ts create), so a scope holds at most one entry of
-- each, and an untrusted-worker entry only ever precedes a trusted one.
ALTER TABLE cache_entries
  DROP CONSTRAINT cache_entries_repository_id_trust_tier_ref_key_version_key,
  ADD CONSTRAINT cache_entries_scope_key UNIQUE (repository_id, trust_tier, ref, key, version, worker_trust);
