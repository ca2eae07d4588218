// Agent lifecycle: a rejected token (one clear line, slow retries), stop() with a job running (machine
// destroyed, no process, socket closed, idempotent), stop() while the orchestrator is unreachable,
// and the endpoint derived from the server address.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { agentEndpoint, memoryCredentialStore } from "../../src/agent/index.js";
import { createFakeProvisioner, type Machine, type Provisioner } from "../../src/provisioners/index.js";
import { FakeServer } from "./fake-server.js";
import {
  assignMsg,
  liveMachines,
  logTexts,
  marker,
  markedProcesses,
  recordingLogger,
  tempDir,
  testAgent,
  waitFor,
} from "./helpers.js";

const tmp = tempDir("airlock-agent-life-");
const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
  tmp.remove();
});

describe("agent lifecycle", () => {
  it("derives the WebSocket endpoint from the server address", () => {
    assert.equal(agentEndpoint("http://ci.example:8080"), "ws://ci.example:8080/api/v1/agent");
    assert.equal(agentEndpoint("https://ci.example/airlock/"), "wss://ci.example/airlock/api/v1/agent");
    assert.equal(agentEndpoint("ws://127.0.0.1:1"), "ws://127.0.0.1:1/api/v1/agent");
  });

  it("a refused credential: one clear error line, no hello accepted, slow retries", async () => {
    const server = await new FakeServer().start();
    cleanup.push(() => server.close());
    const log = recordingLogger();
    const { agent } = testAgent(server.url, `${tmp.dir}/unauth`, {
      credentials: memoryCredentialStore("wrong"),
      log,
      backoff: { minMs: 1, maxMs: 1, unauthorizedMs: 600_000 },
    });
    await agent.start();
    await waitFor("unauthorized", () => agent.status().unauthorized);
    const errors = log.records.filter((r) => r.level === "error");
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.msg ?? "", /unauthorized/);
    assert.equal(agent.status().connected, false);
    assert.equal(agent.status().connectAttempts, 1, "the next attempt waits the slow delay");
    assert.equal(server.received.messages.filter((m) => m.type !== "hello").length, 0);
    await agent.stop();
    assert.equal(server.clients, 0);
  });

  it("stop() with a job running destroys its machine and leaves nothing running; idempotent", async () => {
    const server = await new FakeServer({ heartbeatMs: 10, autoAck: false }).start();
    cleanup.push(() => server.close());
    const data = `${tmp.dir}/stop`;
    const t = testAgent(server.url, data);
    const timersBefore = countTimers();
    await t.agent.start();
    await waitFor("welcome", () => t.agent.status().connected);
    const mark = marker();
    server.send(assignMsg(60, `      - run: echo started; sleep 60\n        env:\n          ${mark}: "1"\n`));
    await waitFor("started", () => logTexts(server.outputOf(60)).includes("started"));
    assert.ok(markedProcesses(mark).length > 0);

    await Promise.all([t.agent.stop(), t.agent.stop()]);
    await t.agent.stop();
    assert.deepEqual(t.agent.runningJobs(), []);
    assert.deepEqual(markedProcesses(mark), []);
    assert.deepEqual(liveMachines(t.machinesDir), []);
    await waitFor("socket closed on the server", () => server.clients === 0);
    assert.equal(t.agent.status().connected, false);
    assert.equal(server.ofType("finished").length, 0, "a stopped agent reports no result");
    assert.ok(countTimers() <= timersBefore, "heartbeat and redial timers cleared");
    // The unacked output so far stays for the next agent process on this folder.
    assert.ok(existsSync(`${data}/outbox`) && readdirSync(`${data}/outbox`).includes("60-0.jsonl"));
    await t.agent.start(); // after stop: a no-op, not a reconnect
    assert.equal(server.clients, 0);
  });

  it("a machine that cannot be destroyed does not take the agent down", async () => {
    const server = await new FakeServer().start();
    cleanup.push(() => server.close());
    const fake = createFakeProvisioner({ baseDir: `${tmp.dir}/broken-machines` });
    const broken: Provisioner = {
      name: "broken",
      async create(spec) {
        const m = await fake.create(spec);
        return Object.assign(Object.create(m) as Machine, {
          destroy: async () => {
            await m.destroy();
            throw new Error("disk on fire");
          },
        });
      },
    };
    const log = recordingLogger();
    const { agent } = testAgent(server.url, `${tmp.dir}/broken`, { provisioners: { broken }, log });
    cleanup.push(() => agent.stop());
    await agent.start();
    await waitFor("welcome", () => agent.status().connected);
    const mark = marker();
    server.send(
      assignMsg(70, `      - run: echo started; sleep 60\n        env:\n          ${mark}: "1"\n`, {
        provisioner: "broken",
      }),
    );
    await waitFor("started", () => logTexts(server.outputOf(70)).includes("started"));
    server.send({ type: "cancel", jobId: 70, attempt: 0 });
    const done = await waitFor("finished", () => server.ofType("finished")[0]);
    assert.equal(done.result.conclusion, "cancelled");
    assert.deepEqual(markedProcesses(mark), []);
    assert.ok(log.records.some((r) => r.level === "error" && /destroyed/.test(r.msg ?? "")));
    server.send(assignMsg(71, `      - run: echo still-alive\n`, { provisioner: "broken" }));
    await waitFor("next job", () => server.ofType("finished").find((f) => f.jobId === 71));
  });

  it("stop() while the orchestrator is unreachable ends the redial loop", async () => {
    const server = await new FakeServer().start();
    const url = server.url;
    await server.close(); // nothing listens there any more
    const { agent } = testAgent(url, `${tmp.dir}/unreachable`);
    await agent.start();
    await waitFor("a few attempts", () => agent.status().connectAttempts >= 3);
    await agent.stop();
    const attempts = agent.status().connectAttempts;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(agent.status().connectAttempts, attempts);
  });

  it("an HTTP 401 on the upgrade counts as a rejected token too", async () => {
    const server = await new FakeServer({ rejectUpgrade: 401 }).start();
    cleanup.push(() => server.close());
    const { agent } = testAgent(server.url, `${tmp.dir}/unauth-http`, {
      backoff: { minMs: 1, maxMs: 1, unauthorizedMs: 600_000 },
    });
    await agent.start();
    await waitFor("unauthorized", () => agent.status().unauthorized);
    assert.equal(agent.status().connectAttempts, 1);
    await agent.stop();
  });
});

function countTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}
