// Webhook delivery de-duplication: a delivery id is recorded once per provider (primary key), so
// a redelivered webhook is recognised and does nothing. Only verified deliveries are recorded.
import type { Db } from "./db.js";

/** Records a delivery; false when the same (provider, delivery id) was recorded before. */
export async function recordDelivery(
  db: Db,
  d: {
    provider: string;
    deliveryId: string;
    repositoryId: number;
    event: string;
    outcome: string;
    /** What the delivery describes (src/sources/fingerprint.ts): one per repository. */
    fingerprint?: string;
  },
): Promise<boolean> {
  // Either unique key makes it a duplicate: the same delivery id, or the same described work.
  const { rowCount } = await db.query(
    `INSERT INTO webhook_deliveries (provider, delivery_id, repository_id, event, outcome, fingerprint)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
    [d.provider, d.deliveryId, d.repositoryId, d.event, d.outcome, d.fingerprint ?? null],
  );
  return rowCount === 1;
}

/** Forgets a delivery whose handling failed, so the provider's redelivery is processed again. */
export async function forgetDelivery(db: Db, provider: string, deliveryId: string): Promise<void> {
  await db.query("DELETE FROM webhook_deliveries WHERE provider = $1 AND delivery_id = $2", [
    provider,
    deliveryId,
  ]);
}
