// The agent and the node's image store: hello carries the names in the store; an assigned image
// is resolved by the agent itself — present: the job runs in a real sandbox on that image (as the
// image's runner user); absent: the job is rejected with a reason and nothing runs.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createAgent, memoryCredentialStore, type Agent } from "../../src/agent/index.js";
import { loadOptions } from "../../src/config/index.js";
import { DEFAULT_IMAGE, ImageStore } from "../../src/images/index.js";
import { createSandboxProvisioner } from "../../src/provisioners/index.js";
import { FakeServer } from "../agent/fake-server.js";
import { assignMsg, logTexts, noActions, tempDir, trivialSource, waitFor } from "../agent/helpers.js";
import { defaultImage } from "../helpers/images.js";

describe("agent ↔ image store", () => {
  const tmp = tempDir("airlock-images-agent-");
  let server: FakeServer;
  let agent: Agent;
  let store: ImageStore;

  before(async () => {
    // The node's real store, with debian-12 (built when missing).
    await defaultImage();
    store = new ImageStore(loadOptions().imagesDir);
    server = await new FakeServer({ heartbeatMs: 50 }).start();
    agent = createAgent({
      serverUrl: server.url,
      credentials: memoryCredentialStore("good-token"),
      dataDir: `${tmp.dir}/data`,
      provisioners: { sandbox: createSandboxProvisioner() },
      actions: noActions,
      source: trivialSource,
      images: store,
      backoff: { minMs: 20, maxMs: 200 },
    });
    await agent.start();
    await waitFor("welcome", () => agent.status().connected);
  });
  after(async () => {
    await agent.stop();
    await server.close();
    tmp.remove();
  });

  it("says hello with the images of its store", () => {
    const [hello] = server.ofType("hello");
    assert.deepEqual(hello?.node.images, store.names());
    assert.ok(hello?.node.images.includes(DEFAULT_IMAGE));
  });

  it("runs an assigned job on its image, as the image's runner user", async () => {
    const msg = assignMsg(
      1,
      `      - run: echo "user=$(whoami) uid=$(id -u) home=$HOME"; cat /etc/debian_version\n`,
      {
        provisioner: "sandbox",
      },
    );
    server.send(msg);
    const done = await waitFor(
      "finished",
      () => server.ofType("finished").find((f) => f.jobId === 1),
      60_000,
    );
    const log = logTexts(server.outputOf(1));
    assert.equal(done.result.conclusion, "success", log.join("\n"));
    assert.ok(log.includes("user=runner uid=1001 home=/home/runner"), log.join("\n"));
    assert.ok(
      log.some((l) => /^12\.\d+$/.test(l)),
      log.join("\n"),
    );
    assert.deepEqual(server.ofType("rejected"), []);
  });

  it("rejects a job whose image is not in its store, with the reason, and runs nothing", async () => {
    const msg = assignMsg(2, `      - run: echo should-not-run\n`, { provisioner: "sandbox" });
    msg.machine.image = "not-built-here";
    server.send(msg);
    const r = await waitFor("rejected", () => server.ofType("rejected").find((m) => m.jobId === 2));
    assert.match(r.reason, /image "not-built-here" is not on this node/);
    assert.deepEqual(
      server.ofType("accepted").filter((m) => m.jobId === 2),
      [],
    );
    assert.deepEqual(server.outputOf(2), []);
  });

  it("reports images added or removed while connected, and a removed one before rejecting its job", async () => {
    const name = `airlock-late-${process.pid}`;
    const root = `${tmp.dir}/late-root`;
    mkdirSync(`${root}/etc`, { recursive: true });
    writeFileSync(`${root}/etc/hostname`, "late\n");
    execFileSync("tar", ["-cf", `${tmp.dir}/late.tar`, "-C", root, "."]);
    const seen = (): number => server.ofType("images").length;
    const before = seen();
    await store.add(name, `${tmp.dir}/late.tar`, { importedFrom: "test" });
    const added = await waitFor("images with the new one", () =>
      server
        .ofType("images")
        .slice(before)
        .find((m) => m.images.includes(name)),
    );
    assert.deepEqual(added.images, store.names());
    // Removed, and at once a job for it (assigned before the orchestrator learnt): whichever sends
    // it (the next heartbeat or the reject itself), the new list reaches the orchestrator first.
    const from = server.received.messages.length;
    await store.remove(name);
    const msg = assignMsg(3, `      - run: echo should-not-run\n`, { provisioner: "sandbox" });
    msg.machine.image = name;
    server.send(msg);
    await waitFor("rejected", () => server.ofType("rejected").find((m) => m.jobId === 3));
    const after = server.received.messages.slice(from);
    const rejectedAt = after.findIndex((m) => m.type === "rejected");
    const listedAt = after.findIndex((m) => m.type === "images" && !m.images.includes(name));
    assert.ok(listedAt >= 0 && listedAt < rejectedAt, after.map((m) => m.type).join(","));
    assert.deepEqual(server.outputOf(3), []);
  });
});
