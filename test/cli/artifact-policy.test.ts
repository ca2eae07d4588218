// `airlock repos artifact-policy` and `airlock artifacts promote` against a real server (real
// PostgreSQL, the artifact service, the local blob store), run in-process: the policy is shown and
// changed only where an option names it, a refused promotion is one line with its code, an allowed
// one shows in `artifacts list`.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createApiToken, createUser } from "../../src/auth/index.js";
import {
  finalize,
  rawUpload,
  runningAttempt,
  startArtifactServer,
  type ArtifactServer,
} from "../artifacts/helpers.js";
import { runCli, stubEnv, tempHome } from "./harness.js";

let s: ArtifactServer;
let env: NodeJS.ProcessEnv;
const home = tempHome();
before(async () => {
  s = await startArtifactServer();
  const u = await createUser(s.db.pool, { name: "ops", serverAdmin: true });
  const token = (
    await createApiToken(s.db.pool, { kind: "personal", name: "t", scopes: ["admin"], userId: u.id })
  ).token;
  env = stubEnv(s.url, home.dir, token);
});
after(async () => {
  await s?.close();
  home.remove();
});

describe("airlock repos artifact-policy / airlock artifacts promote", () => {
  it("sets the quota and the gate, refuses then allows a promotion, and lists it", async () => {
    const a = await runningAttempt(s);
    const bytes = Buffer.from("release\n");
    const { artifactId } = await rawUpload(s, a, "dist", bytes);
    assert.equal((await finalize(s, a, "dist", bytes)).status, 200);
    const repo = (
      await s.db.pool.query(
        `SELECT p.name FROM runs r JOIN repositories p ON p.id = r.repository_id WHERE r.id = $1`,
        [a.runId],
      )
    ).rows[0]!.name as string;

    const shown = await runCli(["repos", "artifact-policy", repo], env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /artifacts use 8 B of 10\.00 GiB \(server default\)/);
    assert.match(shown.stdout, /status corroborated or trusted; trusted runs only; mismatch never/);

    const set = await runCli(["repos", "artifact-policy", repo, "--quota", "5GiB"], env);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /of 5\.00 GiB\.\n/);
    assert.match(set.stdout, /status corroborated or trusted; trusted runs only/, "the gate kept as it was");

    const bad = await runCli(["repos", "artifact-policy", repo, "--quota", "lots"], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--quota: expected a size/);

    const refused = await runCli(["artifacts", "promote", String(a.runId), "dist"], env);
    assert.notEqual(refused.code, 0);
    assert.equal(refused.error?.code, "ARTIFACT_NOT_PROMOTABLE");
    assert.equal(refused.stderr.trimEnd().split("\n").length, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /is unverified; the repository's policy promotes only corroborated or trusted/,
    );

    const loosened = await runCli(
      ["repos", "artifact-policy", repo, "--require-status", "trusted,unverified"],
      env,
    );
    assert.equal(loosened.code, 0, loosened.stderr);
    assert.match(loosened.stdout, /of 5\.00 GiB\.\n/, "the quota kept as it was");
    const ok = await runCli(["artifacts", "promote", String(a.runId), String(artifactId)], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^Artifact dist \(\d+, unverified\) promoted by ops at /);
    const list = await runCli(["artifacts", "list", String(a.runId)], env);
    assert.match(list.stdout, /PROMOTED/);
    assert.match(list.stdout, /\d{4}-\d\d-\d\d by ops/);
  });
});
