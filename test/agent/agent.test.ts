// Agent basics against a real WebSocket test orchestrator and the fake provisioner: hello content,
// heartbeats, assign → accepted → events in seq order → finished, duplicate assigns, unknown
// provisioner, cancel destroying the machine at once, and a failing step's result.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import os from "node:os";
import { PROTOCOL_VERSION } from "../../src/protocol/agent.js";
import { FakeServer } from "./fake-server.js";
import {
  assignMsg,
  liveMachines,
  logTexts,
  marker,
  markedProcesses,
  tempDir,
  testAgent,
  waitFor,
  type TestAgent,
} from "./helpers.js";

describe("agent", () => {
  const tmp = tempDir("airlock-agent-");
  let server: FakeServer;
  let t: TestAgent;

  before(async () => {
    server = await new FakeServer({ heartbeatMs: 20 }).start();
    t = testAgent(server.url, `${tmp.dir}/data`);
    await t.agent.start();
    await waitFor("welcome", () => t.agent.status().connected);
  });
  after(async () => {
    await t.agent.stop();
    await server.close();
    tmp.remove();
  });

  it("says hello with the node's capacity, labels, provisioners and images", () => {
    const [hello, ...more] = server.ofType("hello");
    assert.ok(hello);
    assert.equal(more.length, 0);
    assert.equal(hello.protocol, PROTOCOL_VERSION);
    assert.deepEqual(hello.node.labels, ["linux", "test"]);
    assert.deepEqual(hello.node.provisioners, ["fake"]);
    assert.match(hello.node.provisionerInfo?.fake ?? "", /no isolation/);
    assert.deepEqual(hello.node.images, ["debian-12"]);
    assert.equal(hello.node.cpus, os.cpus().length);
    assert.equal(hello.node.memoryMb, Math.floor(os.totalmem() / 1024 / 1024));
    assert.ok(hello.node.diskMb >= 1);
    assert.deepEqual(hello.running, []);
    assert.equal(t.agent.status().nodeId, 7);
  });

  it("heartbeats at the welcome's interval", async () => {
    await waitFor("two heartbeats", () => server.ofType("heartbeat").length >= 2);
    assert.deepEqual(server.ofType("heartbeat")[0]?.running, []);
  });

  it("runs an assigned job: accepted, events in seq order, finished; the machine is gone", async () => {
    server.send(assignMsg(1, `      - run: echo one\n      - run: echo two; echo three\n`));
    const done = await waitFor("finished", () => server.ofType("finished").find((f) => f.jobId === 1));
    assert.equal(done.result.conclusion, "success");
    assert.deepEqual(
      server.ofType("accepted").filter((a) => a.jobId === 1),
      [{ type: "accepted", jobId: 1, attempt: 0 }],
    );
    const out = server.outputOf(1);
    assert.deepEqual(
      out.map((m) => m.seq),
      out.map((_, i) => i + 1),
    );
    assert.equal(out.at(-1)?.type, "finished");
    const events = out.flatMap((m) => (m.type === "event" ? [m.event] : []));
    assert.equal(events[0]?.type, "job-started");
    assert.equal(events.filter((e) => e.type === "step-finished").length, 2);
    assert.deepEqual(
      logTexts(out).filter((l) => /^(one|two|three)$/.test(l)),
      ["one", "two", "three"],
    );
    assert.deepEqual(liveMachines(t.machinesDir), []);
    await waitFor("job gone", () => t.agent.runningJobs().length === 0);
    assert.deepEqual(server.received.violations, []);
  });

  it("reports a failing step as a failed job", async () => {
    server.send(assignMsg(2, `      - run: exit 3\n      - run: echo never\n`));
    const done = await waitFor("finished", () => server.ofType("finished").find((f) => f.jobId === 2));
    assert.equal(done.result.conclusion, "failure");
    assert.ok(!logTexts(server.outputOf(2)).includes("never"));
  });

  it("ignores a duplicate assign of a job attempt it already has", async () => {
    const gate = `${tmp.dir}/gate-3`;
    const msg = assignMsg(3, `      - run: while [ ! -f '${gate}' ]; do sleep 0.02; done; echo passed\n`);
    server.send(msg);
    server.send(msg);
    await waitFor("running", () => t.agent.runningJobs().some((j) => j.jobId === 3));
    server.send(msg);
    await waitFor("step started", () =>
      server.outputOf(3).some((m) => m.type === "event" && m.event.type === "step-started"),
    );
    server.send(msg);
    const { writeFileSync } = await import("node:fs");
    writeFileSync(gate, "");
    await waitFor("finished", () => server.ofType("finished").find((f) => f.jobId === 3));
    server.send(msg); // after the end: still the same attempt, still ignored
    server.send(assignMsg(99, `      - run: "true"\n`)); // a later message, to know the repeat was handled
    await waitFor("job 99", () => server.ofType("finished").find((f) => f.jobId === 99));
    assert.equal(server.ofType("accepted").filter((a) => a.jobId === 3).length, 1);
    const out = server.outputOf(3);
    assert.equal(out.filter((m) => m.type === "event" && m.event.type === "job-started").length, 1);
    assert.equal(out.filter((m) => m.type === "finished").length, 1);
    assert.equal(logTexts(out).filter((l) => l === "passed").length, 1);
  });

  it("rejects a job for a provisioner it does not have", async () => {
    server.send(assignMsg(4, `      - run: "true"\n`, { provisioner: "vm" }));
    const r = await waitFor("rejected", () => server.ofType("rejected").find((m) => m.jobId === 4));
    assert.equal(r.attempt, 0);
    assert.equal(server.ofType("accepted").filter((a) => a.jobId === 4).length, 0);
  });

  it("cancel destroys the machine at once: finished cancelled, no job process left", async () => {
    const mark = marker();
    server.send(
      assignMsg(
        5,
        `      - run: echo sleeping; sleep 60\n        env:\n          ${mark}: "1"\n      - if: always()\n        run: echo always-ran\n`,
      ),
    );
    await waitFor("sleeping", () => logTexts(server.outputOf(5)).includes("sleeping"));
    assert.ok(markedProcesses(mark).length > 0, "the step's processes run with the marker");
    server.send({ type: "cancel", jobId: 5, attempt: 0 });
    const done = await waitFor("finished", () => server.ofType("finished").find((f) => f.jobId === 5));
    assert.equal(done.result.conclusion, "cancelled");
    assert.deepEqual(markedProcesses(mark), []);
    assert.ok(!logTexts(server.outputOf(5)).includes("always-ran"));
    assert.deepEqual(liveMachines(t.machinesDir), []);
    server.send({ type: "cancel", jobId: 5, attempt: 0 }); // idempotent, unknown now: ignored
    assert.deepEqual(server.received.violations, []);
  });
});
