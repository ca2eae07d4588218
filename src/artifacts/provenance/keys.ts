// The provenance signing keys: one Ed25519 key per organization signs at a time, made on first
// use. Held by the orchestrator alone: the private key is sealed with the organization's data key
// (src/secrets), as job identity keys are (src/job-identity/keys.ts), so it follows the KMS key
// hierarchy, rotation and crypto-shredding, and no job, node or API response ever sees it.
// Rotation retires the key and makes a new one; every public key stays published (GET
// /api/v1/provenance/keys), since provenance is verified long after it was signed.
import { createPrivateKey, generateKeyPair, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { ErrorCode, isAirlockError } from "../../errors/index.js";
import {
  inTransaction,
  openForOrganization,
  sealForOrganization,
  type Db,
  type Kms,
} from "../../secrets/index.js";
import { keyIdOf } from "./dsse.js";

export const PROVENANCE_ALG = "ed25519";
/** pg_advisory_xact_lock(KEY_LOCK, organization id): one key creation per organization at a time. */
const KEY_LOCK = 0x70766b; // "pvk"

export interface ProvenanceSigningKey {
  keyid: string;
  key: KeyObject;
}

/** A published public key. */
export interface ProvenancePublicKey {
  keyid: string;
  alg: typeof PROVENANCE_ALG;
  organization: string;
  /** SPKI, PEM. */
  pem: string;
  createdAt: string;
  /** Set once the key no longer signs (it still verifies what it signed). */
  retiredAt: string | null;
}

interface KeyRow {
  id: string;
  organization_id: string;
  keyid: string;
  organization_key_id: string;
  nonce: Buffer;
  ciphertext: Buffer;
  shredded: boolean;
}

const generate = promisify(generateKeyPair);
/** Unsealed private keys by keyid (a key never changes; bounded). */
const cache = new Map<string, KeyObject>();

async function unseal(db: Db, kms: Kms, r: KeyRow): Promise<ProvenanceSigningKey> {
  let key = cache.get(r.keyid);
  if (!key) {
    const place = {
      organizationId: Number(r.organization_id),
      purpose: "provenance-key" as const,
      id: Number(r.id),
      name: r.keyid,
    };
    const der = await openForOrganization(db, kms, place, {
      organizationKeyId: Number(r.organization_key_id),
      nonce: r.nonce,
      ciphertext: r.ciphertext,
    });
    key = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    der.fill(0);
    if (cache.size >= 256) cache.delete(cache.keys().next().value!);
    cache.set(r.keyid, key);
  }
  return { keyid: r.keyid, key };
}

// `shredded`: the organization key it is sealed under was destroyed; the cached copy must not sign.
const CURRENT = `SELECT p.id, p.organization_id, p.keyid, p.organization_key_id, p.nonce, p.ciphertext,
                        o.destroyed_at IS NOT NULL AS shredded
                   FROM provenance_keys p JOIN organization_keys o ON o.id = p.organization_key_id
                  WHERE p.organization_id = $1 AND p.retired_at IS NULL`;

/**
 * The organization's signing key, made when it has none. A key sealed under a destroyed
 * (crypto-shredded) organization key is retired and replaced: what it signed still verifies.
 */
export async function provenanceSigningKey(
  db: Db,
  kms: Kms,
  organizationId: number,
): Promise<ProvenanceSigningKey> {
  const { rows } = await db.query<KeyRow>(CURRENT, [organizationId]);
  if (rows[0]?.shredded) {
    cache.delete(rows[0].keyid);
    return replaceKey(db, kms, organizationId, true);
  }
  if (rows[0]) {
    try {
      return await unseal(db, kms, rows[0]);
    } catch (err) {
      if (!isAirlockError(err, ErrorCode.KEY_DESTROYED)) throw err;
      return replaceKey(db, kms, organizationId, true);
    }
  }
  return replaceKey(db, kms, organizationId, false);
}

/** Retires the organization's signing key now and makes a new one. Returns the new keyid. */
export async function rotateProvenanceKey(db: Db, kms: Kms, organizationId: number): Promise<string> {
  return (await replaceKey(db, kms, organizationId, true)).keyid;
}

/** Makes a new key; `retire` false: unless a key appeared meanwhile (two first uses at once). */
async function replaceKey(
  db: Db,
  kms: Kms,
  organizationId: number,
  retire: boolean,
): Promise<ProvenanceSigningKey> {
  const { privateKey, publicKey } = await generate("ed25519");
  const keyid = keyIdOf(publicKey);
  return inTransaction(db, async (c) => {
    await c.query("SELECT pg_advisory_xact_lock($1, $2)", [KEY_LOCK, organizationId]);
    if (!retire) {
      const { rows } = await c.query<KeyRow>(CURRENT, [organizationId]);
      if (rows[0] && !rows[0].shredded) return unseal(c, kms, rows[0]);
    }
    await c.query(
      "UPDATE provenance_keys SET retired_at = now() WHERE organization_id = $1 AND retired_at IS NULL",
      [organizationId],
    );
    const { rows } = await c.query<{ id: string }>(
      "SELECT nextval(pg_get_serial_sequence('provenance_keys', 'id')) AS id",
    );
    const id = Number(rows[0]!.id);
    const der = privateKey.export({ format: "der", type: "pkcs8" });
    const sealed = await sealForOrganization(
      c,
      kms,
      { organizationId, purpose: "provenance-key", id, name: keyid },
      der,
    );
    der.fill(0);
    const pem = publicKey.export({ format: "pem", type: "spki" }).toString();
    await c.query(
      `INSERT INTO provenance_keys (id, organization_id, keyid, alg, public_pem, organization_key_id, nonce, ciphertext)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        id,
        organizationId,
        keyid,
        PROVENANCE_ALG,
        pem,
        sealed.organizationKeyId,
        sealed.nonce,
        sealed.ciphertext,
      ],
    );
    cache.set(keyid, privateKey);
    return { keyid, key: privateKey };
  });
}

/** Every provenance public key (signing and retired), newest first; one organization's if named. */
export async function publishedProvenanceKeys(
  db: Db,
  organizationId?: number,
): Promise<ProvenancePublicKey[]> {
  const { rows } = await db.query<{
    keyid: string;
    organization: string;
    public_pem: string;
    created_at: Date;
    retired_at: Date | null;
  }>(
    `SELECT k.keyid, o.name AS organization, k.public_pem, k.created_at, k.retired_at
       FROM provenance_keys k JOIN organizations o ON o.id = k.organization_id
      WHERE $1::bigint IS NULL OR k.organization_id = $1
      ORDER BY k.created_at DESC, k.id DESC`,
    [organizationId ?? null],
  );
  return rows.map((r) => ({
    keyid: r.keyid,
    alg: PROVENANCE_ALG,
    organization: r.organization,
    pem: r.public_pem,
    createdAt: r.created_at.toISOString(),
    retiredAt: r.retired_at?.toISOString() ?? null,
  }));
}
