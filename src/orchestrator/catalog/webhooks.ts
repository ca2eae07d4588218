// Webhook delivery de-duplication: a delivery id is recorded once per provider (primary key), so
// a redelivered webhook is recognised and does nothing. A delivery describing the same work as one
// received for the same repository within a window (its fingerprint, src/sources/fingerprint.ts)
// is a duplicate too: a signed body replayed under a new id. Only verified deliveries are recorded.
import type pg from "pg";
import { inTransaction, type Db } from "./db.js";

/** Namespace of the advisory locks that serialise deliveries with the same fingerprint. */
const FINGERPRINT_LOCK = 0x77686b; // "whk"

/**
 * Records a delivery; false when the same (provider, delivery id) was recorded before, or the same
 * fingerprint for the same repository within the last `windowDays`.
 */
export async function recordDelivery(
  pool: pg.Pool,
  d: {
    provider: string;
    deliveryId: string;
    repositoryId: number;
    event: string;
    outcome: string;
    /** What the delivery describes (src/sources/fingerprint.ts), and for how many days it counts. */
    fingerprint?: { digest: string; windowDays: number };
  },
): Promise<boolean> {
  const insert = (db: Db): Promise<pg.QueryResult> =>
    db.query(
      `INSERT INTO webhook_deliveries (provider, delivery_id, repository_id, event, outcome, fingerprint)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [d.provider, d.deliveryId, d.repositoryId, d.event, d.outcome, d.fingerprint?.digest ?? null],
    );
  const fp = d.fingerprint;
  if (fp === undefined) return (await insert(pool)).rowCount === 1;
  return inTransaction(pool, async (c) => {
    // Two deliveries with one fingerprint at once: the second waits, then sees the first.
    await c.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [
      FINGERPRINT_LOCK,
      `${d.repositoryId}:${fp.digest}`,
    ]);
    const seen = await c.query(
      `SELECT 1 FROM webhook_deliveries
        WHERE repository_id = $1 AND fingerprint = $2
          AND received_at > clock_timestamp() - make_interval(days => $3)
        LIMIT 1`,
      [d.repositoryId, fp.digest, fp.windowDays],
    );
    if (seen.rowCount !== 0) return false;
    return (await insert(c)).rowCount === 1;
  });
}

/** Forgets a delivery whose handling failed, so the provider's redelivery is processed again. */
export async function forgetDelivery(db: Db, provider: string, deliveryId: string): Promise<void> {
  await db.query("DELETE FROM webhook_deliveries WHERE provider = $1 AND delivery_id = $2", [
    provider,
    deliveryId,
  ]);
}
