-- Node agents (issue 7): one-time registration tokens (node_registrations, migration 009) are
-- exchanged for a per-node credential that rotates on every connection. Only SHA-256 digests of
-- the secrets are stored. A node's credential row holds the current secret and, while a rotation
-- is under way, the pending one the agent was sent but has not yet confirmed: either is accepted,
-- so a crash or a lost acknowledgement between the agent saving the new secret and the server
-- learning of it never locks the node out. Presenting the pending secret (or confirming it on the
-- connection that delivered it) makes it current and the old one dead.
--
-- The older long-lived agent tokens (api_tokens kind 'agent', alk_node_ hashed whole) are gone:
-- nodes registered with one need a registration token (airlock nodes register-token) once.

CREATE TABLE node_credentials (
  node_id bigint PRIMARY KEY REFERENCES nodes (id) ON DELETE CASCADE,
  -- The lookup key inside the credential (alk_node_<public_id>_...); stable across rotations.
  public_id text NOT NULL UNIQUE,
  current_hash text NOT NULL,
  pending_hash text,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- When the current secret became current (first exchange, or the last confirmed rotation).
  rotated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE node_registrations
  ADD COLUMN required_labels text[] NOT NULL DEFAULT '{}',
  ADD COLUMN revoked_at timestamptz;

-- When an agent last got a connection accepted (a WebSocket upgrade with a valid credential).
ALTER TABLE nodes ADD COLUMN last_connected_at timestamptz;

DELETE FROM api_tokens WHERE kind = 'agent';
