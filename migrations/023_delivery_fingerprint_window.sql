-- Replay de-duplication by content only within a window (src/sources/fingerprint.ts): 019's unique
-- index made a delivery describing the same work as any earlier one a duplicate forever, which
-- dropped genuine deliveries (a tag deleted and pushed again at the same commit). The check is now
-- a lookup of the same fingerprint received within the window, serialised per (repository,
-- fingerprint) by an advisory lock (src/orchestrator/catalog/webhooks.ts); this index serves it.
DROP INDEX IF EXISTS webhook_deliveries_fingerprint;
CREATE INDEX webhook_deliveries_fingerprint ON webhook_deliveries (repository_id, fingerprint, received_at)
  WHERE fingerprint IS NOT NULL;
