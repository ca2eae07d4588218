// KMS rotation (`airlock secrets rotate`): make a new KMS key, re-wrap every live organization DEK
// under it — secrets, variables and run keys are not touched, since they sit under the
// organization DEKs, which do not change — and, when asked, retire the KMS keys no organization
// key is wrapped under any more. Re-wrapping runs in one transaction holding the exclusive
// advisory lock (organization key creation takes it shared), so no new key can be wrapped under
// an old KMS key meanwhile; retiring happens only after that transaction committed, so a failed
// rotation never leaves a row wrapped under a destroyed key. Running it again is safe: it
// re-wraps only what is not under the current key.
import type pg from "pg";
import { wipe } from "./envelope.js";
import type { Kms } from "./kms/index.js";
import { KMS_LOCK_KEY, kmsKeysInUse, organizationKeyBinding } from "./org-keys.js";
import { inTransaction } from "./scope.js";

export interface RotationOptions {
  /** Make a new KMS key first (default true); false re-wraps under the newest key there is. */
  newKey?: boolean;
  /** Afterwards destroy the KMS keys nothing is wrapped under (default false: old backups need them). */
  retire?: boolean;
}

export interface RotationReport {
  previousKeyId: string;
  currentKeyId: string;
  rewrapped: number;
  alreadyCurrent: number;
  /** Secret rows, untouched by the rotation. */
  secrets: number;
  retired: string[];
  /** Older KMS keys still held (kept for backups until retired). */
  kept: string[];
}

interface Row {
  id: string;
  organization_id: string;
  kms_key_id: string;
  wrapped_dek: Buffer;
}

export async function rotateKms(pool: pg.Pool, kms: Kms, o: RotationOptions = {}): Promise<RotationReport> {
  const phase1 = await inTransaction(pool, async (c) => {
    await c.query("SELECT pg_advisory_xact_lock($1)", [KMS_LOCK_KEY]);
    const previousKeyId = await kms.currentKeyId();
    const currentKeyId = o.newKey === false ? previousKeyId : await kms.createKey();
    const { rows } = await c.query<Row>(
      `SELECT id, organization_id, kms_key_id, wrapped_dek FROM organization_keys
        WHERE destroyed_at IS NULL ORDER BY id FOR UPDATE`,
    );
    let rewrapped = 0;
    for (const r of rows) {
      if (r.kms_key_id === currentKeyId) continue;
      const context = organizationKeyBinding(Number(r.organization_id), Number(r.id));
      const dek = await kms.unwrap({ keyId: r.kms_key_id, wrapped: r.wrapped_dek }, context);
      try {
        const w = await kms.wrap(dek, context);
        await c.query(
          "UPDATE organization_keys SET kms_key_id = $2, wrapped_dek = $3, rewrapped_at = now() WHERE id = $1",
          [r.id, w.keyId, w.wrapped],
        );
      } finally {
        wipe(dek);
      }
      rewrapped++;
    }
    const secrets = (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM secrets")).rows[0]?.n ?? 0;
    return { previousKeyId, currentKeyId, rewrapped, alreadyCurrent: rows.length - rewrapped, secrets };
  });
  const retired = o.retire ? await retireUnusedKeys(pool, kms) : [];
  const current = await kms.currentKeyId();
  const kept = (await kms.keyIds()).filter((id) => id !== current);
  return { ...phase1, retired, kept };
}

/** Destroys every KMS key except the current one that no live organization key is wrapped under. */
export async function retireUnusedKeys(pool: pg.Pool, kms: Kms): Promise<string[]> {
  return inTransaction(pool, async (c) => {
    await c.query("SELECT pg_advisory_xact_lock($1)", [KMS_LOCK_KEY]);
    const inUse = await kmsKeysInUse(c);
    const current = await kms.currentKeyId();
    const unused = (await kms.keyIds()).filter((id) => id !== current && !inUse.has(id));
    for (const id of unused) await kms.destroyKey(id);
    return unused;
  });
}
