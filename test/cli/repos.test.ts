// `airlock repos`: add (secret and webhook URLs printed once), list, remove; validation and
// the server's error codes (409, 404) mapped back to AirlockError.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, useStubCli } from "./harness.js";

describe("airlock repos", () => {
  const ctx = useStubCli();

  it("adds a repository and shows its webhook secret and URLs once", async () => {
    const r = await runCli(
      ["repos", "add", "acme/app", "https://git.example/acme/app.git", "--poll", "60", "--max-jobs", "3"],
      ctx.env,
    );
    assert.equal(r.code, 0, r.stderr);
    const repo = ctx.stub.repos.find((x) => x.name === "acme/app");
    assert.ok(repo);
    assert.equal(repo.pollIntervalSeconds, 60);
    assert.equal(repo.maxConcurrentJobs, 3);
    assert.match(r.stdout, new RegExp(`whsec-${repo.id}-0123456789abcdef`));
    assert.ok(r.stdout.includes(`${ctx.stub.url}/api/v1/webhooks/github/${repo.id}`));
    assert.ok(r.stdout.includes(`${ctx.stub.url}/api/v1/webhooks/bitbucket/${repo.id}`));

    const list = await runCli(["repos", "list"], ctx.env);
    assert.equal(list.code, 0);
    assert.doesNotMatch(list.stdout, /whsec-/);
    const lines = list.stdout.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^ID\s+NAME\s+BRANCH\s+POLL\s+MAX JOBS\s+VISIBILITY\s+CREATED\s+CLONE URL$/);
    assert.match(
      lines[1] ?? "",
      /acme\/app\s+main\s+60s\s+3\s+private\s+2024-05-01 10:00:00\s+https:\/\/git\.example/,
    );
  });

  it("--json prints the API objects", async () => {
    const added = await runCli(["repos", "add", "acme/json", "https://x/y.git", "--json"], ctx.env);
    assert.equal(added.code, 0, added.stderr);
    const created = JSON.parse(added.stdout) as { name: string; webhookSecret: string };
    assert.equal(created.name, "acme/json");
    assert.match(created.webhookSecret, /^whsec-/);
    const list = JSON.parse((await runCli(["repos", "list", "--json"], ctx.env)).stdout) as {
      name: string;
    }[];
    assert.ok(list.some((r) => r.name === "acme/json"));
  });

  it("maps a 409 to CONFLICT with exit code 1", async () => {
    const r = await runCli(["repos", "add", "acme/app", "https://x/y.git"], ctx.env);
    assert.equal(r.code, 1);
    assert.equal(r.error?.code, "CONFLICT");
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });

  it("reports every bad option at once and sends nothing", async () => {
    const before = ctx.stub.requests.length;
    const r = await runCli(
      ["repos", "add", "a/b", "https://x/y.git", "--poll", "soon", "--max-jobs", "0"],
      ctx.env,
    );
    assert.equal(r.code, 2);
    assert.equal(r.error?.code, "USAGE");
    assert.equal((r.error?.details as string[]).length, 2);
    assert.equal(ctx.stub.requests.length, before);
  });

  it("removes by name and by id; an unknown one is NOT_FOUND", async () => {
    await runCli(["repos", "add", "acme/gone", "https://x/gone.git"], ctx.env);
    // Not a terminal and no --yes: refused, saying what it would delete; nothing is deleted.
    const asked = await runCli(["repos", "remove", "acme/gone"], ctx.env);
    assert.equal(asked.code, 2);
    assert.match(
      asked.stderr,
      /^airlock: removing acme\/gone deletes its runs, logs, secrets.*: add --yes to confirm\n$/,
    );
    assert.ok(ctx.stub.repos.some((r) => r.name === "acme/gone"));
    const gone = await runCli(["repos", "remove", "acme/gone", "--yes"], ctx.env);
    assert.equal(gone.code, 0, gone.stderr);
    assert.ok(!ctx.stub.repos.some((r) => r.name === "acme/gone"));
    const id = ctx.stub.repos.find((r) => r.name === "acme/json")?.id;
    assert.equal((await runCli(["repos", "remove", String(id), "--yes"], ctx.env)).code, 0);
    assert.ok(!ctx.stub.repos.some((r) => r.name === "acme/json"));
    const missing = await runCli(["repos", "remove", "acme/never", "--yes"], ctx.env);
    assert.equal(missing.code, 1);
    assert.equal(missing.error?.code, "NOT_FOUND");
  });

  it("dispatch sends event_type and the --payload file as client_payload", async () => {
    const dir = mkdtempSync(join(tmpdir(), "airlock-dispatch-"));
    try {
      const file = join(dir, "payload.json");
      writeFileSync(file, JSON.stringify({ version: "1.2.3", "$(touch /tmp/x)": true }));
      const r = await runCli(["repos", "dispatch", "acme/app", "deploy", "--payload", file], ctx.env);
      assert.equal(r.code, 0, r.stderr);
      const sent = ctx.stub.requests.filter((q) => q.path.endsWith("/dispatches")).at(-1);
      assert.ok(sent);
      assert.deepEqual(JSON.parse(sent.body), {
        event_type: "deploy",
        client_payload: { version: "1.2.3", "$(touch /tmp/x)": true },
      });
      assert.match(r.stdout, /^Run \d+ #1 repository_dispatch main@0123456 queued: /);

      const none = await runCli(["repos", "dispatch", "acme/app", "other"], ctx.env);
      assert.equal(none.code, 0, none.stderr);
      assert.equal(none.stdout, "No workflow of acme/app runs on repository_dispatch 'other'.\n");

      // A payload that is not a JSON object: one line, exit 2, nothing sent.
      writeFileSync(file, "[1, 2]");
      const before = ctx.stub.requests.length;
      const bad = await runCli(["repos", "dispatch", "acme/app", "deploy", "--payload", file], ctx.env);
      assert.equal(bad.code, 2);
      assert.equal(bad.error?.code, "USAGE");
      assert.equal(bad.stderr.trim().split("\n").length, 1);
      assert.equal(ctx.stub.requests.length, before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
