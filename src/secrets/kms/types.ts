// The key management service (KMS) at the top of the key hierarchy: it holds key-encryption keys
// that never leave it (a key file on the server, or a key inside an HSM) and wraps/unwraps the
// organizations' data keys with them. Several keys may be held at once: the newest wraps, the
// older ones still unwrap until every data key has been re-wrapped and they are retired.
//
// Idempotence per call: currentKeyId, keyIds, unwrap and close are idempotent (close may be
// called twice). wrap is not (a fresh nonce each time; two wraps of one key differ, both unwrap).
// createKey is not (each call adds a key). destroyKey is idempotent for a key that is already gone.

export type KmsProvider = "local" | "pkcs11";

/** A data key wrapped by the KMS, with the id of the KMS key that wrapped it. */
export interface WrappedKey {
  keyId: string;
  /** Provider-defined bytes (both providers: 12-byte nonce ‖ AES-256-GCM ciphertext ‖ 16-byte tag). */
  wrapped: Buffer;
}

export interface Kms {
  readonly provider: KmsProvider;
  /** The key new wraps use: the newest one. */
  currentKeyId(): Promise<string>;
  /** Every key the KMS holds, oldest first. */
  keyIds(): Promise<string[]>;
  /**
   * Wraps a 32-byte data key under the current key. `context` is bound to the result as
   * additional authenticated data: unwrap needs the same bytes.
   */
  wrap(dek: Buffer, context: Buffer): Promise<WrappedKey>;
  /**
   * The data key, or SECRET_UNREADABLE (tampered, other context), KMS_KEY_MISSING (the key that
   * wrapped it is not held), KMS_FAILED (the provider failed).
   */
  unwrap(wrapped: WrappedKey, context: Buffer): Promise<Buffer>;
  /** Makes a new key and makes it the current one; returns its id. Older keys still unwrap. */
  createKey(): Promise<string>;
  /** Destroys a key nothing should be wrapped under any more (never the current one). */
  destroyKey(keyId: string): Promise<void>;
  /** Releases files, sessions and modules. */
  close(): Promise<void>;
}

/** The server's `kms` settings, compiled (src/server/kms-config.ts). */
export type KmsSettings =
  | {
      provider: "local";
      /** The key file (mode 0600; made at the first start). */
      keyFile: string;
    }
  | {
      provider: "pkcs11";
      /** Path of the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so). */
      module: string;
      /** The token: by slot id, or by its label. Exactly one is set. */
      slot?: number;
      tokenLabel?: string;
      /** The user PIN, read from kms.pkcs11.pinFile or AIRLOCK_KMS_PKCS11_PIN, never from argv. */
      pin: Redacted;
      /** The label the AES keys carry; their CKA_ID is their version (01, 02, ...). */
      keyLabel: string;
    };

/**
 * A secret held in memory that does not print itself: JSON.stringify, String() and
 * util.inspect show "[redacted]", so a logged configuration object does not leak it.
 */
export class Redacted {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return "[redacted]";
  }
  toString(): string {
    return "[redacted]";
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return "[redacted]";
  }
}
