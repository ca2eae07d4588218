// Envelope encryption's one primitive: AES-256-GCM with a random 96-bit nonce and a 128-bit tag,
// and the canonical additional authenticated data (AAD) every ciphertext is bound to. The AAD
// names where a ciphertext belongs (purpose, organization, repository, environment, object id,
// name, version, the organization key that wraps it), so a ciphertext copied to another row —
// another secret, organization or version — fails to decrypt instead of yielding a value there.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { AirlockError, ErrorCode } from "../errors/index.js";

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

/** What a ciphertext is: the organization's data key, a secret's, a run's or a credential's key or value. */
export type Purpose =
  | "org-dek"
  | "secret-dek"
  | "secret-value"
  | "run-dek"
  | "run-value"
  | "credential-dek"
  | "credential-value"
  /** A job identity token signing key (src/job-identity), sealed directly with the organization DEK. */
  | "signing-key"
  /** A provenance signing key (src/artifacts/provenance), sealed directly with the organization DEK. */
  | "provenance-key";

/** Where a ciphertext belongs. Every field takes part in the AAD; null is a value too. */
export interface Binding {
  purpose: Purpose;
  organizationId: number;
  repositoryId: number | null;
  environment: string | null;
  /** The row: organization key id, secret id or run id. */
  id: number;
  name: string | null;
  version: number | null;
  /** The organization key (its row id) the data key is wrapped under; null for that key itself. */
  organizationKeyId: number | null;
}

/** The canonical AAD bytes of a binding: a fixed prefix and a JSON array in a fixed field order. */
export function aad(b: Binding): Buffer {
  const fields = [
    b.purpose,
    b.organizationId,
    b.repositoryId,
    b.environment,
    b.id,
    b.name,
    b.version,
    b.organizationKeyId,
  ];
  return Buffer.from(`airlock-aad/1\n${JSON.stringify(fields)}`, "utf8");
}

/** A fresh random data key. */
export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

export interface Sealed {
  nonce: Buffer;
  /** Ciphertext followed by the 16-byte tag. */
  ciphertext: Buffer;
}

export function seal(key: Buffer, plaintext: Buffer, context: Buffer): Sealed {
  if (key.length !== KEY_BYTES) throw new Error("seal: the key must be 32 bytes");
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(context);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, ciphertext: Buffer.concat([body, cipher.getAuthTag()]) };
}

/** The plaintext, or SECRET_UNREADABLE naming `what` (never the bytes) when it does not verify. */
export function open(key: Buffer, sealed: Sealed, context: Buffer, what: string): Buffer {
  const { nonce, ciphertext } = sealed;
  if (key.length !== KEY_BYTES || nonce.length !== NONCE_BYTES || ciphertext.length < TAG_BYTES)
    throw unreadable(what);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(context);
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(ciphertext.subarray(0, ciphertext.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw unreadable(what);
  }
}

/** nonce ‖ ciphertext ‖ tag in one buffer (wrapped keys). */
export function pack(s: Sealed): Buffer {
  return Buffer.concat([s.nonce, s.ciphertext]);
}

export function unpack(b: Buffer): Sealed {
  return { nonce: b.subarray(0, NONCE_BYTES), ciphertext: b.subarray(NONCE_BYTES) };
}

export function unreadable(what: string): AirlockError {
  return new AirlockError(
    ErrorCode.SECRET_UNREADABLE,
    `${what} does not decrypt: it was altered, moved from another row, or sealed under another key`,
  );
}

/** Overwrites a key in memory once it is no longer needed. */
export function wipe(...keys: Buffer[]): void {
  for (const k of keys) k.fill(0);
}
