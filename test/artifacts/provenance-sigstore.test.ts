// Sigstore's own verifier reads Airlock's provenance: an envelope signed by signProvenance (the
// organization's real key, sealed under the KMS; the real statement builder) is wrapped in a
// Sigstore bundle v0.3 (dsseEnvelope, verificationMaterial.publicKey.hint = the keyid, no log
// entries, no timestamps) and verified by @sigstore/verify against the key published at GET
// /api/v1/provenance/keys, given through a key finder, with every threshold at 0 and an empty
// trusted root. An altered statement byte, an altered signature and another Ed25519 key each fail.
// Airlock itself emits no bundles: the wrapping lives here, to show the envelope fits one as is.
import assert from "node:assert/strict";
import { createHash, createPublicKey, generateKeyPairSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  BUNDLE_V03_MEDIA_TYPE,
  bundleFromJSON,
  isBundleWithDsseEnvelope,
  type SerializedBundle,
} from "@sigstore/bundle";
import {
  VerificationError,
  Verifier,
  toSignedEntity,
  toTrustMaterial,
  type KeyFinderFunc,
  type VerifierOptions,
} from "@sigstore/verify";
import {
  PREDICATE_TYPE,
  keyIdOf,
  signEnvelope,
  signProvenance,
  type Envelope,
  type SignedProvenance,
} from "../../src/artifacts/provenance/index.js";
import type { ProvenanceKeysView } from "../../src/server/schemas-provenance.js";
import { seedOrganization } from "../secrets/helpers.js";
import { startTestServer, type TestServer } from "../server/helpers.js";
import { sampleInput } from "./provenance-fixture.js";

const artifactBytes = Buffer.from("the release tarball\n".repeat(1000));
const digest = createHash("sha256").update(artifactBytes).digest("hex");

// No Fulcio, Rekor, CT log or timestamp authority: the key alone is the trust.
const EMPTY_ROOT: Parameters<typeof toTrustMaterial>[0] = {
  mediaType: "application/vnd.dev.sigstore.trustedroot.v0.2+json",
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};
const NO_THRESHOLDS: VerifierOptions = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 };

let s: TestServer;
let signed: SignedProvenance;
let finder: KeyFinderFunc;

before(async () => {
  s = await startTestServer();
  const acme = await seedOrganization(s.db.pool, "acme");
  signed = await signProvenance(s.db.pool, s.kms, acme, sampleInput(digest));
  const r = await s.app.inject({ method: "GET", url: "/api/v1/provenance/keys?organization=acme" });
  assert.equal(r.statusCode, 200);
  const published = (JSON.parse(r.body) as ProvenanceKeysView).keys;
  // The key finder: a published key by its keyid. The bundle carries no timestamp, so
  // validFor is never asked; a retired key still verifies what it signed.
  finder = (hint) => {
    const k = published.find((p) => p.keyid === hint);
    if (!k) throw new VerificationError({ code: "PUBLIC_KEY_ERROR", message: `key not found: ${hint}` });
    return { publicKey: createPublicKey(k.pem), validFor: () => true };
  };
});
after(async () => {
  await s?.close();
});

function toBundle(envelope: Envelope, hint: string): SerializedBundle {
  return {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: {
      publicKey: { hint },
      x509CertificateChain: undefined,
      certificate: undefined,
      tlogEntries: [],
      timestampVerificationData: undefined,
    },
    dsseEnvelope: {
      payload: envelope.payload,
      payloadType: envelope.payloadType,
      signatures: envelope.signatures.map((x) => ({ sig: x.sig, keyid: x.keyid ?? "" })),
    },
    messageSignature: undefined,
  };
}

/** Sigstore's verification of the bundle as a file holds it; returns the payload it verified. */
function sigstoreVerify(json: SerializedBundle, options = NO_THRESHOLDS): Buffer {
  const bundle = bundleFromJSON(JSON.parse(JSON.stringify(json)));
  new Verifier(toTrustMaterial(EMPTY_ROOT, finder), options).verify(toSignedEntity(bundle));
  assert.ok(isBundleWithDsseEnvelope(bundle));
  return bundle.content.dsseEnvelope.payload;
}

const refused = (code: string) => (err: unknown) => err instanceof VerificationError && err.code === code;

describe("Sigstore's verifier (@sigstore/verify, @sigstore/bundle)", () => {
  it("verifies Airlock's envelope in a v0.3 bundle with the organization's published key", () => {
    const json = toBundle(signed.envelope, signed.keyid);
    const payload = sigstoreVerify(json);
    assert.deepEqual(payload, Buffer.from(signed.envelope.payload, "base64"));
    const statement = JSON.parse(payload.toString("utf8")) as typeof signed.statement;
    assert.deepEqual(statement, signed.statement);
    assert.equal(statement.predicateType, "https://slsa.dev/provenance/v1");
    assert.equal(statement.predicateType, PREDICATE_TYPE);
    assert.deepEqual(statement.subject, [{ name: "app.tar.gz", digest: { sha256: digest } }]);
  });

  it("refuses a statement with one byte changed", () => {
    const payload = Buffer.from(signed.envelope.payload, "base64");
    const at = payload.indexOf(digest);
    assert.ok(at > 0);
    payload[at] = payload[at] === 0x30 ? 0x31 : 0x30; // the digest's first hex digit
    const envelope = { ...signed.envelope, payload: payload.toString("base64") };
    assert.throws(() => sigstoreVerify(toBundle(envelope, signed.keyid)), refused("SIGNATURE_ERROR"));
  });

  it("refuses an altered signature", () => {
    const sig = Buffer.from(signed.envelope.signatures[0]!.sig, "base64");
    sig[10]! ^= 0x01;
    const envelope = {
      ...signed.envelope,
      signatures: [{ keyid: signed.keyid, sig: sig.toString("base64") }],
    };
    assert.throws(() => sigstoreVerify(toBundle(envelope, signed.keyid)), refused("SIGNATURE_ERROR"));
  });

  it("refuses the same statement signed with another Ed25519 key", () => {
    const other = generateKeyPairSync("ed25519");
    const envelope = signEnvelope(Buffer.from(signed.envelope.payload, "base64"), other.privateKey);
    // Claiming the organization's keyid: its key does not verify the signature.
    assert.throws(() => sigstoreVerify(toBundle(envelope, signed.keyid)), refused("SIGNATURE_ERROR"));
    // Naming its own keyid: no such key is published.
    const own = keyIdOf(other.publicKey);
    assert.throws(() => sigstoreVerify(toBundle(envelope, own)), refused("PUBLIC_KEY_ERROR"));
  });

  it("with Sigstore's default thresholds it wants a timestamp (Airlock logs to no Rekor)", () => {
    const json = toBundle(signed.envelope, signed.keyid);
    assert.throws(() => sigstoreVerify(json, {}), refused("TIMESTAMP_ERROR"));
  });
});
