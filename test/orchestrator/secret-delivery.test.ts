// Delivery of secrets to the live job only (issue 8, item 4), through the real server:
//  - a real agent and sandbox: a job gets the repository secret it refers to (its digest comes back
//    as a job output), its log holds only ***, and neither the stored job description nor any
//    other row holds the value; an organization secret the job does not refer to is not even sealed
//    into its description;
//  - the test as the node (it speaks the agent protocol): the assignment carries sealed values and a
//    release token; the token opens them for the first machine only; a second machine, the same
//    machine again, and every redemption after the attempt finished or was cancelled get 401.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import WebSocket from "ws";
import { PROTOCOL_VERSION, RELEASE_PATH, Released, ServerMessage } from "../../src/protocol/agent.js";
import { openRunValue } from "../../src/secrets/index.js";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { eventually, startTestService, type TestService } from "../helpers/service.js";

const DEPLOY = "deploy-Token-5b1f0e9a7c3d";
const UNUSED = "never-Referenced-8e2a4c6b";
const WORKFLOW = `on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    outputs:
      digest: \${{ steps.d.outputs.digest }}
    steps:
      - id: d
        env:
          TOKEN: \${{ secrets.deploy_token }}
          MISSING: \${{ secrets.NOT_SET_ANYWHERE }}
        run: |
          echo "token is $TOKEN"
          echo "digest=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)" >> "$GITHUB_OUTPUT"
          env | grep -c Referenced || true
`;

let t: TestService;
const repos: TempRepo[] = [];
let ws: WebSocket | undefined;
before(async () => {
  t = await startTestService({ leaseMs: 60_000 });
});
after(async () => {
  ws?.terminate();
  await t.stop();
  repos.forEach((r) => r.remove());
});

/** A repository with the workflow, a repository secret and an organization secret. */
async function repository(name: string): Promise<number> {
  const repo = makeRepo({ ".github/workflows/ci.yml": WORKFLOW });
  repos.push(repo);
  const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", { name, cloneUrl: repo.dir });
  assert.equal(r.status, 201, r.text);
  const set = await t.api("PUT", `/api/v1/repositories/${r.body.id}/secrets/DEPLOY_TOKEN`, { value: DEPLOY });
  assert.equal(set.status, 201, set.text);
  const org = "default";
  const other = await t.api("PUT", `/api/v1/organizations/${org}/secrets/UNUSED_ONE`, { value: UNUSED });
  assert.ok(other.status === 201 || other.status === 200, other.text);
  return r.body.id;
}

async function trigger(repoId: number): Promise<number> {
  const trig = await t.api<{ runs: Array<{ id: number }> }>(
    "POST",
    `/api/v1/repositories/${repoId}/runs`,
    {},
  );
  assert.equal(trig.status, 201, trig.text);
  return trig.body.runs[0]!.id;
}

/** A redemption as a node makes it: its credential as the bearer, the token and machine in the body. */
async function release(
  credential: string | undefined,
  token: string | undefined,
  machine: string,
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${t.service.url}${RELEASE_PATH}`, {
    method: "POST",
    headers: {
      ...(credential ? { authorization: `Bearer ${credential}` } : {}),
      "content-type": "application/json",
    },
    body: JSON.stringify({ machine, token: token ?? "alk_rel_none" }),
  });
  return { status: res.status, text: await res.text() };
}

describe("secrets reach the live job only", () => {
  it("a real job gets the secret it refers to; nothing stored holds it", async () => {
    const repoId = await repository("default/deliver-app");
    const runId = await trigger(repoId);
    const agent = await t.startAgent(await t.addNode("node-deliver"));
    const run = await t.waitRun(runId, 120_000);
    await agent.stop(); // the next test is the only node
    assert.equal(run.conclusion, "success", JSON.stringify(run));
    const { rows } = await t.db.pool.query<{ id: string; description: Record<string, unknown> }>(
      "SELECT id, description FROM jobs WHERE run_id = $1",
      [runId],
    );
    const job = rows[0]!;
    const jobView = await t.api<{ outputs: Record<string, string> }>("GET", `/api/v1/jobs/${job.id}`);
    assert.equal(jobView.body.outputs.digest, createHash("sha256").update(DEPLOY).digest("hex"));
    const log = (await t.api("GET", `/api/v1/jobs/${job.id}/logs`)).text;
    assert.ok(log.includes("token is ***"), log);
    assert.match(log, /ci\.yml: secret NOT_SET_ANYWHERE is not set \(it will be empty\)/);
    assert.ok(!log.includes(DEPLOY) && !log.includes(UNUSED), log);

    const sealed = job.description.sealedSecrets as Record<string, string>;
    assert.deepEqual(Object.keys(sealed), ["DEPLOY_TOKEN"], "only the secret the job refers to");
    assert.match(sealed.DEPLOY_TOKEN!, /^a1\./);
    assert.deepEqual((job.description.contexts as { secrets: unknown }).secrets, { GITHUB_TOKEN: "" });
    for (const table of ["jobs", "runs", "log_chunks", "steps", "audit_log", "job_secret_releases"]) {
      const dump = JSON.stringify((await t.db.pool.query(`SELECT * FROM ${table}`)).rows);
      assert.ok(!dump.includes(DEPLOY) && !dump.includes(UNUSED), `${table} holds a secret value`);
    }
    const rel = await t.db.pool.query<{ machine: string | null }>(
      "SELECT machine FROM job_secret_releases WHERE job_id = $1",
      [job.id],
    );
    assert.match(rel.rows[0]?.machine ?? "", /^sbx-/, "redeemed by the job's sandbox");
    const audit = await t.db.pool.query("SELECT 1 FROM audit_log WHERE action = 'secrets.released'");
    assert.equal(audit.rows.length, 1);
  });

  it("the release token opens the secrets once, for one machine, while the attempt runs", async () => {
    const repoId = await repository("default/deliver-played");
    const received: ServerMessage[] = [];
    const cred = await t.nodeCredential("node-played");
    // Another registered node: it may hold a captured token, never the assigned node's credential.
    const stranger = await t.nodeCredential("node-stranger");
    ws = new WebSocket(`${t.service.url.replace(/^http/, "ws")}/api/v1/agent`, {
      headers: { authorization: `Bearer ${cred}` },
    });
    ws.on("message", (data: Buffer) => received.push(ServerMessage.parse(JSON.parse(data.toString("utf8")))));
    await new Promise((resolve, reject) => ws!.once("open", resolve).once("error", reject));
    const send = (msg: unknown): void => ws!.send(JSON.stringify(msg));
    const node = { labels: [], cpus: 1, memoryMb: 8192, diskMb: 16384, provisioners: ["sandbox"] };
    send({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      agentVersion: "test",
      node: { ...node, images: ["debian-12"] },
      running: [],
    });
    const assignment = async (runId: number) => {
      const jobId = await eventually(async () => {
        const { rows } = await t.db.pool.query<{ id: string }>("SELECT id FROM jobs WHERE run_id = $1", [
          runId,
        ]);
        return rows[0] ? Number(rows[0].id) : undefined;
      }, "the job");
      const a = await eventually(
        () => Promise.resolve(received.find((m) => m.type === "assign" && m.jobId === jobId)),
        "the assignment",
      );
      assert.ok(a.type === "assign");
      return a;
    };

    // First attempt: redeemed by machine A; B, and A again, are refused.
    const runA = await trigger(repoId);
    const a = await assignment(runA);
    assert.ok(a.releaseToken?.startsWith("alk_rel_"), "the assignment carries a release token");
    assert.ok(!JSON.stringify(a).includes(DEPLOY), "the assignment holds no plaintext secret");
    send({ type: "accepted", jobId: a.jobId, attempt: a.attempt });
    assert.equal((await release(undefined, a.releaseToken, "m-a")).status, 401, "no node credential");
    assert.equal((await release(cred, "alk_rel_forged", "m-a")).status, 401);
    assert.equal((await release(stranger, a.releaseToken, "m-a")).status, 401, "another node");
    const first = await release(cred, a.releaseToken, "m-a");
    assert.equal(first.status, 200, first.text);
    const answer = Released.parse(JSON.parse(first.text));
    assert.equal(answer.jobId, a.jobId);
    const sealed = (a.job.sealedSecrets ?? {}) as Record<string, string>;
    const key = Buffer.from(answer.key, "base64url");
    assert.equal(openRunValue(key, answer.binding, "DEPLOY_TOKEN", sealed.DEPLOY_TOKEN!), DEPLOY);
    assert.throws(() => openRunValue(key, answer.binding, "OTHER", sealed.DEPLOY_TOKEN!), /sealed/);
    const second = await release(cred, a.releaseToken, "m-b");
    assert.equal(second.status, 401, "a second machine");
    assert.ok(!second.text.includes("m-a") && second.text.split("\n").length === 1, second.text);
    assert.equal((await release(cred, a.releaseToken, "m-a")).status, 401, "the same machine again");
    send({
      type: "finished",
      jobId: a.jobId,
      attempt: a.attempt,
      seq: 1,
      result: { conclusion: "success", outputs: {}, steps: [], durationMs: 1 },
    });
    await t.waitRun(runA);

    // Second run: the job finishes before anyone redeems its token — then it is dead.
    const runB = await trigger(repoId);
    const b = await assignment(runB);
    send({ type: "accepted", jobId: b.jobId, attempt: b.attempt });
    send({
      type: "finished",
      jobId: b.jobId,
      attempt: b.attempt,
      seq: 1,
      result: { conclusion: "success", outputs: {}, steps: [], durationMs: 1 },
    });
    await t.waitRun(runB);
    assert.equal((await release(cred, b.releaseToken, "m-c")).status, 401, "after the job ended");

    // Third run: cancelled while running — the token dies with the cancel.
    const runC = await trigger(repoId);
    const c = await assignment(runC);
    send({ type: "accepted", jobId: c.jobId, attempt: c.attempt });
    await eventually(async () => {
      const { rows } = await t.db.pool.query("SELECT 1 FROM jobs WHERE id = $1 AND state = 'running'", [
        c.jobId,
      ]);
      return rows[0];
    }, "the job running");
    const cancel = await t.api("POST", `/api/v1/runs/${runC}/cancel`, {});
    assert.ok(cancel.status < 300, cancel.text);
    await eventually(
      () => Promise.resolve(received.find((m) => m.type === "cancel" && m.jobId === c.jobId)),
      "the cancel",
    );
    assert.equal((await release(cred, c.releaseToken, "m-d")).status, 401, "after a cancel");
    send({
      type: "finished",
      jobId: c.jobId,
      attempt: c.attempt,
      seq: 1,
      result: { conclusion: "cancelled", outputs: {}, steps: [], durationMs: 1 },
    });
    const done = await t.waitRun(runC);
    assert.equal(done.conclusion, "cancelled");

    // A re-run of run A is its attempt 2: a new job with a new release token, its secrets sealed
    // under a new run key. Attempt 1's token releases nothing, and its key opens none of them.
    const rerun = await t.api<{ id: number; attempt: number }>("POST", `/api/v1/runs/${runA}/rerun`);
    assert.equal(rerun.status, 201, rerun.text);
    assert.deepEqual([rerun.body.id, rerun.body.attempt], [runA, 2]);
    const job2 = await eventually(async () => {
      const { rows } = await t.db.pool.query<{ id: string }>(
        "SELECT id FROM jobs WHERE run_id = $1 AND run_attempt = 2",
        [runA],
      );
      return rows[0] ? Number(rows[0].id) : undefined;
    }, "attempt 2's job");
    const a2 = await eventually(
      () => Promise.resolve(received.find((m) => m.type === "assign" && m.jobId === job2)),
      "attempt 2's assignment",
    );
    assert.ok(a2.type === "assign");
    assert.notEqual(a2.jobId, a.jobId);
    assert.equal((a2.job.contexts as { github: Record<string, unknown> }).github.run_attempt, "2");
    send({ type: "accepted", jobId: a2.jobId, attempt: a2.attempt });
    assert.equal((await release(cred, a.releaseToken, "m-e")).status, 401, "attempt 1's token");
    const sealed2 = (a2.job.sealedSecrets ?? {}) as Record<string, string>;
    assert.notEqual(sealed2.DEPLOY_TOKEN, sealed.DEPLOY_TOKEN);
    assert.throws(
      () => openRunValue(key, answer.binding, "DEPLOY_TOKEN", sealed2.DEPLOY_TOKEN!),
      (e: unknown) => (e as { code?: string }).code === "SECRET_UNREADABLE",
      "attempt 1's run key does not open attempt 2's secrets",
    );
    const released2 = await release(cred, a2.releaseToken, "m-e");
    assert.equal(released2.status, 200, released2.text);
    const answer2 = Released.parse(JSON.parse(released2.text));
    const key2 = Buffer.from(answer2.key, "base64url");
    assert.ok(!key2.equals(key), "a new run key");
    assert.equal(openRunValue(key2, answer2.binding, "DEPLOY_TOKEN", sealed2.DEPLOY_TOKEN!), DEPLOY);
    send({
      type: "finished",
      jobId: a2.jobId,
      attempt: a2.attempt,
      seq: 1,
      result: { conclusion: "success", outputs: {}, steps: [], durationMs: 1 },
    });
    assert.equal((await t.waitRun(runA)).conclusion, "success");
  });
});
