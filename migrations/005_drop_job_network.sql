-- A job never chooses its own network: the AIRLOCK_NETWORK placeholder (jobs.network) is gone.
-- Network and isolation come from the node's configuration (and the repository's egress allow-list).
ALTER TABLE jobs DROP COLUMN network;
