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
