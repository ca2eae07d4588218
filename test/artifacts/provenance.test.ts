// Provenance without a server: the statement's in-toto v1 / SLSA v1 structure (field names as the
// specs spell them), the DSSE PAE against the DSSE spec's own test vector, our envelopes verified
// by the DSSE reference implementation (Python, an independent verifier), and the offline
// verifier on real files — a signed statement verifies; a flipped payload byte, a flipped
// signature byte, another key, other artifact bytes, a statement naming another subject, an unmet
// policy and malformed files each fail with their stable code and a one-line reason.
import assert from "node:assert/strict";
import { createHash, createPublicKey, generateKeyPairSync, verify, type KeyObject } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  BUILD_TYPE,
  buildStatement,
  envelopeFile,
  keyIdOf,
  pae,
  pinnedActions,
  signEnvelope,
  sourceLocation,
  verifyProvenance,
  type Check,
  type Envelope,
  type ResourceDescriptor,
} from "../../src/artifacts/provenance/index.js";
import { isAirlockError, type ErrorCode } from "../../src/errors/index.js";
import { projectRoot } from "../helpers/repo.js";
import { PUBLIC, sampleInput } from "./provenance-fixture.js";

const dir = mkdtempSync(join(tmpdir(), "airlock-provenance-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

const artifactBytes = Buffer.from("the release tarball\n".repeat(1000));
const digest = createHash("sha256").update(artifactBytes).digest("hex");
const artifact = file("app.tar.gz", artifactBytes);
const pair = generateKeyPairSync("ed25519");
const keyPem = file("key.pem", pair.publicKey.export({ format: "pem", type: "spki" }).toString());

function sign(statement: unknown, key: KeyObject = pair.privateKey, type?: string): Envelope {
  return signEnvelope(Buffer.from(JSON.stringify(statement)), key, type);
}

async function run(
  envelope: Envelope | string,
  o: { artifact?: string; keys?: string[]; policy?: string } = {},
): Promise<{ lines: Check[]; code?: ErrorCode; message?: string }> {
  const provenance = file("p.json", typeof envelope === "string" ? envelope : envelopeFile(envelope));
  const lines: Check[] = [];
  try {
    await verifyProvenance(
      {
        artifact: o.artifact ?? artifact,
        provenance,
        keys: o.keys ?? [keyPem],
        ...(o.policy !== undefined ? { policy: o.policy } : {}),
      },
      (c) => lines.push(c),
    );
    return { lines };
  } catch (err) {
    assert.ok(isAirlockError(err), String(err));
    assert.ok(!err.message.includes("\n"), "one line");
    return { lines, code: err.code, message: err.message };
  }
}

describe("the statement", () => {
  it("is an in-toto Statement v1 with a SLSA Provenance v1 predicate, fields spelled as the specs", () => {
    const s = buildStatement(sampleInput(digest));
    assert.deepEqual(Object.keys(s).sort(), ["_type", "predicate", "predicateType", "subject"]);
    assert.equal(s._type, "https://in-toto.io/Statement/v1");
    assert.equal(s.predicateType, "https://slsa.dev/provenance/v1");
    assert.deepEqual(s.subject, [{ name: "app.tar.gz", digest: { sha256: digest } }]);
    assert.deepEqual(Object.keys(s.predicate).sort(), ["buildDefinition", "runDetails"]);
    const def = s.predicate.buildDefinition;
    assert.deepEqual(Object.keys(def).sort(), [
      "buildType",
      "externalParameters",
      "internalParameters",
      "resolvedDependencies",
    ]);
    assert.equal(def.buildType, BUILD_TYPE);
    assert.deepEqual(def.externalParameters, {
      repository: "https://github.com/acme/app",
      ref: "refs/tags/v1.2.0",
      commit: "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d",
      workflow: { path: ".github/workflows/release.yml", job: "build" },
    });
    assert.deepEqual(def.internalParameters, { runId: 42, runAttempt: 1, trustTier: "trusted" });
    assert.deepEqual(def.resolvedDependencies, [
      {
        uri: "git+https://github.com/acme/app@refs/tags/v1.2.0",
        digest: { gitCommit: "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d" },
      },
      {
        name: "actions/checkout",
        uri: "git+https://github.com/actions/checkout@refs/tags/v4",
        digest: { gitCommit: "11bd71901bbe5b1630ceea73d27597364c9af683" },
      },
    ]);
    const rd = s.predicate.runDetails;
    assert.deepEqual(Object.keys(rd).sort(), ["builder", "byproducts", "metadata"]);
    assert.deepEqual(rd.builder, {
      id: `${PUBLIC}/provenance/builder/trusted`,
      version: { airlock: "0.1.0" },
    });
    // RFC 3339, UTC, whole seconds.
    assert.deepEqual(rd.metadata, {
      invocationId: `${PUBLIC}/runs/42/attempts/1`,
      startedOn: "2026-12-04T10:00:00Z",
      finishedOn: "2026-12-04T10:05:00Z",
    });
    assert.deepEqual(rd.byproducts[0], {
      name: "corroboration",
      uri: "urn:airlock:corroboration",
      annotations: { status: "corroborated", agreedNodes: ["builder-a", "builder-b"] },
    });
    assert.deepEqual(rd.byproducts[2], {
      name: "node/builder-b",
      uri: "urn:airlock:node:builder-b",
      digest: { sha256: digest },
      annotations: { operator: "volunteers", trust: "untrusted", agreed: true },
    });
    // Every ResourceDescriptor names at least one of uri, digest, content (in-toto's minimum).
    const all: ResourceDescriptor[] = [...s.predicate.buildDefinition.resolvedDependencies, ...rd.byproducts];
    for (const r of all) assert.ok(r.uri !== undefined || r.digest !== undefined || r.content !== undefined);
  });

  it("a node without a recorded operator says so (null), and no operator policy accepts it", async () => {
    const input = sampleInput(digest);
    input.builders = [{ node: "solo", operator: null, trusted: true, agreed: true, sha256: digest }];
    const s = buildStatement(input);
    assert.deepEqual(s.predicate.runDetails.byproducts[1]?.annotations, {
      operator: null,
      trust: "trusted",
      agreed: true,
    });
    const policy = file("ops.yml", "allowedOperators: [acme-ops]\n");
    const r = await run(sign(s), { policy });
    assert.equal(r.code, "PROVENANCE_POLICY_VIOLATION");
    assert.match(r.message!, /solo \(no operator\)/);
    const minOps = await run(sign(s), { policy: file("minops.yml", "minOperators: 1\n") });
    assert.equal(minOps.code, "PROVENANCE_POLICY_VIOLATION");
  });

  it("the actions a job was pinned to are read back entry by entry; malformed ones are left out", () => {
    const good = {
      name: "acme/setup",
      ref: "v1",
      commit: "a".repeat(40),
      url: "https://git.example/acme/setup",
    };
    assert.deepEqual(
      pinnedActions([
        good,
        { ...good, commit: "v1" },
        { ...good, name: 7 },
        null,
        "x",
        { ...good, ref: "main" },
      ]),
      [
        {
          name: "acme/setup",
          repository: "https://git.example/acme/setup",
          ref: "v1",
          commit: "a".repeat(40),
        },
        {
          name: "acme/setup",
          repository: "https://git.example/acme/setup",
          ref: "main",
          commit: "a".repeat(40),
        },
      ],
    );
    assert.deepEqual(pinnedActions(null), []);
    assert.deepEqual(pinnedActions({ name: "x" }), []);
  });

  it("refuses a digest that is not lowercase hex SHA-256", () => {
    assert.throws(() => buildStatement(sampleInput(digest.toUpperCase())));
  });
});

describe("DSSE", () => {
  it("PAE matches the DSSE spec's test vector, and the spec's signature verifies over it", () => {
    // secure-systems-lab/dsse protocol.md, "Test Vectors" (ECDSA P-256, SHA-256, r‖s).
    const type = "http://example.com/HelloWorld";
    const message = pae(type, Buffer.from("hello world"));
    assert.equal(message.toString("latin1"), "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
    const coord = (n: string): string =>
      Buffer.from(BigInt(n).toString(16).padStart(64, "0"), "hex").toString("base64url");
    const key = createPublicKey({
      key: {
        kty: "EC",
        crv: "P-256",
        x: coord("46950820868899156662930047687818585632848591499744589407958293238635476079160"),
        y: coord("5640078356564379163099075877009565129882514886557779369047442380624545832820"),
      },
      format: "jwk",
    });
    const sig = Buffer.from(
      "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==",
      "base64",
    );
    assert.ok(verify("sha256", message, { key, dsaEncoding: "ieee-p1363" }, sig));
    assert.ok(
      !verify("sha256", pae(type, Buffer.from("hello World")), { key, dsaEncoding: "ieee-p1363" }, sig),
    );
  });

  it("counts lengths in bytes, not characters", () => {
    assert.equal(pae("t", Buffer.from("é", "utf8")).toString("utf8"), "DSSEv1 1 t 2 é");
  });

  it("the envelope has payloadType, base64 payload and signatures [{keyid, sig}]", () => {
    const e = sign(buildStatement(sampleInput(digest)));
    assert.equal(e.payloadType, "application/vnd.in-toto+json");
    assert.deepEqual(
      JSON.parse(Buffer.from(e.payload, "base64").toString()),
      buildStatement(sampleInput(digest)),
    );
    assert.equal(e.signatures.length, 1);
    assert.equal(e.signatures[0]!.keyid, keyIdOf(pair.publicKey));
    assert.match(e.signatures[0]!.keyid ?? "", /^[0-9a-f]{64}$/);
  });
});

// An implementation independent of ours: the DSSE spec's reference Verify() (vendored) with an
// Ed25519 key through python3-cryptography (Debian's python3-cryptography; skipped without it).
const python = spawnSync("python3", ["-c", "import cryptography"], { encoding: "utf8" });
describe(
  "interop: the DSSE reference implementation",
  { skip: python.status !== 0 && "python3-cryptography missing" },
  () => {
    const script = join(projectRoot, "test", "fixtures", "dsse", "verify_ed25519.py");
    const reference = (envelope: Envelope): { status: number | null; out: string } => {
      const p = file("ref.json", envelopeFile(envelope));
      const r = spawnSync("python3", [script, p, keyPem], { encoding: "utf8" });
      return { status: r.status, out: r.stdout + r.stderr };
    };

    it("verifies Airlock's envelope and yields the very payload that was signed", () => {
      const e = sign(buildStatement(sampleInput(digest)));
      const r = reference(e);
      assert.equal(r.status, 0, r.out);
      const sha = createHash("sha256").update(Buffer.from(e.payload, "base64")).digest("hex");
      assert.equal(r.out, `application/vnd.in-toto+json\n${sha}\n`);
    });

    it("refuses it once a payload byte is flipped", () => {
      const e = sign(buildStatement(sampleInput(digest)));
      const payload = Buffer.from(e.payload, "base64");
      payload[5]! ^= 0x01;
      const r = reference({ ...e, payload: payload.toString("base64") });
      assert.equal(r.status, 1);
      assert.match(r.out, /No valid signature found/);
    });
  },
);

describe("verify", () => {
  const good = sign(buildStatement(sampleInput(digest)));

  it("a signed statement verifies: one line per check, all ok", async () => {
    const r = await run(good);
    assert.equal(r.code, undefined, r.message);
    assert.deepEqual(
      r.lines.map((l) => [l.name, l.ok]),
      [
        ["keys", true],
        ["envelope", true],
        ["signature", true],
        ["statement", true],
        ["artifact", true],
        ["policy", true],
      ],
    );
  });

  it("a signature without a keyid (absent, empty or null) and URL-safe base64 verify too", async () => {
    const sig = good.signatures[0]!.sig;
    assert.equal((await run({ ...good, signatures: [{ sig }] })).code, undefined);
    const nullKeyid = JSON.stringify({ ...good, signatures: [{ keyid: null, sig }] });
    assert.equal((await run(nullKeyid)).code, undefined);
    const urlSafe = {
      ...good,
      payload: Buffer.from(good.payload, "base64").toString("base64url"),
      signatures: [{ keyid: "", sig: Buffer.from(sig, "base64").toString("base64url") }],
    };
    assert.equal((await run(urlSafe)).code, undefined);
  });

  it("a flipped payload byte fails the signature", async () => {
    const payload = Buffer.from(good.payload, "base64");
    payload[40]! ^= 0x01;
    const r = await run({ ...good, payload: payload.toString("base64") });
    assert.equal(r.code, "PROVENANCE_SIGNATURE_INVALID");
    assert.match(r.message!, /altered/);
    assert.ok(!r.lines.some((l) => l.name === "statement"), "an unverified payload is not read");
  });

  it("a flipped signature byte fails the signature", async () => {
    const sig = Buffer.from(good.signatures[0]!.sig, "base64");
    sig[10]! ^= 0x80;
    const r = await run({ ...good, signatures: [{ ...good.signatures[0]!, sig: sig.toString("base64") }] });
    assert.equal(r.code, "PROVENANCE_SIGNATURE_INVALID");
    assert.match(r.message!, /altered/);
  });

  it("a changed payload type fails the signature (it is part of the PAE)", async () => {
    const r = await run({ ...good, payloadType: "application/vnd.in-toto.provenance+json" });
    assert.equal(r.code, "PROVENANCE_SIGNATURE_INVALID");
  });

  it("another key fails, and says the envelope names another key", async () => {
    const other = generateKeyPairSync("ed25519");
    const otherPem = file("other.pem", other.publicKey.export({ format: "pem", type: "spki" }).toString());
    const r = await run(good, { keys: [otherPem] });
    assert.equal(r.code, "PROVENANCE_SIGNATURE_INVALID");
    assert.match(r.message!, /not signed by the given key/);
    // A statement signed by the other key with our keyid as its hint does not pass either.
    const forged = sign(buildStatement(sampleInput(digest)), other.privateKey);
    forged.signatures[0]!.keyid = keyIdOf(pair.publicKey);
    assert.equal((await run(forged)).code, "PROVENANCE_SIGNATURE_INVALID");
    // Both keys given: the right one is found whatever the order.
    assert.equal((await run(good, { keys: [otherPem, keyPem] })).code, undefined);
    const both = file(
      "both.pem",
      `${other.publicKey.export({ format: "pem", type: "spki" })}\n${pair.publicKey.export({ format: "pem", type: "spki" })}`,
    );
    assert.equal((await run(good, { keys: [both] })).code, undefined);
  });

  it("other artifact bytes fail the digest", async () => {
    const changed = Buffer.from(artifactBytes);
    changed[7]! ^= 0x01;
    const r = await run(good, { artifact: file("changed.tar.gz", changed) });
    assert.equal(r.code, "PROVENANCE_SUBJECT_MISMATCH");
    assert.ok(r.lines.find((l) => l.name === "signature")?.ok, "the signature itself was fine");
  });

  it("a validly signed statement about another subject fails the digest", async () => {
    const other = sign(buildStatement(sampleInput("0".repeat(64))));
    const r = await run(other);
    assert.equal(r.code, "PROVENANCE_SUBJECT_MISMATCH");
    assert.match(r.message!, new RegExp(digest));
  });

  it("names a job chose stay one printable line (control characters escaped)", async () => {
    const input = sampleInput("0".repeat(64));
    input.subjects = [{ name: "evil\u001b[31m\nFAKE ok", sha256: "0".repeat(64) }];
    const r = await run(sign(buildStatement(input)));
    assert.equal(r.code, "PROVENANCE_SUBJECT_MISMATCH");
    assert.ok(r.message!.includes("evil\\u001b[31m\\u000aFAKE ok"), r.message);
    assert.ok(!r.lines.some((l) => [...l.detail].some((c) => c.charCodeAt(0) < 0x20)));
  });

  it("an unmet policy fails with every unmet rule", async () => {
    const policy = file(
      "policy.yml",
      "repository: https://github.com/acme/*\nref: refs/heads/main\nrequireStatus: [trusted]\nminNodes: 3\nallowedOperators: [acme-ops]\n",
    );
    const r = await run(good, { policy });
    assert.equal(r.code, "PROVENANCE_POLICY_VIOLATION");
    assert.match(r.message!, /ref is refs\/tags\/v1\.2\.0/);
    assert.match(r.message!, /corroboration is corroborated/);
    assert.match(r.message!, /2 node\(s\) agreed/);
    assert.match(r.message!, /builder-b \(volunteers\)/);
    assert.doesNotMatch(r.message!, /repository/);
  });

  it("a met policy (JSON or YAML) passes", async () => {
    const json = file(
      "policy.json",
      JSON.stringify({
        repository: "https://github.com/acme/app",
        ref: "refs/tags/v*",
        workflow: ".github/workflows/release.yml",
        builderIds: [`${PUBLIC}/provenance/builder/trusted`],
        trustTier: "trusted",
        requireStatus: ["corroborated", "trusted"],
        minNodes: 2,
        minOperators: 2,
        allowedNodes: ["builder-a", "builder-b"],
        allowedOperators: ["acme-ops", "volunteers"],
      }),
    );
    const r = await run(good, { policy: json });
    assert.equal(r.code, undefined, r.message);
    assert.match(r.lines.at(-1)!.detail, /all 10 rule\(s\) met/);
    const yaml = file("policy2.yaml", "requireStatus:\n  - corroborated\nminOperators: 2\n");
    assert.equal((await run(good, { policy: yaml })).code, undefined);
  });

  it("malformed files fail in one line with their own code", async () => {
    assert.equal((await run("{not json")).code, "PROVENANCE_MALFORMED");
    assert.equal((await run(JSON.stringify({ payload: "x", signatures: [] }))).code, "PROVENANCE_MALFORMED");
    assert.equal((await run(good, { keys: [file("nokey.pem", "hello\n")] })).code, "PROVENANCE_MALFORMED");
    const priv = file("priv.pem", pair.privateKey.export({ format: "pem", type: "pkcs8" }).toString());
    assert.match((await run(good, { keys: [priv] })).message!, /PRIVATE KEY, not a PUBLIC KEY/);
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey;
    const rsaPem = file("rsa.pem", rsa.export({ format: "pem", type: "spki" }).toString());
    assert.match((await run(good, { keys: [rsaPem] })).message!, /rsa key/);
    const typo = await run(good, { policy: file("typo.yml", "requireStatuses: [trusted]\n") });
    assert.equal(typo.code, "PROVENANCE_MALFORMED");
    assert.match(typo.message!, /requireStatuses/);
    const badStatus = await run(good, { policy: file("bad.yml", "requireStatus: [great]\n") });
    assert.equal(badStatus.code, "PROVENANCE_MALFORMED");
    assert.equal((await run(good, { artifact: join(dir, "missing") })).code, "USAGE");
    assert.equal((await run(good, { keys: [join(dir, "missing.pem")] })).code, "USAGE");
  });

  it("a signed payload that is not an in-toto v1 statement with a SLSA v1 predicate is refused", async () => {
    const s = buildStatement(sampleInput(digest));
    const v02 = sign({ ...s, predicateType: "https://slsa.dev/provenance/v0.2" });
    assert.equal((await run(v02)).code, "PROVENANCE_MALFORMED");
    const v01 = sign({ ...s, _type: "https://in-toto.io/Statement/v0.1" });
    assert.equal((await run(v01)).code, "PROVENANCE_MALFORMED");
    const other = sign(s, pair.privateKey, "application/json");
    assert.match((await run(other)).message!, /payload type application\/json/);
  });
});

describe("the source's location in provenance", () => {
  it("is the clone URL without credentials, query or .git; a path as file://; scp-like as ssh://", () => {
    assert.equal(
      sourceLocation("https://x-access-token:s3cret@github.com/acme/app.git"),
      "https://github.com/acme/app",
    );
    assert.equal(
      sourceLocation("https://gitlab.example.com/group/sub/app.git?x=1#y"),
      "https://gitlab.example.com/group/sub/app",
    );
    assert.equal(sourceLocation("/srv/git/app.git"), "file:///srv/git/app");
    assert.equal(sourceLocation("git@codeberg.org:acme/app.git"), "ssh://codeberg.org/acme/app");
    assert.equal(sourceLocation("ssh://git@gitea.local:2222/acme/app"), "ssh://gitea.local:2222/acme/app");
    // Nothing a URL can be made of: the caller keeps the repository's name.
    assert.equal(sourceLocation("not a url"), undefined);
    assert.equal(sourceLocation("javascript:alert(1)"), undefined);
  });

  it("names the repository's own location, not github.com, for another forge", () => {
    const input = sampleInput("a".repeat(64));
    const st = buildStatement({
      ...input,
      source: { ...input.source, url: "https://gitlab.example.com/acme/app" },
    });
    const deps = st.predicate.buildDefinition.resolvedDependencies;
    assert.equal(deps[0]!.uri, `git+https://gitlab.example.com/acme/app@${input.source.ref}`);
    // Without a location, the name as before (here already a URL).
    assert.equal(
      buildStatement(input).predicate.buildDefinition.resolvedDependencies[0]!.uri,
      `git+https://github.com/acme/app@${input.source.ref}`,
    );
  });
});
