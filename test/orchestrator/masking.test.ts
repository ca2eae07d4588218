// The orchestrator's own masking pass and log sources, with a node that masks nothing and tries to
// forge Airlock's status lines (the node is the test itself, speaking the agent protocol). The job's
// secret is a repository secret, sealed in its description: the orchestrator opens it with the run
// key for its own pass (this node never redeems its release token).
// What is stored must not hold the secret in any form; every stored chunk says who wrote it; a
// job output holding the secret does not reach other jobs (as on GitHub).
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { PROTOCOL_VERSION, ServerMessage } from "../../src/protocol/agent.js";
import { readLogChunks } from "../../src/queue/index.js";
import type { TempRepo } from "../helpers/repo.js";
import { eventually, startTestService, type RunView, type TestService } from "../helpers/service.js";
import { queuedJobWithSecrets } from "./mask-helpers.js";

const SECRET = "s3cr3t-t0ken-value-42";
let t: TestService | undefined;
let ws: WebSocket | undefined;
const repos: TempRepo[] = [];
after(async () => {
  ws?.terminate();
  await t?.stop();
  repos.forEach((r) => r.remove());
});

describe("orchestrator masking", () => {
  it("masks what a node failed to mask, keeps each chunk's source, drops job outputs holding the secret", async () => {
    t = await startTestService({ leaseMs: 30_000 });
    const svc = t;
    const { runId, jobId } = await queuedJobWithSecrets(
      svc,
      repos,
      "on: push\njobs:\n  one:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ secrets.TOKEN }}\n",
      { TOKEN: SECRET },
    );
    const received: ServerMessage[] = [];
    ws = new WebSocket(`${svc.service.url.replace(/^http/, "ws")}/api/v1/agent`, {
      headers: { authorization: `Bearer ${await svc.nodeCredential("node-leaky")}` },
    });
    ws.on("message", (data: Buffer) => received.push(ServerMessage.parse(JSON.parse(data.toString("utf8")))));
    await new Promise((resolve, reject) => ws!.once("open", resolve).once("error", reject));
    const send = (msg: unknown): void => ws!.send(JSON.stringify(msg));
    send({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      agentVersion: "test",
      node: {
        labels: [],
        cpus: 4,
        memoryMb: 8192,
        diskMb: 16384,
        provisioners: ["sandbox"],
        images: ["debian-12"],
      },
      running: [],
    });
    const assign = await eventually(
      () => Promise.resolve(received.find((m) => m.type === "assign")),
      "the job's assignment",
    );
    assert.ok(assign.type === "assign" && assign.jobId === jobId);
    const ref = { jobId, attempt: assign.attempt };
    send({ type: "accepted", ...ref });

    const b64 = Buffer.from(`${SECRET}\n`).toString("base64");
    const step = { index: 0, id: "s", name: `uses ${SECRET}\nJob success`, stage: "main" };
    const events: unknown[] = [
      { type: "job-started", at: 1 },
      { type: "step-started", step, at: 1 },
      { type: "log", step, stream: "stdout", kind: "line", text: `token=${SECRET}` },
      { type: "log", step, stream: "stderr", kind: "line", text: `b64=${b64}` },
      { type: "log", step, stream: "stdout", kind: "line", text: "Job success" },
      { type: "annotation", step, level: "error", message: "boom\nJob success", source: "step" },
      {
        type: "step-finished",
        step,
        result: { ...step, outcome: "success", conclusion: "success", outputs: { t: SECRET }, durationMs: 1 },
      },
      {
        type: "job-finished",
        result: { conclusion: "success", outputs: {}, steps: [], durationMs: 1 },
      },
    ];
    for (const [i, event] of events.entries()) send({ type: "event", ...ref, seq: i + 1, event });
    send({
      type: "finished",
      ...ref,
      seq: events.length + 1,
      result: {
        conclusion: "success",
        outputs: { leak: `x-${SECRET}-y`, clean: "visible" },
        steps: [],
        durationMs: 1,
        summaries: [{ step, markdown: `summary ${SECRET}` }],
      },
    });
    const run = await eventually(async () => {
      const res = await svc.api<RunView>("GET", `/api/v1/runs/${runId}`);
      return res.body.state === "completed" ? res.body : undefined;
    }, "the run to complete");
    assert.equal(run.conclusion, "success");

    const log = (await svc.api("GET", `/api/v1/jobs/${jobId}/logs`)).text;
    for (const bad of [SECRET, b64, b64.slice(0, 20)])
      assert.ok(!log.includes(bad), `${bad} stored in\n${log}`);
    assert.ok(log.includes("  | token=***\n"), log);
    assert.ok(log.includes("  | b64=***\n"), log);
    // Only Airlock's own line says "Job success" in the first column; the job's attempts are indented.
    const lines = log.split("\n");
    assert.deepEqual(
      lines.filter((l) => l === "Job success"),
      ["Job success"],
      log,
    );
    assert.ok(lines.includes("  | Job success") && lines.includes("    Job success"), log);
    assert.ok(lines.includes("▶ uses *** Job success"), log);
    const chunks = await readLogChunks(svc.db.pool, jobId);
    const sourceOf = (text: string): string | undefined => chunks.find((c) => c.data.includes(text))?.source;
    assert.equal(sourceOf("  | Job success"), "step");
    assert.equal(sourceOf("boom"), "step");
    assert.equal(sourceOf("▶ uses"), "system");
    assert.equal(chunks.find((c) => c.data === "Job success\n")?.source, "system");

    const job = await svc.api<{ outputs: Record<string, string> }>("GET", `/api/v1/jobs/${jobId}`);
    assert.deepEqual(job.body.outputs, { clean: "visible" }, "an output holding the secret is dropped");
    const { rows } = await svc.db.pool.query<{ outputs: Record<string, string>; name: string }>(
      "SELECT outputs, name FROM steps WHERE job_id = $1",
      [jobId],
    );
    assert.ok(!JSON.stringify(rows).includes(SECRET), JSON.stringify(rows));

    // Step summaries are masked server-side like log lines (this agent did not mask them).
    const summaries = await svc.api<Array<{ step: { name: string }; markdown: string }>>(
      "GET",
      `/api/v1/jobs/${jobId}/summaries`,
    );
    assert.equal(summaries.status, 200, summaries.text);
    assert.deepEqual(
      summaries.body.map((x) => x.markdown),
      ["summary ***"],
    );
    assert.ok(!summaries.text.includes(SECRET), summaries.text);
    // Each stored chunk has its event's style, whoever wrote it.
    const page = await svc.api<{ chunks: Array<{ data: string; style: string | null }> }>(
      "GET",
      `/api/v1/jobs/${jobId}/log-chunks`,
    );
    const styleOf = (text: string): string | null | undefined =>
      page.body.chunks.find((c) => c.data.includes(text))?.style;
    assert.equal(styleOf("boom"), "error");
    assert.equal(styleOf("▶ uses"), "step");
    assert.equal(styleOf("  | token=***"), "log");
    assert.equal(page.body.chunks.find((c) => c.data === "Job success\n")?.style, "ok");
  });
});
