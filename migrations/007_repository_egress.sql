-- A repository's egress allow-list: destinations (host:port, *.domain:port, ip:port, [ipv6]:port)
-- its jobs may reach through the node's egress proxy, on top of the node's own list. Empty: only
-- the node's list (and with none there, no network at all). Validated by the API (src/egress);
-- the agent parses it again and drops what it cannot read (fail closed).
ALTER TABLE repositories
  ADD COLUMN egress_allow text[] NOT NULL DEFAULT '{}',
  ADD CONSTRAINT repositories_egress_allow_bounded CHECK (cardinality(egress_allow) <= 256);
