-- Pools and authorizations (issue 9, item 3; docs/security.md "Pools and authorizations"), as
-- Phorge Drydock does with blueprints and their authorizations. Every node is in one pool, placed
-- there by an administrator (registration token, or `airlock nodes set-pool`). A pool has a trust
-- tier: untrusted runs (runs.trust_tier, migration 020) run only in low-trust pools, trusted runs
-- only in high-trust pools. A node that was given a low-trust job is tainted (nodes.tainted_at)
-- and never runs a trusted job again until it is re-registered (a new node row).
--
-- A repository uses a closed pool only once an administrator approved an authorization for it,
-- for the pool itself or for the pool's group (authorizations are transitive through groups). The
-- dispatcher creates the request ('requested') the first time a job could run only there; the job
-- waits "awaiting authorization for pool X". Revoking stops new machines at once.
--
-- Backwards compatible: pool 1, `default`, is high-trust and open (every repository may use it
-- without an authorization); every existing and new node is in it unless placed elsewhere.
CREATE TABLE pools (
  id bigserial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  trust text NOT NULL CHECK (trust IN ('low', 'high')),
  -- Authorizations for the group cover this pool.
  pool_group text,
  -- Every repository may use it without an authorization (deny by default: new pools are closed).
  open boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO pools (id, name, trust, open) VALUES (1, 'default', 'high', true);
SELECT setval('pools_id_seq', 1);

ALTER TABLE nodes
  ADD COLUMN pool_id bigint NOT NULL DEFAULT 1 REFERENCES pools (id),
  -- When the node was first given a low-trust job; cleared only by re-registration (a new node).
  ADD COLUMN tainted_at timestamptz;
CREATE INDEX nodes_pool ON nodes (pool_id);

ALTER TABLE node_registrations ADD COLUMN pool_id bigint NOT NULL DEFAULT 1 REFERENCES pools (id);

CREATE TABLE pool_authorizations (
  id bigserial PRIMARY KEY,
  repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  -- Exactly one of: a pool, or a pool group (covering every pool of that group).
  pool_id bigint REFERENCES pools (id) ON DELETE CASCADE,
  pool_group text,
  CHECK ((pool_id IS NULL) <> (pool_group IS NULL)),
  -- requested → approved → revoked; revoked → approved again; requested → revoked (refused).
  state text NOT NULL DEFAULT 'requested' CHECK (state IN ('requested', 'approved', 'revoked')),
  requested_at timestamptz NOT NULL DEFAULT now(),
  -- Who approved or revoked it last (an actor's display name), and when.
  decided_by text,
  decided_at timestamptz,
  UNIQUE (repository_id, pool_id),
  UNIQUE (repository_id, pool_group)
);
CREATE INDEX pool_authorizations_requested ON pool_authorizations (requested_at) WHERE state = 'requested';
