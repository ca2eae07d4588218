// Job-source credentials of a repository (the webhook secret, a clone-URL password, an SSH deploy
// key, a forge token; source-credentials.ts gives them their shapes), sealed as secrets are: a DEK per credential wrapped by the
// organization's DEK, the value bound (AAD) to the organization, repository, row and kind. They
// are read only where they are used (verifying a webhook), never listed, never logged.
// sealLegacyWebhookSecrets moves the clear webhook secrets of older installations in at start.
import type pg from "pg";
import { AirlockError, ErrorCode } from "../errors/index.js";
import { aad, newDataKey, open, pack, seal, unpack, wipe, type Binding } from "./envelope.js";
import type { Kms } from "./kms/index.js";
import { liveOrganizationKey, organizationKeyById } from "./org-keys.js";
import { inTransaction, type Db } from "./scope.js";

export const CREDENTIAL_KINDS = ["webhook-secret", "clone-password", "deploy-key", "forge-token"] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

interface Row {
  id: string;
  organization_id: string;
  organization_key_id: string;
  wrapped_dek: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
}

function bind(
  purpose: Binding["purpose"],
  o: { organizationId: number; repositoryId: number; id: number; kind: CredentialKind; key: number },
): Buffer {
  return aad({
    purpose,
    organizationId: o.organizationId,
    repositoryId: o.repositoryId,
    environment: null,
    id: o.id,
    name: o.kind,
    version: null,
    organizationKeyId: o.key,
  });
}

/** Stores (or replaces) a repository's credential, sealed under its organization's key. */
export async function putCredential(
  db: Db,
  kms: Kms,
  where: { organizationId: number; repositoryId: number; kind: CredentialKind },
  value: string,
  /** Who set it (a display name, for the listing). */
  by: string | null = null,
): Promise<void> {
  await inTransaction(db, async (c) => {
    await c.query("DELETE FROM repository_credentials WHERE repository_id = $1 AND kind = $2", [
      where.repositoryId,
      where.kind,
    ]);
    const { rows } = await c.query<{ id: string }>(
      "SELECT nextval(pg_get_serial_sequence('repository_credentials', 'id')) AS id",
    );
    const id = Number(rows[0]!.id);
    const orgKey = await liveOrganizationKey(c, kms, where.organizationId);
    const dek = newDataKey();
    const plain = Buffer.from(value, "utf8");
    try {
      const o = { ...where, id, key: orgKey.id };
      const wrapped = pack(seal(orgKey.dek, dek, bind("credential-dek", o)));
      const sealed = seal(dek, plain, bind("credential-value", o));
      await c.query(
        `INSERT INTO repository_credentials
           (id, organization_id, repository_id, kind, organization_key_id, wrapped_dek, nonce, ciphertext, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          id,
          where.organizationId,
          where.repositoryId,
          where.kind,
          orgKey.id,
          wrapped,
          sealed.nonce,
          sealed.ciphertext,
          by,
        ],
      );
    } finally {
      wipe(dek, plain, orgKey.dek);
    }
  });
}

/** A repository's credential, undefined when it has none (SECRET_UNREADABLE, KEY_DESTROYED, KMS_*). */
export async function credentialOf(
  db: Db,
  kms: Kms,
  repositoryId: number,
  kind: CredentialKind,
): Promise<string | undefined> {
  const { rows } = await db.query<Row>(
    `SELECT id, organization_id, organization_key_id, wrapped_dek, nonce, ciphertext
       FROM repository_credentials WHERE repository_id = $1 AND kind = $2`,
    [repositoryId, kind],
  );
  const r = rows[0];
  if (!r) return undefined;
  const key = Number(r.organization_key_id);
  const orgKey = await organizationKeyById(db, kms, key);
  const o = { organizationId: Number(r.organization_id), repositoryId, id: Number(r.id), kind, key };
  const what = `the ${kind} of repository ${repositoryId}`;
  let dek: Buffer | undefined;
  try {
    dek = open(orgKey.dek, unpack(r.wrapped_dek), bind("credential-dek", o), what);
    return open(
      dek,
      { nonce: r.nonce, ciphertext: r.ciphertext },
      bind("credential-value", o),
      what,
    ).toString("utf8");
  } finally {
    wipe(orgKey.dek, ...(dek ? [dek] : []));
  }
}

/**
 * Seals the webhook secrets older installations kept in clear (repositories.webhook_secret) and
 * clears them, one repository per transaction. Returns how many were moved. Idempotent.
 */
export async function sealLegacyWebhookSecrets(pool: pg.Pool, kms: Kms): Promise<number> {
  const { rows } = await pool.query<{ id: string }>(
    "SELECT id FROM repositories WHERE webhook_secret IS NOT NULL ORDER BY id",
  );
  let moved = 0;
  for (const { id } of rows) {
    await inTransaction(pool, async (c) => {
      const r = await c.query<{ organization_id: string; webhook_secret: string | null }>(
        "SELECT organization_id, webhook_secret FROM repositories WHERE id = $1 FOR UPDATE",
        [id],
      );
      const row = r.rows[0];
      if (!row || row.webhook_secret === null) return;
      const where = {
        organizationId: Number(row.organization_id),
        repositoryId: Number(id),
        kind: "webhook-secret" as const,
      };
      await putCredential(c, kms, where, row.webhook_secret);
      await c.query("UPDATE repositories SET webhook_secret = NULL WHERE id = $1", [id]);
      moved++;
    });
  }
  return moved;
}

/** The webhook secret a delivery must be signed with: sealed, or (before start-up moved it) in clear. */
export async function webhookSecretOf(db: Db, kms: Kms, repositoryId: number): Promise<string | undefined> {
  const legacy = await db.query<{ webhook_secret: string | null }>(
    "SELECT webhook_secret FROM repositories WHERE id = $1",
    [repositoryId],
  );
  if (!legacy.rows[0]) return undefined;
  if (legacy.rows[0].webhook_secret !== null) return legacy.rows[0].webhook_secret;
  const sealed = await credentialOf(db, kms, repositoryId, "webhook-secret");
  if (sealed === undefined)
    throw new AirlockError(ErrorCode.SECRET_UNREADABLE, `repository ${repositoryId} has no webhook secret`);
  return sealed;
}
