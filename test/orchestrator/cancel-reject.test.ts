// A node that rejects a job attempt right as the job is being cancelled: the orchestrator already sent
// `cancel` (the node ignores it: it never started the attempt), then the `rejected` arrives. The job
// must end as cancelled. Before, the rejection put it back in the queue and it was dispatched again,
// running a job of a cancelled run. The node here is the test itself, speaking the agent protocol.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { PROTOCOL_VERSION, ServerMessage } from "../../src/protocol/agent.js";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { eventually, startTestService, type RunView, type TestService } from "../helpers/service.js";

let t: TestService | undefined;
let ws: WebSocket | undefined;
const repos: TempRepo[] = [];
after(async () => {
  ws?.terminate();
  await t?.stop();
  repos.forEach((r) => r.remove());
});

describe("cancel and reject", () => {
  it("a job rejected after its run was cancelled ends cancelled instead of going back to the queue", async () => {
    t = await startTestService({ leaseMs: 30_000 });
    const svc = t;
    const nodeToken = await svc.nodeCredential("node-x");
    const received: ServerMessage[] = [];
    ws = new WebSocket(`${svc.service.url.replace(/^http/, "ws")}/api/v1/agent`, {
      headers: { authorization: `Bearer ${nodeToken}` },
    });
    ws.on("message", (data: Buffer) => received.push(ServerMessage.parse(JSON.parse(data.toString("utf8")))));
    await new Promise((resolve, reject) => ws!.once("open", resolve).once("error", reject));
    ws.send(
      JSON.stringify({
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
      }),
    );
    await eventually(
      () => Promise.resolve(received.some((m) => m.type === "welcome") || undefined),
      "welcome",
    );

    const repo = makeRepo({
      ".github/workflows/ci.yml":
        "on: push\njobs:\n  one:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n",
    });
    repos.push(repo);
    const r = await svc.api<{ id: number }>("POST", "/api/v1/repositories", {
      name: "acme/rej",
      cloneUrl: repo.dir,
    });
    assert.equal(r.status, 201, r.text);
    const trig = await svc.api<{ runs: Array<{ id: number }> }>(
      "POST",
      `/api/v1/repositories/${r.body.id}/runs`,
      {},
    );
    const runId = trig.body.runs[0]?.id ?? -1;
    const assign = await eventually(
      () => Promise.resolve(received.find((m) => m.type === "assign")),
      "the job's assignment",
    );
    assert.equal(assign.type, "assign");

    const c = await svc.api("POST", `/api/v1/runs/${runId}/cancel`);
    assert.ok(c.status < 300, c.text);
    await eventually(() => Promise.resolve(received.find((m) => m.type === "cancel")), "the cancel message");
    ws.send(
      JSON.stringify({ type: "rejected", jobId: assign.jobId, attempt: assign.attempt, reason: "no room" }),
    );

    const run = await eventually(
      async () => {
        if (received.filter((m) => m.type === "assign").length > 1) return "assigned again" as const;
        const res = await svc.api<RunView>("GET", `/api/v1/runs/${runId}`);
        return res.body.state === "completed" ? res.body : undefined;
      },
      "the cancelled run to complete",
      20_000,
    );
    assert.notEqual(run, "assigned again", "the rejected job of a cancelled run was dispatched again");
    assert.ok(typeof run === "object");
    assert.equal(run.conclusion, "cancelled");
    assert.equal(run.jobs[0]?.conclusion, "cancelled");
    assert.equal(received.filter((m) => m.type === "assign").length, 1);
  });
});
