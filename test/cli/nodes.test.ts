// `airlock nodes`, `images` and `flavours`: the agent token shown once, drain/enable by name,
// labels and required labels sent as lists, numeric validation collected before any request.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runCli, useStubCli } from "./harness.js";

describe("airlock nodes, images, flavours", () => {
  const ctx = useStubCli();

  it("nodes add prints the agent token once; list never shows it", async () => {
    const r = await runCli(
      ["nodes", "add", "builder-1", "--label", "linux", "--label", "x64", "--required-label", "gpu"],
      ctx.env,
    );
    assert.equal(r.code, 0, r.stderr);
    const node = ctx.stub.nodes.find((n) => n.name === "builder-1");
    assert.deepEqual(node?.labels, ["linux", "x64"]);
    assert.deepEqual(node?.requiredLabels, ["gpu"]);
    const token = `node-token-${node?.id}-secret`;
    assert.ok(r.stdout.includes(token));
    assert.ok(r.stdout.includes(`airlock agent --server ${ctx.stub.url} --token ${token}`));

    const list = await runCli(["nodes", "list"], ctx.env);
    assert.ok(!list.stdout.includes("node-token"));
    const lines = list.stdout.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^ID\s+NAME\s+STATUS\s+RUNNING\s+LABELS\s+REQUIRED\s+CAPACITY\s+LAST SEEN$/);
    assert.match(lines[1] ?? "", /builder-1\s+enabled, offline\s+0\s+linux,x64\s+gpu/);
    const json = await runCli(["nodes", "add", "builder-2", "--json"], ctx.env);
    assert.match((JSON.parse(json.stdout) as { token: string }).token, /^node-token-/);
  });

  it("disable drains and enable restores, by name or id; unknown is NOT_FOUND", async () => {
    const off = await runCli(["nodes", "disable", "builder-1"], ctx.env);
    assert.equal(off.code, 0, off.stderr);
    assert.equal(ctx.stub.nodes.find((n) => n.name === "builder-1")?.enabled, false);
    assert.match((await runCli(["nodes", "list"], ctx.env)).stdout, /builder-1\s+disabled, offline/);
    const id = String(ctx.stub.nodes.find((n) => n.name === "builder-1")?.id);
    const on = await runCli(["nodes", "enable", id, "--json"], ctx.env);
    assert.equal((JSON.parse(on.stdout) as { enabled: boolean }).enabled, true);
    const missing = await runCli(["nodes", "disable", "nope"], ctx.env);
    assert.equal(missing.code, 1);
    assert.equal(missing.error?.code, "NOT_FOUND");
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
