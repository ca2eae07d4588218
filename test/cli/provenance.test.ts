// The built `airlock` binary end to end: the orchestrator signs an artifact's provenance, `airlock
// provenance key --server` fetches the public key as PEM (no token), and `airlock verify` checks
// the artifact offline — exit 0 with one line per check; non-zero with a one-line reason and no
// stack trace for altered provenance, another key, other bytes and an unmet policy.
// Needs `npx tsc -p tsconfig.build.json` first (scripts/test.sh builds before testing).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { envelopeFile, signProvenance } from "../../src/artifacts/provenance/index.js";
import { projectRoot } from "../helpers/repo.js";
import { startTestServer, type TestServer } from "../server/helpers.js";
import { sampleInput } from "../artifacts/provenance-fixture.js";

const bin = join(projectRoot, "bin", "airlock.js");
const dir = mkdtempSync(join(tmpdir(), "airlock-cli-provenance-"));
let s: TestServer;
let url: string;

before(async () => {
  assert.ok(
    existsSync(join(projectRoot, "dist", "src", "cli", "main.js")),
    "build the CLI first: npx tsc -p tsconfig.build.json",
  );
  s = await startTestServer();
  url = await s.app.listen({ port: 0, host: "127.0.0.1" });
});
after(async () => {
  await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the built CLI asynchronously (the server answering it runs in this process). */
function airlock(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--", bin, ...args],
      { cwd: dir, env: { PATH: process.env.PATH, AIRLOCK_HOME: dir, NO_COLOR: "1" }, encoding: "utf8" },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const put = (name: string, content: string | Buffer): string => {
  writeFileSync(join(dir, name), content);
  return name;
};

function assertRefused(r: { code: number; stdout: string; stderr: string }, reason: RegExp): void {
  assert.notEqual(r.code, 0, r.stdout);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0]!, /^airlock: /);
  assert.match(lines[0]!, reason);
  assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at /, "no stack trace");
  assert.match(r.stdout, /^FAIL /m);
}

describe("airlock provenance key + airlock verify", () => {
  const bytes = Buffer.from("release bytes\n".repeat(5000));
  const digest = createHash("sha256").update(bytes).digest("hex");

  it("fetches the key as PEM without a token, then verifies offline", async () => {
    const org = (await s.db.pool.query<{ id: string }>("SELECT id FROM organizations WHERE name = 'default'"))
      .rows[0]!;
    const signed = await signProvenance(s.db.pool, s.kms, Number(org.id), sampleInput(digest));
    put("app.tar.gz", bytes);
    put("app.intoto.json", envelopeFile(signed.envelope));

    const key = await airlock(["provenance", "key", "--server", url]);
    assert.equal(key.code, 0, key.stderr);
    assert.match(key.stdout, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
    assert.match(
      key.stderr,
      new RegExp(`provenance key ${signed.keyid} of organization default \\(signing\\)`),
    );
    put("key.pem", key.stdout);

    const ok = await airlock(["verify", "app.tar.gz", "app.intoto.json", "--key", "key.pem"]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.deepEqual(
      ok.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(":")[0]),
      [
        "ok   keys",
        "ok   envelope",
        "ok   signature",
        "ok   statement",
        "ok   artifact",
        "ok   policy",
        "verified",
      ],
    );

    const policy = put(
      "policy.yml",
      "repository: https://github.com/acme/app\nref: refs/tags/v*\nrequireStatus: [corroborated, trusted]\nminNodes: 2\n",
    );
    const withPolicy = await airlock([
      "verify",
      "app.tar.gz",
      "app.intoto.json",
      "--key",
      "key.pem",
      "--policy",
      policy,
    ]);
    assert.equal(withPolicy.code, 0, withPolicy.stdout + withPolicy.stderr);
    assert.match(withPolicy.stdout, /ok {3}policy: all 4 rule\(s\) met/);

    // Altered payload.
    const e = structuredClone(signed.envelope);
    const payload = Buffer.from(e.payload, "base64");
    payload[100]! ^= 0x01;
    e.payload = payload.toString("base64");
    put("altered.json", envelopeFile(e));
    assertRefused(await airlock(["verify", "app.tar.gz", "altered.json", "--key", "key.pem"]), /altered/);

    // Another key.
    const { generateKeyPairSync } = await import("node:crypto");
    const other = generateKeyPairSync("ed25519").publicKey.export({ format: "pem", type: "spki" }).toString();
    put("other.pem", other);
    assertRefused(
      await airlock(["verify", "app.tar.gz", "app.intoto.json", "--key", "other.pem"]),
      /not signed by the given key/,
    );

    // Other bytes.
    const changed = Buffer.from(bytes);
    changed[0]! ^= 0x20;
    put("changed.tar.gz", changed);
    assertRefused(
      await airlock(["verify", "changed.tar.gz", "app.intoto.json", "--key", "key.pem"]),
      /is not a subject of the provenance/,
    );

    // Unmet policy.
    put("strict.yml", "requireStatus: [trusted]\nallowedOperators: [acme-ops]\n");
    assertRefused(
      await airlock([
        "verify",
        "app.tar.gz",
        "app.intoto.json",
        "--key",
        "key.pem",
        "--policy",
        "strict.yml",
      ]),
      /policy not met: corroboration is corroborated.*volunteers/,
    );

    // Malformed files and missing ones: one line, exit non-zero.
    put("junk.json", "{");
    assertRefused(await airlock(["verify", "app.tar.gz", "junk.json", "--key", "key.pem"]), /is not JSON/);
    assertRefused(
      await airlock(["verify", "missing.bin", "app.intoto.json", "--key", "key.pem"]),
      /no such file/,
    );
  });

  it("--organization and --json: one organization's keys with their keyid; an unknown one in one line", async () => {
    const r = await airlock(["provenance", "key", "--server", url, "--organization", "default", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const { keys } = JSON.parse(r.stdout) as {
      keys: Array<{ keyid: string; organization: string; pem: string }>;
    };
    assert.equal(keys.length, 1);
    assert.equal(keys[0]!.organization, "default");
    assert.match(keys[0]!.keyid, /^[0-9a-f]{64}$/);
    const none = await airlock(["provenance", "key", "--server", url, "--organization", "nope"]);
    assert.notEqual(none.code, 0);
    assert.equal(none.stderr.trimEnd().split("\n").length, 1, none.stderr);
    assert.match(none.stderr, /nope/);
  });

  it("without --key, verify refuses in one line", async () => {
    const r = await airlock(["verify", "app.tar.gz", "app.intoto.json"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^airlock: verify needs --key/);
  });

  it("an unreachable server is one line too", async () => {
    const r = await airlock(["provenance", "key", "--server", "http://127.0.0.1:1"]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  });
});
