// `airlock nodes`, `images` and `flavours`: a registration token shown once with the agent command
// that reads it from a file (never argv), registrations listed without tokens, revocation and
// drain/enable by name, labels and required labels sent as lists, numeric validation collected
// before any request.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ListedNode } from "../../src/cli/api/index.js";
import { expiresOption } from "../../src/cli/commands/nodes.js";
import { runCli, useStubCli } from "./harness.js";
import { T0 } from "./stub-runs.js";

function stubNode(id: number, name: string, labels: string[], requiredLabels: string[]): ListedNode {
  return {
    id,
    name,
    labels,
    requiredLabels,
    cpus: 0,
    memoryMb: 0,
    diskMb: 0,
    provisioners: [],
    provisionerInfo: {},
    images: [],
    enabled: true,
    connected: false,
    lastSeenAt: null,
    running: 0,
    createdAt: T0,
    revokedAt: null,
    lastConnectedAt: null,
    credentialRotatedAt: null,
    pool: "default",
    taintedAt: null,
    workerTrust: "trusted",
    operator: null,
    flaggedAt: null,
    flagReason: null,
    draining: false,
  };
}

describe("airlock nodes, images, flavours", () => {
  const ctx = useStubCli();

  it("nodes register-token prints the token once and an agent command without it", async () => {
    const r = await runCli(
      [
        "nodes",
        "register-token",
        "builder-1",
        "--label",
        "linux",
        "--label",
        "x64",
        "--required-label",
        "gpu",
        "--expires",
        "2h",
      ],
      ctx.env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(ctx.stub.requests.at(-1)?.body ?? ""), {
      name: "builder-1",
      labels: ["linux", "x64"],
      requiredLabels: ["gpu"],
      expiresInMinutes: 120,
    });
    const reg = ctx.stub.registrations.find((n) => n.name === "builder-1");
    const token = `alk_reg_stub${reg?.id}_secret`;
    assert.equal(r.stdout.split(token).length, 2, "the token is printed exactly once");
    const command = r.stdout.split("\n").find((l) => l.trim().startsWith("airlock agent"));
    assert.equal(
      command?.trim(),
      `airlock agent --server ${ctx.stub.url} --registration-token-file ./registration-token`,
    );

    const list = await runCli(["nodes", "registrations"], ctx.env);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(!list.stdout.includes("alk_reg_"), "never the token");
    const lines = list.stdout.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^ID\s+NAME\s+STATE\s+LABELS\s+REQUIRED\s+EXPIRES\s+USED\s+NODE$/);
    assert.match(lines[1] ?? "", /builder-1\s+pending\s+linux,x64\s+gpu/);

    const json = await runCli(["nodes", "add", "builder-2", "--json"], ctx.env);
    assert.match((JSON.parse(json.stdout) as { token: string }).token, /^alk_reg_/);
    const id = String(ctx.stub.registrations.find((n) => n.name === "builder-2")?.id);
    const revoked = await runCli(["nodes", "revoke-token", id], ctx.env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(ctx.stub.registrations.find((n) => n.name === "builder-2")?.state, "revoked");
    assert.equal((await runCli(["nodes", "revoke-token", "x"], ctx.env)).code, 2);
  });

  it("refuses a bad --expires before sending anything", async () => {
    const sent = ctx.stub.requests.length;
    for (const expires of ["8d", "0m", "1w", "soon"]) {
      const r = await runCli(["nodes", "register-token", "n", "--expires", expires], ctx.env);
      assert.equal(r.code, 2, expires);
      assert.equal(r.error?.code, "USAGE");
    }
    assert.equal(ctx.stub.requests.length, sent);
    assert.equal(expiresOption("7d", []), 7 * 24 * 60);
    assert.equal(expiresOption("30m", []), 30);
  });

  it("disable drains, enable restores, revoke cuts off, by name or id; unknown is NOT_FOUND", async () => {
    ctx.stub.nodes.push(stubNode(100, "builder-1", ["linux", "x64"], ["gpu"]));
    const listed = await runCli(["nodes", "list"], ctx.env);
    const lines = listed.stdout.trimEnd().split("\n");
    assert.match(
      lines[0] ?? "",
      /^ID\s+NAME\s+POOL\s+WORKER\s+STATUS\s+RUNNING\s+LABELS\s+REQUIRED\s+CAPACITY\s+LAST SEEN$/,
    );
    assert.match(lines[1] ?? "", /builder-1\s+default\s+trusted\s+enabled, offline\s+0\s+linux,x64\s+gpu/);
    const w = await runCli(["nodes", "set-worker", "builder-1", "untrusted", "--operator", "Alice"], ctx.env);
    assert.equal(w.stdout, "Node builder-1 is an untrusted (Alice) worker.\n", w.stderr);
    assert.deepEqual(JSON.parse(ctx.stub.requests.at(-1)?.body ?? ""), {
      workerTrust: "untrusted",
      operator: "Alice",
    });
    assert.match(
      (await runCli(["nodes", "list"], ctx.env)).stdout,
      /builder-1\s+default\s+untrusted \(Alice\)/,
    );
    const own = await runCli(["nodes", "set-worker", "100", "trusted", "--no-operator"], ctx.env);
    assert.equal(own.code, 0, own.stderr);
    assert.deepEqual(JSON.parse(ctx.stub.requests.at(-1)?.body ?? ""), {
      workerTrust: "trusted",
      operator: null,
    });
    assert.equal(own.stderr, "");
    // An untrusted node nobody is named for: said, since it never counts towards corroborated.
    const nameless = await runCli(["nodes", "set-worker", "100", "untrusted", "--no-operator"], ctx.env);
    assert.equal(nameless.code, 0, nameless.stderr);
    assert.match(
      nameless.stderr,
      /^airlock: warning: an untrusted node with no operator never counts towards corroborated/,
    );
    assert.equal((await runCli(["nodes", "set-worker", "100", "trusted", "--no-operator"], ctx.env)).code, 0);
    const bad = await runCli(["nodes", "set-worker", "builder-1", "maybe"], ctx.env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /trusted or untrusted, got 'maybe'/);
    const off = await runCli(["nodes", "disable", "builder-1"], ctx.env);
    assert.equal(off.code, 0, off.stderr);
    assert.equal(ctx.stub.nodes.find((n) => n.name === "builder-1")?.enabled, false);
    assert.match(
      (await runCli(["nodes", "list"], ctx.env)).stdout,
      /builder-1\s+default\s+trusted\s+disabled, offline/,
    );
    const on = await runCli(["nodes", "enable", "100", "--json"], ctx.env);
    assert.equal((JSON.parse(on.stdout) as { enabled: boolean }).enabled, true);
    const missing = await runCli(["nodes", "disable", "nope"], ctx.env);
    assert.equal(missing.code, 1);
    assert.equal(missing.error?.code, "NOT_FOUND");
    const revoked = await runCli(["nodes", "revoke", "builder-1"], ctx.env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /Node builder-1 revoked/);
    assert.equal(ctx.stub.requests.at(-1)?.path, "/api/v1/nodes/100/revoke");
    assert.match(
      (await runCli(["nodes", "list"], ctx.env)).stdout,
      /builder-1\s+default\s+trusted\s+revoked/,
    );
    const removed = await runCli(["nodes", "remove", "builder-1"], ctx.env);
    assert.equal(removed.stdout, "Node builder-1 removed; its credential no longer works.\n");
    assert.deepEqual(
      [ctx.stub.requests.at(-1)?.method, ctx.stub.requests.at(-1)?.path],
      ["DELETE", "/api/v1/nodes/100"],
    );
    assert.ok(!(await runCli(["nodes", "list"], ctx.env)).stdout.includes("builder-1"));
  });

  it("a node whose agent is stopping gracefully shows as stopping, unlike a disabled one", async () => {
    ctx.stub.nodes.push({ ...stubNode(101, "builder-2", [], []), connected: true, draining: true });
    const listed = await runCli(["nodes", "list"], ctx.env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /builder-2\s+default\s+trusted\s+enabled, connected, stopping\s+0/);
    ctx.stub.nodes.splice(
      ctx.stub.nodes.findIndex((n) => n.id === 101),
      1,
    );
  });

  it("images add and list", async () => {
    const r = await runCli(
      ["images", "add", "debian-12", "--label", "debian-12", "--required-label", "big"],
      ctx.env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(ctx.stub.requests.at(-1)?.body ?? ""), {
      name: "debian-12",
      labels: ["debian-12"],
      requiredLabels: ["big"],
    });
    const list = await runCli(["images", "list"], ctx.env);
    assert.match(list.stdout, /debian-12\s+sandbox\s+debian-12\s+big$/m);
    const json = JSON.parse((await runCli(["images", "list", "--json"], ctx.env)).stdout) as {
      name: string;
    }[];
    assert.deepEqual(
      json.map((i) => i.name),
      ["debian-12"],
    );
  });

  it("flavours add sends numbers; bad numbers are all reported, exit 2, nothing sent", async () => {
    const ok = await runCli(
      ["flavours", "add", "small", "--cpus", "2", "--memory", "2048", "--disk", "10240"],
      ctx.env,
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ctx.stub.requests.at(-1)?.body ?? ""), {
      name: "small",
      cpus: 2,
      memoryMb: 2048,
      diskMb: 10240,
      labels: [],
      requiredLabels: [],
    });
    assert.match((await runCli(["flavours", "list"], ctx.env)).stdout, /small\s+2\s+2048 MiB\s+10240 MiB/);

    const sent = ctx.stub.requests.length;
    const bad = await runCli(
      ["flavours", "add", "huge", "--cpus", "0", "--memory", "lots", "--disk", "1"],
      ctx.env,
    );
    assert.equal(bad.code, 2);
    assert.equal(bad.error?.code, "USAGE");
    assert.equal((bad.error?.details as string[]).length, 2);
    const missing = await runCli(["flavours", "add", "huge", "--cpus", "1"], ctx.env);
    assert.equal(missing.code, 2);
    assert.equal(ctx.stub.requests.length, sent);
  });
});
