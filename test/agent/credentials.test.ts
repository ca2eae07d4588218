// The agent's node credential: the file store (0600 in a 0700 folder, replaced atomically, refused
// when open to others), the first start's registration (exchanged once, saved before use; refused
// without a token), and rotation against a test orchestrator that rotates like the real one: the
// new credential is saved before it is acknowledged or used, a dial waits for a save under way, and
// a save that fails keeps the old credential (never a lockout).
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  fileCredentialStore,
  memoryCredentialStore,
  registerEndpoint,
  type CredentialStore,
} from "../../src/agent/index.js";
import { FakeServer } from "./fake-server.js";
import { tempDir, testAgent, waitFor } from "./helpers.js";

const tmp = tempDir("airlock-agent-cred-");
const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
  tmp.remove();
});

const mode = (path: string): number => statSync(path).mode & 0o777;

describe("the credential file", () => {
  it("is written 0600 in a folder made 0700, replaced whole, with no temporary file left", async () => {
    const path = join(tmp.dir, "made", "here", "node-credential");
    const store = fileCredentialStore(path);
    assert.equal(await store.load(), undefined);
    const umask = process.umask(0);
    try {
      await store.save("alk_node_first");
    } finally {
      process.umask(umask);
    }
    assert.equal(mode(path), 0o600);
    assert.equal(mode(join(tmp.dir, "made", "here")), 0o700);
    await store.save("alk_node_second");
    assert.equal(await store.load(), "alk_node_second");
    assert.equal(readFileSync(path, "utf8"), "alk_node_second\n");
    assert.deepEqual(readdirSync(join(tmp.dir, "made", "here")), ["node-credential"]);
  });

  it("is refused when other users may read it, or when it is empty", async () => {
    const path = join(tmp.dir, "open-credential");
    writeFileSync(path, "alk_node_x\n");
    chmodSync(path, 0o644);
    await assert.rejects(fileCredentialStore(path).load(), { code: "CONFIG_INVALID", message: /chmod 600/ });
    writeFileSync(path, "\n");
    chmodSync(path, 0o600);
    await assert.rejects(fileCredentialStore(path).load(), { code: "CONFIG_INVALID" });
  });
});

describe("registration on the first start", () => {
  it("exchanges the token once, saves the credential, and connects with it", async () => {
    const server = await new FakeServer({ token: "first-credential", registration: "alk_reg_once" }).start();
    cleanup.push(() => server.close());
    const path = join(tmp.dir, "reg", "node-credential");
    const { agent } = testAgent(server.url, join(tmp.dir, "reg"), {
      credentials: fileCredentialStore(path),
      registrationToken: "alk_reg_once",
    });
    await agent.start();
    await waitFor("welcome", () => agent.status().connected);
    assert.equal(readFileSync(path, "utf8"), "first-credential\n");
    assert.deepEqual(server.exchanges, [201]);
    assert.deepEqual(server.authorizations, ["Bearer first-credential"]);
    await agent.stop();

    // The next start uses the file; the used token is not presented again.
    const again = testAgent(server.url, join(tmp.dir, "reg"), {
      credentials: fileCredentialStore(path),
      registrationToken: "alk_reg_once",
    }).agent;
    await again.start();
    await waitFor("welcome", () => again.status().connected);
    assert.deepEqual(server.exchanges, [201]);
    await again.stop();
  });

  it("refuses to start without a credential or a registration token, or with a refused token", async () => {
    const server = await new FakeServer({ registration: "alk_reg_right" }).start();
    cleanup.push(() => server.close());
    const none = testAgent(server.url, join(tmp.dir, "none"), { credentials: memoryCredentialStore() });
    await assert.rejects(none.agent.start(), { code: "USAGE", message: /registration token/ });
    await none.agent.stop();
    const wrong = testAgent(server.url, join(tmp.dir, "wrong"), {
      credentials: memoryCredentialStore(),
      registrationToken: "alk_reg_wrong",
    });
    await assert.rejects(wrong.agent.start(), { code: "UNAUTHORIZED" });
    await wrong.agent.stop();
    assert.equal(server.received.connections, 0);
    assert.equal(registerEndpoint("https://ci.example/x/"), "https://ci.example/x/api/v1/agent/register");
    assert.equal(registerEndpoint("ws://127.0.0.1:9"), "http://127.0.0.1:9/api/v1/agent/register");
  });
});

describe("rotation", () => {
  it("saves each new credential, acknowledges it, and reconnects with it; the old one is dead", async () => {
    const server = await new FakeServer({ rotate: true }).start();
    cleanup.push(() => server.close());
    const path = join(tmp.dir, "rot", "node-credential");
    const store = fileCredentialStore(path);
    await store.save("good-token");
    const { agent } = testAgent(server.url, join(tmp.dir, "rot"), { credentials: store });
    cleanup.push(() => agent.stop());
    await agent.start();
    await waitFor("the first rotation saved", () => server.current === "rotated-1");
    assert.equal(readFileSync(path, "utf8"), "rotated-1\n");
    assert.equal(mode(path), 0o600);
    assert.equal(server.ofType("credential-saved").length, 1);

    server.dropConnections();
    await waitFor("the second rotation saved", () => server.current === "rotated-2");
    assert.deepEqual(server.authorizations, ["Bearer good-token", "Bearer rotated-1"]);
    assert.equal(readFileSync(path, "utf8"), "rotated-2\n");
    assert.equal(agent.status().credentialsSaved, 2);
    assert.equal(server.received.violations.length, 0);
    await agent.stop();
  });

  it("a dial waits for a save under way, then uses the new credential", async () => {
    const server = await new FakeServer({ rotate: true }).start();
    cleanup.push(() => server.close());
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inner = memoryCredentialStore("good-token");
    const slow: CredentialStore = {
      where: "slow",
      load: () => inner.load(),
      save: async (c) => {
        await gate;
        await inner.save(c);
      },
    };
    const { agent } = testAgent(server.url, join(tmp.dir, "slow"), { credentials: slow });
    cleanup.push(() => agent.stop());
    await agent.start();
    await waitFor("the credential sent", () => server.pending === "rotated-1");
    server.dropConnections();
    await waitFor("a redial started", () => agent.status().connectAttempts >= 2);
    release();
    await waitFor("reconnected", () => server.authorizations.length >= 2);
    assert.equal(server.authorizations[1], "Bearer rotated-1", "dialled with the saved credential");
    await waitFor("the next rotation saved", () => server.current === "rotated-2");
    await agent.stop();
  });

  it("a save that fails is not acknowledged, and the old credential goes on working", async () => {
    const server = await new FakeServer({ rotate: true }).start();
    cleanup.push(() => server.close());
    const broken: CredentialStore = {
      where: "read-only",
      load: () => Promise.resolve("good-token"),
      save: () => Promise.reject(new Error("EROFS: read-only file system")),
    };
    const { agent } = testAgent(server.url, join(tmp.dir, "ro"), { credentials: broken });
    cleanup.push(() => agent.stop());
    await agent.start();
    await waitFor("welcome", () => agent.status().connected);
    server.dropConnections();
    await waitFor("reconnected", () => server.authorizations.length >= 2 && agent.status().connected);
    assert.deepEqual(server.authorizations.slice(0, 2), ["Bearer good-token", "Bearer good-token"]);
    assert.equal(server.ofType("credential-saved").length, 0);
    assert.equal(server.current, "good-token");
    await agent.stop();
  });
});
