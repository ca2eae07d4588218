// The signing keys of job identity tokens: one RSA-2048 key (RS256) signs per organization at a
// time. RS256 because every relying party we aim at accepts it (AWS STS, Google workload identity
// federation, Azure, Vault, Kubernetes), while ES256 support is patchier; it is also what GitHub
// signs with. The private key is sealed with the organization's data key (src/secrets), so it
// follows the KMS key hierarchy, rotation and crypto-shredding. A key signs for `keyDays` and is
// then retired in favour of a new one (at the first token after that, or by hand: rotateSigningKey);
// its public half stays in the JWKS while any token it signed can still be valid (`last_expiry`,
// and at least MAX_TOKEN_SECONDS after retirement, in case a signature raced the retirement).
import { generateKeyPair, createPrivateKey, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { calculateJwkThumbprint, exportJWK, type JWK } from "jose";
import { openForOrganization, sealForOrganization, type Kms } from "../secrets/index.js";
import { inTransaction, type Db } from "./db.js";

/** The longest an identity token lives (the issue: at most an hour). */
export const MAX_TOKEN_SECONDS = 3600;
export const ALG = "RS256";
/** pg_advisory_xact_lock(KEY_LOCK, organization id): one rotation per organization at a time. */
const KEY_LOCK = 0x6a696b; // "jik"

export interface SigningKey {
  id: number;
  kid: string;
  key: KeyObject;
}

interface KeyRow {
  id: string;
  organization_id: string;
  kid: string;
  organization_key_id: string;
  nonce: Buffer;
  ciphertext: Buffer;
  fresh: boolean;
}

const generate = promisify(generateKeyPair);
/** Unsealed private keys by kid (a key never changes; bounded). */
const cache = new Map<string, KeyObject>();

async function unseal(db: Db, kms: Kms, r: KeyRow): Promise<SigningKey> {
  let key = cache.get(r.kid);
  if (!key) {
    const place = {
      organizationId: Number(r.organization_id),
      purpose: "signing-key" as const,
      id: Number(r.id),
      name: r.kid,
    };
    const der = await openForOrganization(db, kms, place, {
      organizationKeyId: Number(r.organization_key_id),
      nonce: r.nonce,
      ciphertext: r.ciphertext,
    });
    key = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    der.fill(0);
    if (cache.size >= 256) cache.delete(cache.keys().next().value!);
    cache.set(r.kid, key);
  }
  return { id: Number(r.id), kid: r.kid, key };
}

const CURRENT = `SELECT id, organization_id, kid, organization_key_id, nonce, ciphertext,
                        created_at > now() - make_interval(days => $2) AS fresh
                   FROM job_identity_keys WHERE organization_id = $1 AND retired_at IS NULL`;

/** The organization's signing key; a new one when it has none or its time is up. */
export async function signingKey(
  db: Db,
  kms: Kms,
  organizationId: number,
  keyDays: number,
): Promise<SigningKey> {
  const { rows } = await db.query<KeyRow>(CURRENT, [organizationId, keyDays]);
  if (rows[0]?.fresh) return unseal(db, kms, rows[0]);
  return replaceKey(db, kms, organizationId, keyDays);
}

/** Retires the signing key now and makes a new one (by hand: `rotate`). Returns the new kid. */
export async function rotateSigningKey(db: Db, kms: Kms, organizationId: number): Promise<string> {
  return (await replaceKey(db, kms, organizationId, 0)).kid;
}

/** Makes a new key unless a fresh one appeared meanwhile (keyDays 0: always). */
async function replaceKey(db: Db, kms: Kms, organizationId: number, keyDays: number): Promise<SigningKey> {
  // Generated outside the transaction: RSA key generation takes tens of milliseconds.
  const { privateKey, publicKey } = await generate("rsa", { modulusLength: 2048 });
  const jwk = await exportJWK(publicKey);
  const publicJwk: JWK = { kty: jwk.kty!, n: jwk.n!, e: jwk.e! };
  const kid = await calculateJwkThumbprint(publicJwk);
  return inTransaction(db, async (c) => {
    await c.query("SELECT pg_advisory_xact_lock($1, $2)", [KEY_LOCK, organizationId]);
    if (keyDays > 0) {
      const { rows } = await c.query<KeyRow>(CURRENT, [organizationId, keyDays]);
      if (rows[0]?.fresh) return unseal(c, kms, rows[0]);
    }
    await c.query(
      "UPDATE job_identity_keys SET retired_at = now() WHERE organization_id = $1 AND retired_at IS NULL",
      [organizationId],
    );
    const { rows } = await c.query<{ id: string }>(
      "SELECT nextval(pg_get_serial_sequence('job_identity_keys', 'id')) AS id",
    );
    const id = Number(rows[0]!.id);
    const der = privateKey.export({ format: "der", type: "pkcs8" });
    const sealed = await sealForOrganization(
      c,
      kms,
      { organizationId, purpose: "signing-key", id, name: kid },
      der,
    );
    der.fill(0);
    await c.query(
      `INSERT INTO job_identity_keys (id, organization_id, kid, alg, public_jwk, organization_key_id, nonce, ciphertext)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [id, organizationId, kid, ALG, publicJwk, sealed.organizationKeyId, sealed.nonce, sealed.ciphertext],
    );
    cache.set(kid, privateKey);
    return { id, kid, key: privateKey };
  });
}

/** Keeps the key published until a token it signed expires. */
export async function noteExpiry(db: Db, keyId: number, exp: Date): Promise<void> {
  await db.query("UPDATE job_identity_keys SET last_expiry = GREATEST(last_expiry, $2) WHERE id = $1", [
    keyId,
    exp,
  ]);
}

/**
 * The public keys a verifier needs: the signing key and every retired key that may still have a
 * valid token out. `organizationId` undefined: every organization's (the instance-level JWKS).
 */
export async function publishedKeys(db: Db, organizationId?: number): Promise<JWK[]> {
  const { rows } = await db.query<{ kid: string; alg: string; public_jwk: JWK }>(
    `SELECT kid, alg, public_jwk FROM job_identity_keys
      WHERE ($1::bigint IS NULL OR organization_id = $1)
        AND (retired_at IS NULL
             OR retired_at > now() - make_interval(secs => $2)
             OR last_expiry > now())
      ORDER BY created_at DESC, id DESC`,
    [organizationId ?? null, MAX_TOKEN_SECONDS],
  );
  return rows.map((r) => ({ ...r.public_jwk, kid: r.kid, alg: r.alg, use: "sig" }));
}
