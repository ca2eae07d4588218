// The agent gives each machine the flavour's CPU, memory and disk plus the node's own limits, and a
// job over a limit comes back as a failure whose reason is the limit's one line (in the job's log
// once, in `finished`, in the agent's log). Real sandbox machines (root only), a real WebSocket
// test orchestrator.
import assert from "node:assert/strict";
import { chmodSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { createSandboxProvisioner, type Provisioner } from "../../src/provisioners/index.js";
import { loadOptions } from "../../src/config/index.js";
import { ImageStore } from "../../src/images/index.js";
import { defaultImage } from "../helpers/images.js";
import { FakeServer } from "./fake-server.js";
import { assignMsg, recordingLogger, tempDir, testAgent, waitFor, type TestAgent } from "./helpers.js";

const skip = process.getuid?.() === 0 ? false : "needs root (cgroups, loop devices)";

describe("agent limits", { skip }, () => {
  const tmp = tempDir("airlock-agent-limits-");
  const log = recordingLogger();
  let server: FakeServer;
  let t: TestAgent;
  let sandbox: Provisioner;

  before(async () => {
    server = await new FakeServer({ heartbeatMs: 50 }).start();
    // The sandbox's host uid must reach the machines' folders.
    chmodSync(tmp.dir, 0o711);
    sandbox = createSandboxProvisioner({ baseDir: `${tmp.dir}/machines`, diskPool: { warm: 0 } });
    // Real sandboxes run on the node's debian-12 image (built when missing).
    await defaultImage();
    t = testAgent(server.url, `${tmp.dir}/data`, {
      provisioners: { sandbox },
      images: new ImageStore(loadOptions().imagesDir),
      limits: { pids: 77, nofile: 4096, tmpMb: 40 },
      log,
    });
    await t.agent.start();
    await waitFor("welcome", () => t.agent.status().connected);
  });
  after(async () => {
    await t.agent.stop();
    await sandbox.close?.();
    await server.close();
    tmp.remove();
  });

  it("a machine gets the flavour's CPU, memory and disk and the node's process and /tmp limits", async () => {
    const a = assignMsg(
      1,
      `      - run: cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us; df -B1M --output=size /airlock/workspace /tmp | tail -2\n`,
      { provisioner: "sandbox" },
    );
    a.machine = { ...a.machine, cpus: 1.5, memoryMb: 300, diskMb: 200 };
    server.send(a);
    const done = await waitFor("finished", () => server.ofType("finished").find((f) => f.jobId === 1));
    assert.equal(done.result.conclusion, "success");
    const lines = server
      .outputOf(1)
      .flatMap((m) => (m.type === "event" && m.event.type === "log" ? [String(m.event.text).trim()] : []));
    const at = lines.indexOf("77");
    assert.ok(at >= 0, lines.join("\n"));
    const [pids, mem, quota, disk, tmpSize] = lines.slice(at, at + 5);
    assert.equal(pids, "77");
    assert.equal(mem, String(300 * 1024 * 1024));
    assert.equal(quota, "150000");
    assert.ok(Number(disk) > 180 && Number(disk) <= 200, `disk ${disk}`);
    assert.equal(tmpSize, "40");
  });

  it("a job over its memory limit fails with the limit's line as its reason", async () => {
    const a = assignMsg(
      2,
      `      - run: |\n          python3 -c 'a = []\n          while True: a.append(bytearray(8 << 20))'\n      - run: echo never\n`,
      { provisioner: "sandbox" },
    );
    a.machine = { ...a.machine, memoryMb: 100 };
    server.send(a);
    const done = await waitFor("finished", () => server.ofType("finished").find((f) => f.jobId === 2));
    assert.equal(done.result.conclusion, "failure");
    assert.equal(done.result.error, "memory limit 100 MiB exceeded");
    const said = server
      .outputOf(2)
      .filter((m) => m.type === "event" && m.event.type === "annotation")
      .map((m) => (m.type === "event" ? String(m.event.message) : ""));
    assert.deepEqual(said, ["memory limit 100 MiB exceeded"]);
    assert.ok(
      log.records.some(
        (r) =>
          r.msg === "job went over a limit" &&
          (r.obj as { reason?: string }).reason === "memory limit 100 MiB exceeded",
      ),
    );
  });
});
