// Provenance signing keys against a real database and KMS, and their public route: a key is made
// on first use (keyid = SHA-256 of its SPKI), sealed so the database never holds it in the clear,
// reused afterwards, rotated with the old public key still published, replaced after the
// organization key is crypto-shredded; GET /api/v1/provenance/keys answers without a token, is
// in the OpenAPI document, and its PEM verifies what signProvenance signed.
import assert from "node:assert/strict";
import { createHash, createPublicKey } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  provenanceSigningKey,
  rotateProvenanceKey,
  signProvenance,
  verifyEnvelope,
} from "../../src/artifacts/provenance/index.js";
import { destroyOrganizationKey } from "../../src/secrets/index.js";
import type { ProvenanceKeysView } from "../../src/server/schemas-provenance.js";
import { seedOrganization } from "../secrets/helpers.js";
import { startTestServer, type TestServer } from "../server/helpers.js";
import { sampleInput } from "./provenance-fixture.js";

let s: TestServer;
let acme: number;
let globex: number;
const digest = "ab".repeat(32);

before(async () => {
  s = await startTestServer();
  acme = await seedOrganization(s.db.pool, "acme");
  globex = await seedOrganization(s.db.pool, "globex");
});
after(async () => {
  await s?.close();
});

async function keys(query = ""): Promise<{ status: number; body: ProvenanceKeysView }> {
  const r = await s.app.inject({ method: "GET", url: `/api/v1/provenance/keys${query}` });
  return { status: r.statusCode, body: JSON.parse(r.body) as ProvenanceKeysView };
}

describe("provenance signing keys", () => {
  it("none is published before an organization signs anything", async () => {
    const r = await keys();
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { keys: [] });
  });

  it("is made on first use, sealed, keyed by the SHA-256 of its public key, and reused", async () => {
    const first = await provenanceSigningKey(s.db.pool, s.kms, acme);
    assert.equal(first.key.asymmetricKeyType, "ed25519");
    const spki = createPublicKey(first.key).export({ format: "der", type: "spki" });
    assert.equal(first.keyid, createHash("sha256").update(spki).digest("hex"));
    const again = await provenanceSigningKey(s.db.pool, s.kms, acme);
    assert.equal(again.keyid, first.keyid);
    const { rows } = await s.db.pool.query<{ ciphertext: Buffer; public_pem: string }>(
      "SELECT ciphertext, public_pem FROM provenance_keys WHERE organization_id = $1",
      [acme],
    );
    assert.equal(rows.length, 1);
    const pkcs8 = first.key.export({ format: "der", type: "pkcs8" });
    const seed = pkcs8.subarray(pkcs8.length - 32);
    assert.equal(rows[0]!.ciphertext.indexOf(seed), -1, "the private key is not stored in the clear");
    assert.doesNotMatch(rows[0]!.public_pem, /PRIVATE/);
  });

  it("two first uses at once make one key", async () => {
    const [a, b] = await Promise.all([
      provenanceSigningKey(s.db.pool, s.kms, globex),
      provenanceSigningKey(s.db.pool, s.kms, globex),
    ]);
    assert.equal(a.keyid, b.keyid);
  });

  it("the public route serves the keys without a token; its PEM verifies a signed statement", async () => {
    const signed = await signProvenance(s.db.pool, s.kms, acme, sampleInput(digest));
    const r = await keys("?organization=acme");
    assert.equal(r.status, 200);
    assert.equal(r.body.keys.length, 1);
    const k = r.body.keys[0]!;
    assert.equal(k.keyid, signed.keyid);
    assert.equal(k.organization, "acme");
    assert.equal(k.alg, "ed25519");
    assert.equal(k.retiredAt, null);
    const pub = createPublicKey(k.pem);
    const v = verifyEnvelope(signed.envelope, [pub]);
    assert.ok(v);
    assert.deepEqual(JSON.parse(v.payload.toString()), signed.statement);
    // Another organization's key does not verify it.
    const g = await keys("?organization=globex");
    assert.equal(verifyEnvelope(signed.envelope, [createPublicKey(g.body.keys[0]!.pem)]), undefined);
    assert.equal((await keys()).body.keys.length, 2);
  });

  it("an unknown organization is 404, a bad query 400", async () => {
    assert.equal((await keys("?organization=nope")).status, 404);
    assert.equal((await keys("?org=acme")).status, 400);
  });

  it("rotation signs with a new key and keeps the old one published, retired", async () => {
    const before = (await provenanceSigningKey(s.db.pool, s.kms, acme)).keyid;
    const after = await rotateProvenanceKey(s.db.pool, s.kms, acme);
    assert.notEqual(after, before);
    assert.equal((await provenanceSigningKey(s.db.pool, s.kms, acme)).keyid, after);
    const listed = (await keys("?organization=acme")).body.keys;
    assert.deepEqual(
      listed.map((k) => [k.keyid, k.retiredAt === null]),
      [
        [after, true],
        [before, false],
      ],
    );
  });

  it("after crypto-shredding the organization key, a new key signs and the old stays published", async () => {
    const old = (await provenanceSigningKey(s.db.pool, s.kms, globex)).keyid;
    assert.equal(await destroyOrganizationKey(s.db.pool, globex), 1);
    const signed = await signProvenance(s.db.pool, s.kms, globex, sampleInput(digest));
    assert.notEqual(signed.keyid, old);
    const listed = (await keys("?organization=globex")).body.keys.map((k) => k.keyid);
    assert.deepEqual(listed, [signed.keyid, old]);
  });

  it("is in the OpenAPI document as a public operation", async () => {
    const r = await s.app.inject({ method: "GET", url: "/api/v1/openapi.json" });
    const doc = JSON.parse(r.body) as { paths: Record<string, { get?: { security?: unknown[] } }> };
    assert.deepEqual(doc.paths["/api/v1/provenance/keys"]?.get?.security, []);
  });
});
