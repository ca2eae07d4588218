// Independent rebuilds in real jobs (issue 13, items 6 and 9): real agents on nodes of different
// operators, real bubblewrap sandboxes, the real `@actions/artifact` client uploading a build's
// output. The repository's policy asks for corroboration; the orchestrator queues the replica,
// places it on another operator's node, compares digests and records the verdict:
//   - two honest workers of different operators → `corroborated`;
//   - a fault-injecting worker that flips one byte of the build output → `mismatch`: quarantined,
//     run marked, both nodes flagged, a report naming the file and the first differing byte,
//     promotion refused;
//   - an untrusted worker's build confirmed later by a trusted worker → `trusted` (the rebuild
//     waits with NO_REPLICA_NODE until a trusted node is there).
// A deployment (`environment:`) that needs the build waits for the verdict (REBUILDS_PENDING) and
// consumes only what the promotion gate allows.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { createSandboxProvisioner } from "../../src/provisioners/index.js";
import type { Agent } from "../../src/agent/index.js";
import { makeRepo, runAirlock, type TempRepo } from "../helpers/repo.js";
import { eventually, startTestService, type TestService } from "../helpers/service.js";
import { tamperingProvisioner, type Tampering } from "../helpers/tampering.js";
import { bundleAction } from "../helpers/toolkit-job.js";

const here = dirname(fileURLToPath(import.meta.url));

const ACTION_YML = `name: artifact
inputs:
  op: { required: true }
  name: { required: true }
  path: { required: true }
runs:
  using: node20
  main: index.mjs
`;

// An honest build is reproducible: same bytes, and file times from SOURCE_DATE_EPOCH (the zip
// records them).
const WORKFLOW = `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: |
          mkdir -p out
          printf 'reproducible build output\\n' > out/app.bin
          seq 1 2000 >> out/app.bin
          touch -d "@$SOURCE_DATE_EPOCH" out/app.bin
      - uses: ./.github/actions/artifact
        with: { op: upload, name: app, path: out }
  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: ./.github/actions/artifact
        with: { op: download, name: app, path: got }
      - run: head -c 25 got/app.bin
`;

let t: TestService;
let action: string;
const repos: TempRepo[] = [];
const agents: Agent[] = [];

before(async () => {
  t = await startTestService();
  action = await bundleAction(join(here, "artifacts", "action.js"));
});
after(async () => {
  await t?.stop();
  for (const r of repos) r.remove();
});

async function node(
  name: string,
  worker: { workerTrust: "trusted" | "untrusted"; operator?: string },
  tampering?: Tampering,
): Promise<Agent> {
  const r = await t.api<{ token: string }>("POST", "/api/v1/nodes/registrations", { name, ...worker });
  assert.equal(r.status, 201, r.text);
  const sandbox = createSandboxProvisioner({ diskPool: { warm: 0 } });
  const agent = await t.startAgent(r.body.token, {
    provisioners: { sandbox: tampering ? tamperingProvisioner(sandbox, tampering) : sandbox },
  });
  agents.push(agent);
  return agent;
}

async function stopAgents(): Promise<void> {
  for (const a of agents.splice(0)) await a.stop();
}

/** A GitHub repository with the build workflow and this corroboration policy; its first run's id. */
async function runWithPolicy(name: string, corroborate: Record<string, unknown>): Promise<number> {
  const repo = makeRepo({
    ".github/workflows/ci.yml": WORKFLOW,
    ".github/actions/artifact/action.yml": ACTION_YML,
    ".github/actions/artifact/index.mjs": action,
  });
  repos.push(repo);
  const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", { name, cloneUrl: repo.dir });
  assert.equal(r.status, 201, r.text);
  assert.equal(
    (await t.api("PUT", `/api/v1/repositories/${r.body.id}/forge`, { kind: "github" })).status,
    200,
  );
  const p = await t.api("PUT", `/api/v1/repositories/${r.body.id}/artifact-policy`, { corroborate });
  assert.equal(p.status, 200, p.text);
  const trig = await t.api<{ runs: Array<{ id: number }> }>(
    "POST",
    `/api/v1/repositories/${r.body.id}/runs`,
    {},
  );
  assert.equal(trig.body.runs?.length, 1, trig.text);
  return trig.body.runs[0]!.id;
}

interface Listed {
  id: number;
  name: string;
  sha256: string;
  status: string;
}

const artifactsOf = async (runId: number): Promise<Listed[]> =>
  (await t.api<Listed[]>("GET", `/api/v1/runs/${runId}/artifacts`)).body;

/** Waits until the run's artifact `app` has left `from` (the verdict after the rebuild). */
async function verdict(runId: number, from: string): Promise<Listed> {
  return withJobs(runId, () =>
    eventually(
      async () => {
        const a = (await artifactsOf(runId)).find((x) => x.name === "app");
        return a && a.status !== from ? a : undefined;
      },
      `a verdict on run ${runId}'s artifact`,
      240_000,
    ),
  );
}

/** On failure, says what the run's jobs did (their states, errors and the rebuild's log tail). */
async function withJobs<T>(runId: number, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    const jobs = await t.db.pool.query(
      `SELECT id, name, state, conclusion, error, wait_reason FROM jobs WHERE run_id = $1 ORDER BY id`,
      [runId],
    );
    const logs: string[] = [];
    for (const j of jobs.rows as Array<{ id: string }>)
      logs.push((await t.api("GET", `/api/v1/jobs/${j.id}/logs`)).text.slice(-1500));
    throw new Error(`${(err as Error).message}\n${JSON.stringify(jobs.rows)}\n${logs.join("\n---\n")}`, {
      cause: err,
    });
  }
}

interface JobRow {
  id: string;
  name: string;
  state: string;
  conclusion: string | null;
  node: string | null;
  replica_of: string | null;
  wait_reason: string | null;
}
const jobsOf = async (runId: number): Promise<JobRow[]> =>
  (
    await t.db.pool.query<JobRow>(
      `SELECT j.id, j.name, j.state, j.conclusion, n.name AS node, j.replica_of, j.wait_reason
         FROM jobs j LEFT JOIN nodes n ON n.id = j.node_id WHERE j.run_id = $1 ORDER BY j.id`,
      [runId],
    )
  ).rows;

describe("independent rebuilds", { timeout: 900_000 }, () => {
  it("two honest workers of different operators: corroborated", async () => {
    await node("honest-a", { workerTrust: "untrusted", operator: "Alice's lab" });
    await node("honest-b", { workerTrust: "untrusted", operator: "Bob's lab" });
    const runId = await runWithPolicy("acme/corr-honest", { builds: 2, agree: 2 });
    const run = await t.waitRun(runId, 240_000);
    const a = await verdict(runId, "unverified");
    const jobs = await jobsOf(runId);
    assert.equal(run.conclusion, "success", JSON.stringify({ run, jobs }));
    assert.equal(a.status, "corroborated", JSON.stringify({ a, jobs }));
    // The rebuild ran on the other operator's node.
    const own = jobs.find((j) => j.name === "build")!;
    const rebuild = jobs.find((j) => j.replica_of !== null)!;
    assert.equal(jobs.length, 3);
    assert.equal(rebuild.replica_of, own.id);
    assert.equal(rebuild.name, "build (rebuild 1)");
    assert.deepEqual(new Set([own.node, rebuild.node]), new Set(["honest-a", "honest-b"]));
    // The provenance names both builds, both agreeing.
    const prov = await t.api<{ payload: string }>(
      "GET",
      `/api/v1/runs/${runId}/artifacts/${a.id}/provenance`,
    );
    assert.equal(prov.status, 200, prov.text);
    const statement = JSON.parse(Buffer.from(prov.body.payload, "base64").toString()) as {
      predicate: {
        runDetails: { byproducts: Array<{ name: string; annotations?: Record<string, unknown> }> };
      };
    };
    const byproducts = statement.predicate.runDetails.byproducts;
    assert.equal(byproducts.find((b) => b.name === "corroboration")?.annotations?.status, "corroborated");
    assert.equal(byproducts.filter((b) => b.name.startsWith("node/")).length, 2, JSON.stringify(byproducts));
    // The deployment waited for the verdict, then consumed the corroborated artifact.
    const { rows: order } = await t.db.pool.query<{ ok: boolean }>(
      `SELECT d.started_at >= r.finished_at AS ok FROM jobs d, jobs r WHERE d.id = $1 AND r.id = $2`,
      [jobs.find((j) => j.name === "deploy")!.id, rebuild.id],
    );
    assert.equal(order[0]?.ok, true);
    const deployLog = (await t.api("GET", `/api/v1/jobs/${jobs.find((j) => j.name === "deploy")!.id}/logs`))
      .text;
    assert.match(deployLog, /reproducible build output/);
    // Nothing differs: no node flagged, the run not marked.
    const flagged = await t.db.pool.query(`SELECT name FROM nodes WHERE flagged_at IS NOT NULL`);
    assert.equal(flagged.rowCount, 0);
    await stopAgents();
  });

  it("a worker that flips one byte of its output: mismatch, quarantined, nodes flagged, nothing promoted", async () => {
    const tampering: Tampering = { file: "out/app.bin", offset: 7, flipped: 0 };
    await node("honest-c", { workerTrust: "untrusted", operator: "Carol's lab" });
    await node("mallory", { workerTrust: "untrusted", operator: "Mallory" }, tampering);
    const runId = await runWithPolicy("acme/corr-evil", { builds: 2, agree: 2 });
    const run = await t.waitRun(runId, 240_000);
    const a = await verdict(runId, "unverified");
    // The build succeeded; the deployment found nothing it may consume.
    const deploy = (await jobsOf(runId)).find((j) => j.name === "deploy")!;
    assert.equal(deploy.conclusion, "failure", JSON.stringify(run));
    assert.equal((await jobsOf(runId)).find((j) => j.name === "build")!.conclusion, "success");
    assert.equal(a.status, "mismatch", JSON.stringify(await jobsOf(runId)));
    assert.equal(tampering.flipped, 1);

    // Quarantined: the promotion gate refuses it whatever the policy says.
    const { rows: repoRows } = await t.db.pool.query<{ repository_id: string }>(
      `SELECT repository_id FROM runs WHERE id = $1`,
      [runId],
    );
    const open = await t.api("PUT", `/api/v1/repositories/${repoRows[0]!.repository_id}/artifact-policy`, {
      promote: { requireStatus: ["corroborated", "trusted", "unverified"], allowUntrustedRuns: true },
      corroborate: { builds: 2, agree: 2 },
    });
    assert.equal(open.status, 200, open.text);
    const promote = await t.api<{ error: { code: string } }>(
      "POST",
      `/api/v1/runs/${runId}/artifacts/${a.id}/promote`,
    );
    assert.equal(promote.status, 409, promote.text);
    assert.equal(promote.body.error.code, "ARTIFACT_NOT_PROMOTABLE", promote.text);
    const promoted = await t.db.pool.query(`SELECT 1 FROM artifacts WHERE promoted_at IS NOT NULL`);
    assert.equal(promoted.rowCount, 0);

    // The run is marked; both nodes are flagged for the operator.
    const marked = await t.db.pool.query(
      `SELECT 1 FROM runs WHERE id = $1 AND artifact_mismatch_at IS NOT NULL`,
      [runId],
    );
    assert.equal(marked.rowCount, 1);
    const shown = await t.api<{ artifactMismatchAt: string | null }>("GET", `/api/v1/runs/${runId}`);
    assert.notEqual(shown.body.artifactMismatchAt, null, shown.text);
    const flagged = await t.db.pool.query<{ name: string; flag_reason: string }>(
      `SELECT name, flag_reason FROM nodes WHERE flagged_at IS NOT NULL ORDER BY name`,
    );
    assert.deepEqual(
      flagged.rows.map((r) => r.name),
      ["honest-c", "mallory"],
    );
    assert.match(flagged.rows[0]!.flag_reason, /builds of artifact "app" of run \d+ differ/);

    // The report: which file, where the first differing byte is, both digests.
    const reports = await t.api<
      Array<{
        name: string;
        builds: Array<{ node: string; sha256: string | null }>;
        diff: { changed: Array<{ path: string }>; firstDifference?: { path: string; offset: number } };
      }>
    >("GET", `/api/v1/runs/${runId}/mismatches`);
    assert.equal(reports.status, 200, reports.text);
    assert.equal(reports.body.length, 1, reports.text);
    const rep = reports.body[0]!;
    assert.equal(rep.name, "app");
    assert.deepEqual(
      rep.diff.changed.map((c) => c.path),
      ["app.bin"],
    );
    assert.equal(rep.diff.firstDifference?.path, "app.bin");
    assert.equal(rep.diff.firstDifference?.offset, 7);
    assert.equal(new Set(rep.builds.map((b) => b.sha256)).size, 2);

    // The same for the operator on the command line; the flag shows in the node list until cleared.
    const env = { AIRLOCK_SERVER: t.service.url, AIRLOCK_TOKEN: t.service.adminToken! };
    const cli = await runAirlock(repos[0]!.dir, ["artifacts", "mismatches", String(runId)], env);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /Artifact "app" \(\d+\) differs from rebuild job \d+/);
    assert.match(cli.stdout, /on mallory \(untrusted, Mallory\): sha256 [0-9a-f]{64}/);
    assert.match(cli.stdout, /first difference: app\.bin at byte 7: /);
    const listed = await runAirlock(repos[0]!.dir, ["nodes", "list"], env);
    assert.match(listed.stdout, /mallory .*untrusted \(Mallory\), FLAGGED/);
    const cleared = await runAirlock(repos[0]!.dir, ["nodes", "unflag", "mallory"], env);
    assert.equal(cleared.code, 0, cleared.stderr);
    const still = await t.db.pool.query(`SELECT name FROM nodes WHERE flagged_at IS NOT NULL`);
    assert.deepEqual(
      still.rows.map((r: { name: string }) => r.name),
      ["honest-c"],
    );
    await stopAgents();
  });

  it("an untrusted worker's build confirmed later by a trusted worker: trusted", async () => {
    await node("untrusted-d", { workerTrust: "untrusted", operator: "Dave's lab" });
    const runId = await runWithPolicy("acme/corr-confirm", { builds: 1, trustedBuild: true });
    // Until a trusted worker is there, the build stands unverified, the rebuild waits, and so
    // does the deployment.
    const waiting = await eventually(
      async () => (await jobsOf(runId)).find((j) => j.replica_of !== null && j.wait_reason !== null),
      "the trusted rebuild to wait",
      240_000,
    );
    assert.match(waiting.wait_reason!, /trusted node of another operator/);
    assert.equal((await artifactsOf(runId)).find((x) => x.name === "app")?.status, "unverified");
    // Not promotable before the verdict.
    const early = (await artifactsOf(runId)).find((x) => x.name === "app")!;
    const refused = await t.api("POST", `/api/v1/runs/${runId}/artifacts/${early.id}/promote`);
    assert.equal(refused.status, 409, refused.text);
    assert.match(refused.text, /waits for the verdict of its independent rebuilds/);
    const deployWait = await eventually(
      async () => (await jobsOf(runId)).find((j) => j.name === "deploy" && j.wait_reason !== null),
      "the deployment to wait",
      240_000,
    );
    assert.match(deployWait.wait_reason!, /independent rebuilds/);

    await node("trusted-t", { workerTrust: "trusted" });
    const a = await verdict(runId, "unverified");
    assert.equal(a.status, "trusted", JSON.stringify(await jobsOf(runId)));
    const rebuild = (await jobsOf(runId)).find((j) => j.replica_of !== null)!;
    assert.equal(rebuild.node, "trusted-t");
    const run = await t.waitRun(runId, 240_000);
    assert.equal(run.conclusion, "success", JSON.stringify(await jobsOf(runId)));
    const promoted = await t.api("POST", `/api/v1/runs/${runId}/artifacts/${a.id}/promote`);
    assert.equal(promoted.status, 200, promoted.text);
    await stopAgents();
  });
});
