-- Whether a job's node was in a deploy pool (migration 040), recorded when the job is assigned
-- (the pool's name; NULL when not; cleared with node_id on reject and lease expiry; copied with a
-- job a re-run keeps): whether the job counts as a deployment (it is not rebuilt, its artifacts do
-- not wait for rebuilds) follows what it was placed as, not a flag or pool changed while it runs.
-- The artifact gate reads this OR the node's pool as it is now: a change can only tighten it.
-- IF NOT EXISTS: a database of a development build that had this column in 040 already.
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS assigned_deploy_pool text;

-- Jobs already placed when this runs: as their node's pool is now.
UPDATE jobs j SET assigned_deploy_pool = p.name
  FROM nodes n JOIN pools p ON p.id = n.pool_id
 WHERE n.id = j.node_id AND p.deploy AND j.state IN ('assigned', 'running');
