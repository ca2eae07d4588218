// Artifacts in real jobs on a server run: the real `@actions/artifact` client (bundled into a
// JavaScript action in the job's repository) uploads from one job in a bubblewrap sandbox and
// downloads in another, through each machine's job services and the agent to the orchestrator's
// artifact service. Checks: the bytes come back identical, the artifact row records node and trust
// tier, a `run:` script does not see ACTIONS_RUNTIME_TOKEN (actions do, as on GitHub), the token is
// masked in the log and dead once the job has ended.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createHash } from "node:crypto";
import { makeRepo, runAirlock, type TempRepo } from "../helpers/repo.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { bundleAction, runGitHubRepository } from "../helpers/toolkit-job.js";

const here = dirname(fileURLToPath(import.meta.url));

const ACTION_YML = `name: artifact
inputs:
  op: { required: true }
  name: { required: true }
  path: { required: true }
outputs:
  id: { description: the artifact's id }
  digest: { description: its sha256 }
runs:
  using: node20
  main: index.mjs
`;

const WORKFLOW = `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    outputs:
      digest: \${{ steps.up.outputs.digest }}
    steps:
      - run: |
          mkdir -p out/sub
          echo "hello artifacts" > out/a.txt
          head -c 3000000 /dev/urandom > out/sub/big.bin
          (cd out && sha256sum a.txt sub/big.bin)
          echo "SCRIPT SEES [\${ACTIONS_RUNTIME_TOKEN:-none}] [\${ACTIONS_RESULTS_URL:-none}]"
      - id: up
        uses: ./.github/actions/artifact
        with: { op: upload, name: build-output, path: out }
  check:
    needs: build
    runs-on: ubuntu-latest
    steps:
      - uses: ./.github/actions/artifact
        with: { op: download, name: build-output, path: got }
      - run: |
          cat got/a.txt
          (cd got && sha256sum a.txt sub/big.bin) | tee got-sums.txt
          echo "digest \${{ needs.build.outputs.digest }}"
`;

let t: TestService;
let repo: TempRepo;
before(async () => {
  t = await startTestService();
});
after(async () => {
  await t?.stop();
  repo?.remove();
});

describe("artifacts in real jobs", () => {
  it("upload in one job, download in the next, through the job services; bytes identical", async () => {
    repo = makeRepo({
      ".github/workflows/ci.yml": WORKFLOW,
      ".github/actions/artifact/action.yml": ACTION_YML,
      ".github/actions/artifact/index.mjs": await bundleAction(join(here, "artifacts", "action.js")),
    });
    const run = await runGitHubRepository(t, { name: "acme/art", cloneUrl: repo.dir, node: "node-art" });
    const job = (name: string) => run.jobs.find((j) => j.name === name)!;
    const buildLog = (await t.api("GET", `/api/v1/jobs/${job("build").id}/logs`)).text;
    const checkLog = (await t.api("GET", `/api/v1/jobs/${job("check").id}/logs`)).text;
    assert.equal(run.conclusion, "success", `${JSON.stringify(run)}\n${buildLog}\n${checkLog}`);

    // A run: script gets neither variable; the action got both (it uploaded).
    assert.match(buildLog, /SCRIPT SEES \[none\] \[none\]/);
    const uploaded = /uploaded artifact (\d+): (\d+) bytes, sha256 ([0-9a-f]{64})/.exec(buildLog);
    assert.ok(uploaded, buildLog);
    assert.match(checkLog, /hello artifacts/);
    assert.match(checkLog, new RegExp(`digest ${uploaded[3]}`));
    // The same two checksums in both jobs: the bytes came back identical.
    const sums = (log: string): string[] =>
      log
        .split("\n")
        .filter((l) => / (a\.txt|sub\/big\.bin)$/.test(l))
        .map((l) => l.replace(/^.*\| /, "").trim());
    const checked = sums(checkLog);
    assert.equal(checked.length, 2, checkLog);
    assert.deepEqual(checked, sums(buildLog));

    const { rows } = await t.db.pool.query<{
      name: string;
      state: string;
      size: string;
      sha256: string;
      node_id: string | null;
      trust_tier: string;
    }>("SELECT * FROM artifacts WHERE name = 'build-output'");
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.state, "finalized");
    assert.equal(rows[0]!.sha256, uploaded[3]);
    assert.equal(Number(rows[0]!.size), Number(uploaded[2]));
    assert.notEqual(rows[0]!.node_id, null);
    assert.equal(rows[0]!.trust_tier, "trusted");

    // The API lists it; the CLI downloads it, checks its digest and unpacks it with the safe rules.
    const listed = await t.api<Array<{ id: number; name: string; sha256: string }>>(
      "GET",
      `/api/v1/runs/${run.id}/artifacts`,
    );
    assert.deepEqual(
      listed.body.map((a) => [a.name, a.sha256]),
      [["build-output", uploaded[3]]],
    );
    const dir = mkdtempSync(join(tmpdir(), "airlock-art-cli-"));
    try {
      const env = { AIRLOCK_SERVER: t.service.url, AIRLOCK_TOKEN: t.service.adminToken! };
      const zip = await runAirlock(
        dir,
        ["artifacts", "download", String(run.id), "build-output", "-o", "b.zip"],
        env,
      );
      assert.equal(zip.code, 0, zip.stderr);
      assert.match(zip.stdout, new RegExp(`sha256 ${uploaded[3]}`));
      const sha = createHash("sha256")
        .update(readFileSync(join(dir, "b.zip")))
        .digest("hex");
      assert.equal(sha, uploaded[3]);
      const ex = await runAirlock(
        dir,
        ["artifacts", "download", String(run.id), "build-output", "--extract", "x"],
        env,
      );
      assert.equal(ex.code, 0, ex.stderr);
      const fileSum = (f: string): string =>
        createHash("sha256")
          .update(readFileSync(join(dir, "x", f)))
          .digest("hex");
      assert.deepEqual(sums(buildLog), [
        `${fileSum("a.txt")}  a.txt`,
        `${fileSum("sub/big.bin")}  sub/big.bin`,
      ]);
      const missing = await runAirlock(dir, ["artifacts", "download", String(run.id), "nope"], env);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /has no artifact 'nope'; its artifacts: build-output/);
      const table = await runAirlock(dir, ["artifacts", "list", String(run.id)], env);
      assert.match(table.stdout, /build-output\s+2\.9 MiB\s+trusted\s+1\s+\d+\s+trusted/);

      // Provenance the orchestrator signed at finalize (a trusted worker built it: `trusted`),
      // checked offline with the organization's published key; altered bytes fail.
      const prov = await runAirlock(
        dir,
        ["artifacts", "provenance", String(run.id), "build-output", "-o", "b.intoto.json"],
        env,
      );
      assert.equal(prov.code, 0, prov.stderr);
      assert.match(prov.stdout, /\(\d+, trusted\) written to b\.intoto\.json/);
      const key = await runAirlock(dir, ["provenance", "key"], env);
      assert.equal(key.code, 0, key.stderr);
      writeFileSync(join(dir, "key.pem"), key.stdout);
      const ok = await runAirlock(dir, ["verify", "b.zip", "b.intoto.json", "--key", "key.pem"], env);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      const statement = JSON.parse(
        Buffer.from(
          (JSON.parse(readFileSync(join(dir, "b.intoto.json"), "utf8")) as { payload: string }).payload,
          "base64",
        ).toString(),
      ) as {
        subject: Array<{ digest: { sha256: string } }>;
        predicate: { buildDefinition: { externalParameters: { repository: string } } };
      };
      assert.equal(statement.subject[0]!.digest.sha256, uploaded[3]);
      assert.equal(statement.predicate.buildDefinition.externalParameters.repository, "acme/art");
      const bytes = readFileSync(join(dir, "b.zip"));
      bytes[100] = bytes[100]! ^ 1;
      writeFileSync(join(dir, "tampered.zip"), bytes);
      const bad = await runAirlock(dir, ["verify", "tampered.zip", "b.intoto.json", "--key", "key.pem"], env);
      assert.equal(bad.code, 1, bad.stdout + bad.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
