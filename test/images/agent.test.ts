// The agent and the node's image store: hello carries the names in the store; an assigned image
// is resolved by the agent itself — present: the job runs in a real sandbox on that image (as the
// image's runner user); absent: the job is rejected with a reason and nothing runs.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createAgent, type Agent } from "../../src/agent/index.js";
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
      token: "good-token",
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
});
