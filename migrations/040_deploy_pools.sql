-- Deploy pools (issue 13, item 8; docs/integrity.md "Promotion", docs/security.md "Pools and
-- authorizations"). An administrator marks a high-trust pool as a deploy pool: a job placed on one
-- of its nodes is gated like a job with an `environment:` — it consumes only the artifacts the
-- repository's promotion gate allows, and it is not placed there while its run's independent
-- rebuilds are under way (it may still run on other nodes). The orchestrator decides this from the
-- pool of the node it assigned the job to, never from anything the job says.
-- Only a high-trust pool can be one: untrusted work never holds deploy credentials. The API refuses
-- a low-trust deploy pool in one line (POOL_INVALID); the CHECK holds it for every writer.
ALTER TABLE pools
  ADD COLUMN deploy boolean NOT NULL DEFAULT false,
  ADD CONSTRAINT pools_deploy_high_trust CHECK (NOT deploy OR trust = 'high');

-- Whether a job's node was in a deploy pool, recorded when it is assigned (the pool's name, NULL
-- when not; cleared with node_id): whether the job counts as a deployment (no rebuilds of it, its
-- artifacts not held for rebuilds) is decided from what it was placed as, not from a flag or pool
-- changed while it runs. The artifact gate reads this OR the pool as it is now: a change can only
-- tighten it.
ALTER TABLE jobs ADD COLUMN assigned_deploy_pool text;
