// Organization data keys: one live DEK per organization, made on first use, stored wrapped by the
// KMS with the id of the KMS key that wrapped it. Its AAD names the organization and the key's
// row, so a wrapped key copied to another organization does not unwrap. Destroying it
// (crypto-shredding) clears the wrapped bytes and leaves a tombstone, so everything sealed under
// it fails with KEY_DESTROYED. Creation holds a shared advisory lock that rotation takes
// exclusively: no key is wrapped under a KMS key that a rotation is retiring.
import { AirlockError, ErrorCode } from "../errors/index.js";
import { aad, newDataKey, wipe } from "./envelope.js";
import type { Kms } from "./kms/index.js";
import { inTransaction, type Db } from "./scope.js";

/** Advisory lock: organization key creation (shared) against KMS rotation (exclusive). */
export const KMS_LOCK_KEY = 7_361_626_657_432_013n;

export interface OrganizationKey {
  /** The organization_keys row. */
  id: number;
  organizationId: number;
  /** The plain DEK: wipe() it when done. */
  dek: Buffer;
}

export function organizationKeyBinding(organizationId: number, id: number): Buffer {
  return aad({
    purpose: "org-dek",
    organizationId,
    repositoryId: null,
    environment: null,
    id,
    name: null,
    version: null,
    organizationKeyId: null,
  });
}

interface KeyRow {
  id: string;
  organization_id: string;
  kms_key_id: string | null;
  wrapped_dek: Buffer | null;
}

async function unwrapRow(kms: Kms, r: KeyRow): Promise<OrganizationKey> {
  const organizationId = Number(r.organization_id);
  if (r.wrapped_dek === null || r.kms_key_id === null) throw destroyed(organizationId);
  const dek = await kms.unwrap(
    { keyId: r.kms_key_id, wrapped: r.wrapped_dek },
    organizationKeyBinding(organizationId, Number(r.id)),
  );
  return { id: Number(r.id), organizationId, dek };
}

export function destroyed(organizationId: number): AirlockError {
  return new AirlockError(
    ErrorCode.KEY_DESTROYED,
    `the data key of organization ${organizationId} was destroyed (crypto-shredded): what it sealed cannot be read; set those secrets again`,
  );
}

const COLUMNS = "id, organization_id, kms_key_id, wrapped_dek";

/** The organization's live key, made (and wrapped by the KMS's current key) when it has none. */
export async function liveOrganizationKey(
  db: Db,
  kms: Kms,
  organizationId: number,
): Promise<OrganizationKey> {
  const select = async (c: Db): Promise<KeyRow | undefined> =>
    (
      await c.query<KeyRow>(
        `SELECT ${COLUMNS} FROM organization_keys WHERE organization_id = $1 AND destroyed_at IS NULL`,
        [organizationId],
      )
    ).rows[0];
  const found = await select(db);
  if (found) return unwrapRow(kms, found);
  return inTransaction(db, async (c) => {
    await c.query("SELECT pg_advisory_xact_lock_shared($1)", [KMS_LOCK_KEY]);
    const { rows } = await c.query<{ id: string }>(
      "SELECT nextval(pg_get_serial_sequence('organization_keys', 'id')) AS id",
    );
    const id = Number(rows[0]!.id);
    const dek = newDataKey();
    const w = await kms.wrap(dek, organizationKeyBinding(organizationId, id));
    const inserted = await c.query(
      `INSERT INTO organization_keys (id, organization_id, kms_key_id, wrapped_dek) VALUES ($1, $2, $3, $4)
       ON CONFLICT (organization_id) WHERE destroyed_at IS NULL DO NOTHING RETURNING id`,
      [id, organizationId, w.keyId, w.wrapped],
    );
    if (inserted.rowCount === 1) return { id, organizationId, dek };
    // Another transaction made it first: use theirs.
    wipe(dek);
    const theirs = await select(c);
    if (!theirs) throw new Error(`organization ${organizationId}: key creation raced and lost its row`);
    return unwrapRow(kms, theirs);
  });
}

/** A key by its row (the one a secret or run names), live or KEY_DESTROYED. */
export async function organizationKeyById(db: Db, kms: Kms, id: number): Promise<OrganizationKey> {
  const { rows } = await db.query<KeyRow>(`SELECT ${COLUMNS} FROM organization_keys WHERE id = $1`, [id]);
  if (!rows[0]) throw new AirlockError(ErrorCode.SECRET_UNREADABLE, `organization key ${id} does not exist`);
  return unwrapRow(kms, rows[0]);
}

/**
 * Crypto-shredding: destroys the organization's live key. Its secrets and run keys stay as rows
 * but can never be read again (KEY_DESTROYED); a secret set afterwards gets a new key.
 * Returns how many keys were destroyed (0 or 1).
 */
export async function destroyOrganizationKey(db: Db, organizationId: number): Promise<number> {
  const r = await db.query(
    `UPDATE organization_keys SET wrapped_dek = NULL, kms_key_id = NULL, destroyed_at = now()
      WHERE organization_id = $1 AND destroyed_at IS NULL`,
    [organizationId],
  );
  return r.rowCount ?? 0;
}

/** Live organization keys per KMS key id that wrapped them. */
export async function kmsKeysInUse(db: Db): Promise<Map<string, number>> {
  const { rows } = await db.query<{ kms_key_id: string; n: number }>(
    `SELECT kms_key_id, count(*)::int AS n FROM organization_keys
      WHERE destroyed_at IS NULL GROUP BY kms_key_id ORDER BY kms_key_id`,
  );
  return new Map(rows.map((r) => [r.kms_key_id, r.n]));
}

/**
 * Refuses (KMS_KEY_MISSING, one line) a KMS that lacks a key organization keys were wrapped
 * under: a wrong key file or token would otherwise fail every secret later, one by one.
 */
export async function checkKmsHoldsKeys(db: Db, kms: Kms): Promise<void> {
  const held = new Set(await kms.keyIds());
  const missing = [...(await kmsKeysInUse(db))].filter(([id]) => !held.has(id));
  if (missing.length === 0) return;
  const n = missing.reduce((sum, [, count]) => sum + count, 0);
  throw new AirlockError(
    ErrorCode.KMS_KEY_MISSING,
    `kms: ${n} organization key(s) are wrapped by KMS key(s) ${missing.map(([id]) => id).join(", ")}, which the ${kms.provider} KMS does not hold (another key file or token? restore it)`,
  );
}
