// `airlock repos edit` against a real server and database: clone URL, default branch, poll interval
// and job limit change while the webhook secret stays; a password in a new clone URL is sealed as
// the clone-password credential exactly as at registration (never in the row, the answer, the
// output or the audit log); a clone URL moving to another host while a clone password is stored
// is refused; every bad value is one line with a stable code and changes nothing.
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { listSourceCredentials, webhookSecretOf } from "../../src/secrets/index.js";
import { runCli, stubEnv, tempHome } from "../cli/harness.js";
import { startTestServer, type TestServer } from "./helpers.js";

let s: TestServer;
let env: NodeJS.ProcessEnv;
const home = tempHome();

before(async () => {
  s = await startTestServer();
  await s.app.listen({ host: "127.0.0.1", port: 0 });
  env = stubEnv(`http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`, home.dir, s.admin);
});
after(async () => {
  await s?.close();
  home.remove();
});

interface Repo {
  id: number;
  name: string;
  cloneUrl: string;
  defaultBranch: string;
  pollIntervalSeconds: number | null;
  maxConcurrentJobs: number | null;
}

async function add(name: string, cloneUrl: string): Promise<Repo & { webhookSecret: string }> {
  const r = await runCli(["repos", "add", name, cloneUrl, "--poll", "60", "--max-jobs", "3", "--json"], env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Repo & { webhookSecret: string };
}

async function row(id: number): Promise<Repo> {
  const r = await s.app.inject({ method: "GET", url: `/api/v1/repositories/${id}`, headers: s.auth });
  return JSON.parse(r.body) as Repo;
}

async function auditOf(id: number): Promise<Array<{ action: string; details: Record<string, unknown> }>> {
  const { rows } = await s.db.pool.query<{ action: string; details: Record<string, unknown> }>(
    "SELECT action, details FROM audit_log WHERE object_kind = 'repository' AND object_id = $1 ORDER BY seq",
    [String(id)],
  );
  return rows;
}

describe("airlock repos edit", () => {
  it("changes branch, poll interval and job limit by name; the webhook secret stays; audited", async () => {
    const repo = await add("acme/edit", "https://git.example/acme/edit.git");
    const r = await runCli(
      ["repos", "edit", "acme/edit", "--default-branch", "trunk", "--poll", "300", "--max-jobs", "7"],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Repository acme\/edit changed \(webhook secret unchanged\):\n/);
    assert.match(r.stdout, /acme\/edit\s+trunk\s+300s\s+7\s/);
    const now = await row(repo.id);
    assert.deepEqual(
      [now.defaultBranch, now.pollIntervalSeconds, now.maxConcurrentJobs, now.cloneUrl],
      ["trunk", 300, 7, "https://git.example/acme/edit.git"],
    );
    assert.equal(await webhookSecretOf(s.db.pool, s.kms, repo.id), repo.webhookSecret);
    assert.ok(!r.stdout.includes(repo.webhookSecret));

    const off = await runCli(["repos", "edit", String(repo.id), "--no-poll", "--no-max-jobs", "--json"], env);
    assert.equal(off.code, 0, off.stderr);
    const json = JSON.parse(off.stdout) as Repo & { webhookSecret?: string };
    assert.deepEqual([json.pollIntervalSeconds, json.maxConcurrentJobs], [null, null]);
    assert.equal(json.webhookSecret, undefined);
    assert.equal((await row(repo.id)).defaultBranch, "trunk", "what was not asked stays");

    // Visibility: public shows its status badges to anyone; shown by the list.
    const pub = await runCli(["repos", "edit", "acme/edit", "--visibility", "public"], env);
    assert.equal(pub.code, 0, pub.stderr);
    assert.match(pub.stdout, /acme\/edit\s+trunk\s+-\s+-\s+public\s/);
    assert.equal(((await row(repo.id)) as Repo & { visibility: string }).visibility, "public");
    const listed = await runCli(["repos", "list"], env);
    assert.match(listed.stdout, /VISIBILITY/);
    assert.match(listed.stdout, /acme\/edit\s+trunk\s+.*public/);

    const entries = (await auditOf(repo.id)).filter((e) => e.action === "repository.changed");
    assert.equal(entries.length, 3);
    assert.deepEqual(entries[2]!.details, {
      name: "acme/edit",
      visibility: { from: "private", to: "public" },
    });
    assert.deepEqual(entries[0]!.details, {
      name: "acme/edit",
      defaultBranch: { from: "main", to: "trunk" },
      pollIntervalSeconds: { from: 60, to: 300 },
      maxConcurrentJobs: { from: 3, to: 7 },
    });
  });

  it("repos add --visibility public makes a public repository (default private); a bad value is one line", async () => {
    const pub = await runCli(
      ["repos", "add", "acme/open", "https://git.example/acme/open.git", "--visibility", "public", "--json"],
      env,
    );
    assert.equal(pub.code, 0, pub.stderr);
    const created = JSON.parse(pub.stdout) as Repo & { visibility: string };
    assert.equal(created.visibility, "public");
    assert.equal(((await row(created.id)) as Repo & { visibility: string }).visibility, "public");
    const plain = await add("acme/closed", "https://git.example/acme/closed.git");
    assert.equal(((await row(plain.id)) as Repo & { visibility: string }).visibility, "private");
    const bad = await runCli(
      ["repos", "add", "acme/bad", "https://git.example/acme/bad.git", "--visibility", "internal"],
      env,
    );
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
    assert.match(bad.stderr, /--visibility must be public or private/);
    const api = await s.app.inject({
      method: "POST",
      url: "/api/v1/repositories",
      headers: s.auth,
      payload: { name: "acme/bad", cloneUrl: "https://git.example/acme/bad.git", visibility: "internal" },
    });
    assert.equal(api.statusCode, 400);
    const none = await s.app.inject({ method: "GET", url: "/api/v1/repositories", headers: s.auth });
    assert.ok(!(JSON.parse(none.body) as Repo[]).some((r) => r.name === "acme/bad"), "nothing was added");
  });

  it("a password in a new clone URL is sealed as the clone password, never kept or shown", async () => {
    const repo = await add("acme/private", "https://git.example/acme/private.git");
    const r = await runCli(
      ["repos", "edit", "acme/private", "--clone-url", "https://bot:s3cr3t-pw@git.example/acme/moved.git"],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const now = await row(repo.id);
    assert.equal(now.cloneUrl, "https://git.example/acme/moved.git");
    const kinds = (await listSourceCredentials(s.db.pool, repo.id)).map((c) => c.kind);
    assert.deepEqual(kinds, ["clone-password", "webhook-secret"]);
    const { rows } = await s.db.pool.query("SELECT clone_url FROM repositories WHERE id = $1", [repo.id]);
    const everything = JSON.stringify([r.stdout, r.stderr, rows, await auditOf(repo.id)]);
    assert.ok(!everything.includes("s3cr3t-pw"), "the password shows nowhere");
    const changed = (await auditOf(repo.id)).find((e) => e.action === "repository.changed");
    assert.deepEqual(changed?.details.cloneUrl, {
      from: "https://git.example/acme/private.git",
      to: "https://git.example/acme/moved.git",
    });
    assert.equal(changed?.details.cloneCredential, "sealed from the URL");
    assert.equal(await webhookSecretOf(s.db.pool, s.kms, repo.id), repo.webhookSecret);

    // Same host without a password: the stored one keeps working there.
    const same = await runCli(
      ["repos", "edit", "acme/private", "--clone-url", "https://git.example/acme/again.git"],
      env,
    );
    assert.equal(same.code, 0, same.stderr);
    // Another host without a password: git would send the stored one there; refused, unchanged.
    const moved = await runCli(
      ["repos", "edit", "acme/private", "--clone-url", "https://evil.example/acme/again.git"],
      env,
    );
    assert.equal(moved.code, 1);
    assert.equal(moved.error?.code, "CONFLICT");
    assert.match(
      moved.stderr,
      /^airlock: .*clone password.*remove-credential acme\/private clone-password.*\n$/,
    );
    assert.equal((await row(repo.id)).cloneUrl, "https://git.example/acme/again.git");
  });

  it("bad values: one line each, a stable code, nothing changed and nothing recorded", async () => {
    const repo = await add("acme/strict", "https://git.example/acme/strict.git");
    const before = await row(repo.id);
    const auditBefore = (await auditOf(repo.id)).length;
    const cases: Array<{ args: string[]; code: string; exit: number; match: RegExp }> = [
      {
        args: ["--poll", "5", "--max-jobs", "zero"],
        code: "USAGE",
        exit: 2,
        match: /--poll.*--max-jobs|invalid/,
      },
      { args: [], code: "USAGE", exit: 2, match: /nothing to change/ },
      { args: ["--clone-url", "not a url"], code: "USAGE", exit: 2, match: /cloneUrl/ },
      { args: ["--default-branch", "-x"], code: "USAGE", exit: 2, match: /defaultBranch/ },
      {
        args: ["--visibility", "internal"],
        code: "USAGE",
        exit: 2,
        match: /--visibility must be public or private/,
      },
      {
        args: ["--clone-url", "ssh://u:pw@host/x.git"],
        code: "CREDENTIAL_INVALID",
        exit: 1,
        match: /password/,
      },
    ];
    for (const c of cases) {
      const r = await runCli(["repos", "edit", "acme/strict", ...c.args], env);
      assert.equal(r.error?.code, c.code, `${c.args.join(" ")}: ${r.stderr}`);
      assert.equal(r.code, c.exit, c.args.join(" "));
      assert.match(r.stderr, c.match);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    const missing = await runCli(["repos", "edit", "acme/nope", "--poll", "60"], env);
    assert.equal(missing.error?.code, "NOT_FOUND");
    assert.deepEqual(await row(repo.id), before);
    assert.equal((await auditOf(repo.id)).length, auditBefore);
    // The API itself refuses an empty change and unknown fields (name, organization, webhook secret).
    for (const payload of [{}, { name: "x/y" }, { webhookSecret: "x" }, { pollIntervalSeconds: 5 }]) {
      const r = await s.app.inject({
        method: "PATCH",
        url: `/api/v1/repositories/${repo.id}`,
        headers: s.auth,
        payload,
      });
      assert.equal(r.statusCode, 400, JSON.stringify(payload));
    }
    assert.deepEqual(await row(repo.id), before);
  });
});
