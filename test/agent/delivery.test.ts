// Output delivery through the outbox: an orchestrator restart mid-job (resend exactly after the stored
// seq, then live), unacked output surviving an agent restart, the outbox bound with its one marker,
// leftovers with a torn last line, and `abandon` dropping a job attempt's machine and output.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
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
} from "./helpers.js";

const tmp = tempDir("airlock-agent-delivery-");
const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
  tmp.remove();
});

const outboxFiles = (dataDir: string): string[] =>
  existsSync(`${dataDir}/outbox`) ? readdirSync(`${dataDir}/outbox`) : [];

const gateWait = (file: string): string => `while [ ! -f '${file}' ]; do sleep 0.02; done`;

describe("agent output delivery", () => {
  it("keeps running through an orchestrator restart and resends exactly after the stored seq", async () => {
    const data = `${tmp.dir}/restart`;
    const server1 = await new FakeServer({ autoAck: false }).start();
    const { agent } = testAgent(server1.url, data);
    cleanup.push(() => agent.stop());
    await agent.start();
    await waitFor("welcome", () => agent.status().connected);
    const [g1, g2] = [`${tmp.dir}/g1`, `${tmp.dir}/g2`];
    server1.send(
      assignMsg(
        10,
        `      - run: echo a1; echo a2; echo a3\n` +
          `      - run: ${gateWait(g1)}; echo b1; echo b2\n` +
          `      - run: ${gateWait(g2)}; echo c1\n`,
      ),
    );
    await waitFor("a3", () => logTexts(server1.outputOf(10)).includes("a3"));
    const seen1 = server1.outputOf(10).map((m) => m.seq);
    const port = server1.port;
    await server1.close();

    // While the orchestrator is down the job goes on: step 2 runs and its output waits in the outbox.
    writeFileSync(g1, "");
    await waitFor("b2 in the outbox", () => readOutbox(data, "10-0").includes('"b2"'));
    assert.deepEqual(agent.runningJobs(), [{ jobId: 10, attempt: 0 }]);

    // The new orchestrator stored less than the old one received (it crashed before writing it all).
    const stored = 2;
    assert.ok(seen1.length > stored);
    const server2 = await new FakeServer({ port, stored: { "10-0": stored } }).start();
    cleanup.push(() => server2.close());
    const hello = await waitFor("hello", () => server2.ofType("hello")[0]);
    assert.deepEqual(hello.running, [{ jobId: 10, attempt: 0 }]);
    await waitFor("accepted repeated", () => server2.ofType("accepted")[0]);
    await waitFor("b2 resent", () => logTexts(server2.outputOf(10)).includes("b2"));
    writeFileSync(g2, "");
    const done = await waitFor("finished", () => server2.ofType("finished")[0]);
    assert.equal(done.result.conclusion, "success");

    const seqs = server2.outputOf(10).map((m) => m.seq);
    const expected = Array.from({ length: done.seq - stored }, (_, i) => stored + 1 + i);
    assert.deepEqual(seqs, expected, "exactly stored+1..end, in order, once each");
    const all = [...server1.outputOf(10).filter((m) => m.seq <= stored), ...server2.outputOf(10)];
    assert.deepEqual(
      logTexts(all).filter((l) => /^[abc]\d$/.test(l)),
      ["a1", "a2", "a3", "b1", "b2", "c1"],
    );
    await waitFor("outbox emptied", () => outboxFiles(data).length === 0);
    assert.deepEqual(server1.received.violations, []);
    assert.deepEqual(server2.received.violations, []);
  });

  it("unacked output survives an agent restart and is resent by the next agent on the data folder", async () => {
    const data = `${tmp.dir}/survive`;
    const server1 = await new FakeServer({ autoAck: false }).start();
    const first = testAgent(server1.url, data);
    await first.agent.start();
    await waitFor("welcome", () => first.agent.status().connected);
    server1.send(assignMsg(20, `      - run: echo x1; echo x2\n`));
    await waitFor("finished sent", () => server1.ofType("finished")[0]);
    await waitFor("job over", () => first.agent.runningJobs().length === 0);
    await server1.close();
    await first.agent.stop();
    assert.deepEqual(outboxFiles(data), ["20-0.jsonl"]);

    const server2 = await new FakeServer().start();
    cleanup.push(() => server2.close());
    const second = testAgent(server2.url, data);
    cleanup.push(() => second.agent.stop());
    await second.agent.start();
    const done = await waitFor("finished resent", () => server2.ofType("finished")[0]);
    assert.equal(done.result.conclusion, "success");
    assert.deepEqual(
      server2.outputOf(20).map((m) => m.seq),
      server1.outputOf(20).map((m) => m.seq),
    );
    assert.deepEqual(logTexts(server2.outputOf(20)).slice(-2), ["x1", "x2"]);
    assert.deepEqual(server2.ofType("hello")[0]?.running, [], "a leftover is not a running job");
    await waitFor("outbox emptied once acked", () => outboxFiles(data).length === 0);
  });

  it("resends a crashed agent's leftover up to its torn last line, and deletes it once acked", async () => {
    const data = `${tmp.dir}/torn`;
    mkdirSync(`${data}/outbox`, { recursive: true });
    const ev = (seq: number, text: string): string =>
      JSON.stringify({
        type: "event",
        jobId: 30,
        attempt: 1,
        seq,
        event: { type: "log", stream: "stdout", kind: "line", text },
      });
    writeFileSync(`${data}/outbox/30-1.jsonl`, `${ev(1, "l1")}\n${ev(2, "l2")}\n{"type":"event","jo`);
    const server = await new FakeServer().start();
    cleanup.push(() => server.close());
    const { agent } = testAgent(server.url, data);
    cleanup.push(() => agent.stop());
    await agent.start();
    await waitFor("resent", () => server.outputOf(30, 1).length === 2);
    assert.deepEqual(logTexts(server.outputOf(30, 1)), ["l1", "l2"]);
    await waitFor("deleted once acked", () => outboxFiles(data).length === 0);
  });

  it("bounds the outbox: drops log lines past the bound with one marker, never steps or finished", async () => {
    const data = `${tmp.dir}/bound`;
    const server = await new FakeServer({ autoAck: false }).start();
    cleanup.push(() => server.close());
    const { agent } = testAgent(server.url, data, { outboxMaxBytes: 8 * 1024 });
    cleanup.push(() => agent.stop());
    await agent.start();
    await waitFor("welcome", () => agent.status().connected);
    server.send(
      assignMsg(40, `      - run: for i in $(seq 1 500); do echo "line $i"; done\n      - run: echo last\n`),
    );
    const done = await waitFor("finished", () => server.ofType("finished")[0]);
    assert.equal(done.result.conclusion, "success");
    const out = server.outputOf(40);
    assert.deepEqual(
      out.map((m) => m.seq),
      out.map((_, i) => i + 1),
      "no gaps",
    );
    const markers = logTexts(out).filter((l) => l.includes("outbox full"));
    assert.equal(markers.length, 1);
    const dropped = Number(/(\d+) lines dropped/.exec(markers[0]!)?.[1]);
    const kept = logTexts(out).filter((l) => /^line \d+$/.test(l));
    assert.deepEqual(
      kept,
      kept.map((_, i) => `line ${i + 1}`),
      "the lines that fit, in order",
    );
    assert.ok(dropped >= 500 - kept.length, "every line is either delivered or counted in the marker");
    const events = out.flatMap((m) => (m.type === "event" ? [m.event] : []));
    assert.equal(events.filter((e) => e.type === "step-finished").length, 2);
    assert.equal(events.filter((e) => e.type === "job-finished").length, 1);
    assert.ok(agent.status().outboxBytes > 8 * 1024, "steps and finished go in past the bound");
    assert.deepEqual(server.received.violations, []);
  });

  it("abandon in a welcome destroys the job's machine and drops its output", async () => {
    const data = `${tmp.dir}/abandon`;
    const mark = marker();
    const server1 = await new FakeServer({ autoAck: false }).start();
    const t = testAgent(server1.url, data);
    cleanup.push(() => t.agent.stop());
    await t.agent.start();
    await waitFor("welcome", () => t.agent.status().connected);
    server1.send(
      assignMsg(50, `      - run: echo started; sleep 60\n        env:\n          ${mark}: "1"\n`),
    );
    await waitFor("started", () => logTexts(server1.outputOf(50)).includes("started"));
    const port = server1.port;
    await server1.close();
    const server2 = await new FakeServer({ port, abandon: [{ jobId: 50, attempt: 0 }] }).start();
    cleanup.push(() => server2.close());
    await waitFor("job gone", () => t.agent.runningJobs().length === 0);
    assert.deepEqual(markedProcesses(mark), []);
    assert.deepEqual(liveMachines(t.machinesDir), []);
    assert.deepEqual(outboxFiles(data), []);
    assert.deepEqual(server2.outputOf(50), [], "nothing of an abandoned attempt is resent");
  });
});

function readOutbox(data: string, key: string): string {
  try {
    return readFileSync(`${data}/outbox/${key}.jsonl`, "utf8");
  } catch {
    return "";
  }
}
