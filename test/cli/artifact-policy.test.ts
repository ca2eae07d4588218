// `airlock repos artifact-policy` and `airlock artifacts promote` against a real server (real
// PostgreSQL, the artifact service, the local blob store), run in-process: the policy is shown and
// changed only where an option names it, a refused promotion is one line with its code, an allowed
// one shows in `artifacts list`.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  finalize,
  rawUpload,
  runningAttempt,
  startArtifactServer,
  type ArtifactServer,
  adminToken,
} from "../artifacts/helpers.js";
import { runCli, stubEnv, tempHome } from "./harness.js";

let s: ArtifactServer;
let env: NodeJS.ProcessEnv;
const home = tempHome();
before(async () => {
  s = await startArtifactServer();
  const token = await adminToken(s);
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

  it("sets corroboration: builds, agree, a trusted rebuild and workflows; bad values are one line", async () => {
    const a = await runningAttempt(s);
    const repo = (
      await s.db.pool.query(
        `SELECT p.name FROM runs r JOIN repositories p ON p.id = r.repository_id WHERE r.id = $1`,
        [a.runId],
      )
    ).rows[0]!.name as string;
    const off = await runCli(["repos", "artifact-policy", repo], env);
    assert.match(off.stdout, /Corroboration: none \(one build per job\)\./);

    const three = await runCli(["repos", "artifact-policy", repo, "--builds", "3"], env);
    assert.equal(three.code, 0, three.stderr);
    assert.match(
      three.stdout,
      /3 builds by different operators, 3 identical for corroborated; every workflow/,
    );

    const more = await runCli(
      [
        "repos",
        "artifact-policy",
        repo,
        "--agree",
        "2",
        "--trusted-build",
        "--workflow",
        ".github/workflows/release.yml",
      ],
      env,
    );
    assert.equal(more.code, 0, more.stderr);
    assert.match(
      more.stdout,
      /3 builds by different operators, 2 identical for corroborated; a trusted worker rebuilds what an untrusted one built; workflows \.github\/workflows\/release\.yml/,
    );
    const json = await runCli(["repos", "artifact-policy", repo, "--json"], env);
    assert.deepEqual(JSON.parse(json.stdout).corroborate, {
      builds: 3,
      agree: 2,
      trustedBuild: true,
      workflows: [".github/workflows/release.yml"],
    });

    for (const [args, code, message] of [
      [["--builds", "12"], "USAGE", /--builds: expected a whole number from 1 to 9/],
      [["--agree", "4"], "ARTIFACT_INVALID", /corroborate\.agree is a whole number from 1 to builds \(3\)/],
      [["--workflow", "ci.yml"], "ARTIFACT_INVALID", /corroborate\.workflows lists workflow files/],
    ] as const) {
      const bad = await runCli(["repos", "artifact-policy", repo, ...args], env);
      assert.notEqual(bad.code, 0);
      assert.equal(bad.error?.code, code, bad.stderr);
      assert.equal(bad.stderr.trimEnd().split("\n").length, 1, bad.stderr);
      assert.match(bad.stderr, message);
    }
    // Nothing changed by the refusals.
    const after = await runCli(["repos", "artifact-policy", repo, "--json"], env);
    assert.equal(JSON.parse(after.stdout).corroborate.agree, 2);
  });
});
