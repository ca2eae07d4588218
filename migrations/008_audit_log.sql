-- The tamper-evident audit log (src/audit): one row per security-relevant event, append-only,
-- each row chained to the one before by a SHA-256 hash (computed in src/audit/entry.ts over a
-- canonical encoding of every column and the previous hash; the first row chains to 64 zeros).
--
-- seq is assigned by src/audit/append.ts as the last seq + 1 under a transaction-level advisory
-- lock, not by a sequence: a rolled-back append must not leave a gap, since a gap is how a
-- removed entry shows. `at` is written with microsecond precision and hashed as its UTC ISO text.
-- No foreign keys: removing a repository or node must never touch its history.
CREATE TABLE audit_log (
  seq bigint PRIMARY KEY CHECK (seq > 0),
  at timestamptz NOT NULL,
  -- Who: 'user', 'token', 'node', 'system', ... with the id in that kind's table and a display
  -- text as it was at the time (names change; the log keeps what was true then).
  actor_kind text NOT NULL CHECK (actor_kind ~ '^[a-z][a-z0-9_]{0,31}$'),
  actor_id text CHECK (length(actor_id) <= 200),
  actor_display text CHECK (length(actor_display) <= 500),
  -- What: dotted, e.g. 'repository.created', 'user.login_failed'.
  action text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$' AND length(action) <= 100),
  -- On what: e.g. ('repository', '12').
  object_kind text CHECK (object_kind ~ '^[a-z][a-z0-9_]{0,31}$'),
  object_id text CHECK (length(object_id) <= 500),
  -- The client's address as the HTTP layer saw it (text: hashed exactly as given).
  client_address text CHECK (length(client_address) <= 100),
  details jsonb NOT NULL DEFAULT '{}',
  prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$')
);

CREATE INDEX audit_log_action ON audit_log (action text_pattern_ops, seq);
CREATE INDEX audit_log_actor ON audit_log (actor_kind, actor_id, seq);
CREATE INDEX audit_log_object ON audit_log (object_kind, object_id, seq);
CREATE INDEX audit_log_at ON audit_log (at);

-- Append-only in the database too. This stops mistakes and ordinary roles; it does not stop an
-- owner or superuser, who can drop the trigger: the hash chain is what makes that visible
-- (`airlock audit verify`).
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'audit entries are never changed or removed; see docs/security.md';
END;
$$;

CREATE TRIGGER audit_log_no_update_delete
  BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();

CREATE TRIGGER audit_log_no_truncate
  BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
