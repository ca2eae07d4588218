// DSSE (secure-systems-lab/dsse, protocol.md v1.0.2): the envelope provenance travels in. What is
// signed is PAE(payloadType, payload) — never the JSON of the envelope — so a verifier needs no
// canonical JSON, and the payload it hands on is exactly the bytes that were verified (DSSE's
// "MUST NOT re-parse the envelope after verification"). Ed25519 only: node:crypto signs with it
// without a digest choice to get wrong, and the keyid is only a hint (never trusted).
import { createHash, createPublicKey, sign, verify, type KeyObject } from "node:crypto";

export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

export interface Envelope {
  payload: string;
  payloadType: string;
  signatures: Array<{ keyid?: string; sig: string }>;
}

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in bytes. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, "ascii"),
    type,
    Buffer.from(` ${payload.length} `, "ascii"),
    payload,
  ]);
}

/** The keyid of a public key: SHA-256 (hex) of its SubjectPublicKeyInfo DER. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ format: "der", type: "spki" });
  return createHash("sha256").update(der).digest("hex");
}

/** Signs `payload` (the serialized statement) with an Ed25519 private key. */
export function signEnvelope(
  payload: Buffer,
  privateKey: KeyObject,
  payloadType = IN_TOTO_PAYLOAD_TYPE,
): Envelope {
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error("DSSE: the signing key must be Ed25519");
  const sig = sign(null, pae(payloadType, payload), privateKey);
  return {
    payload: payload.toString("base64"),
    payloadType,
    signatures: [{ keyid: keyIdOf(createPublicKey(privateKey)), sig: sig.toString("base64") }],
  };
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const B64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Standard or URL-safe base64 (DSSE: verifiers MUST accept either); undefined when neither. */
export function decodeBase64(s: string): Buffer | undefined {
  if (B64.test(s) && s.length % 4 === 0) return Buffer.from(s, "base64");
  if (B64URL.test(s)) return Buffer.from(s, "base64url");
  return undefined;
}

export interface Verified {
  /** The verified payload bytes: parse these, never the envelope again. */
  payload: Buffer;
  payloadType: string;
  /** The keyid (our own SHA-256 of the key, not the envelope's hint) of the key that verified. */
  keyid: string;
}

/**
 * The payload when one signature verifies with one of `keys` over the PAE; undefined otherwise.
 * A signature's keyid only orders the tries (DSSE: it MUST NOT decide anything).
 */
export function verifyEnvelope(env: Envelope, keys: KeyObject[]): Verified | undefined {
  const payload = decodeBase64(env.payload);
  if (payload === undefined) return undefined;
  const message = pae(env.payloadType, payload);
  const ids = keys.map((k) => keyIdOf(k));
  for (const s of env.signatures) {
    const sig = decodeBase64(s.sig);
    if (sig === undefined) continue;
    const order = keys
      .map((_, i) => i)
      .sort((a, b) => Number(ids[b] === s.keyid) - Number(ids[a] === s.keyid));
    for (const i of order) {
      const key = keys[i]!;
      if (key.asymmetricKeyType !== "ed25519") continue;
      if (verify(null, message, key, sig)) return { payload, payloadType: env.payloadType, keyid: ids[i]! };
    }
  }
  return undefined;
}
