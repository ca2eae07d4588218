-- Replayed webhooks (issue 9, item 2): forges sign a delivery's body but not its delivery id, so a
-- captured delivery sent again under a new id verifies. Each accepted delivery also records the
-- digest of what it describes (src/sources/fingerprint.ts); a second delivery describing the same
-- work for the same repository is a duplicate whatever its id.
ALTER TABLE webhook_deliveries ADD COLUMN fingerprint text;
CREATE UNIQUE INDEX webhook_deliveries_fingerprint ON webhook_deliveries (repository_id, fingerprint)
  WHERE fingerprint IS NOT NULL;
