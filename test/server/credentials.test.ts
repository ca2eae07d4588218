// The job-source credentials API and the organization delete, in-process over a real database and
// a local KMS: credentials are write-only (no answer, error or audit entry carries a value; the
// database holds none in clear), refused in one line when they cannot work, listed by kind, time
// and who; deleting an organization destroys its data key first, then everything in it (audited),
// and is refused for "default" and while a run is active.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { credentialOf, forgeTokenOf, gitAuthOf } from "../../src/secrets/index.js";
import { seedRun } from "./seed.js";
import { startTestServer, type TestServer } from "./helpers.js";

let s: TestServer;
let repo = 0;
let sshRepo = 0;
const VALUE = "tok-4f9c2e7a1b-do-not-show";
const KEY = `-----BEGIN OPENSSH PRIVATE KEY-----\nkey-${VALUE}\n-----END OPENSSH PRIVATE KEY-----\n`;

async function call(method: "GET" | "PUT" | "POST" | "DELETE", url: string, payload?: unknown) {
  const res = await s.app.inject({
    method,
    url,
    headers: s.auth,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  assert.ok(!res.body.includes(VALUE), `${method} ${url} answered with the value: ${res.body}`);
  return { status: res.statusCode, text: res.body, json: res.body ? JSON.parse(res.body) : undefined };
}

before(async () => {
  s = await startTestServer();
  await call("POST", "/api/v1/organizations", { name: "acme" });
  repo = (
    await call("POST", "/api/v1/repositories", {
      name: "acme/app",
      cloneUrl: "https://git.example.test/acme/app.git",
      organization: "acme",
    })
  ).json.id;
  sshRepo = (
    await call("POST", "/api/v1/repositories", {
      name: "acme/ssh",
      cloneUrl: "git@git.example.test:acme/ssh.git",
      organization: "acme",
    })
  ).json.id;
});
after(async () => {
  await s?.close();
});

describe("repository credentials", () => {
  it("sets each kind write-only, lists kinds with when and who, and gives git what it needs", async () => {
    const base = `/api/v1/repositories/${repo}/credentials`;
    const pw = await call("PUT", `${base}/clone-password`, { username: "ci", value: VALUE });
    assert.equal(pw.status, 200, pw.text);
    assert.deepEqual(Object.keys(pw.json).sort(), ["kind", "setAt", "setBy"]);
    assert.equal(pw.json.setBy, "ops");
    assert.equal((await call("PUT", `${base}/forge-token`, { value: VALUE })).status, 200);
    const sshBase = `/api/v1/repositories/${sshRepo}/credentials`;
    const hosts = "git.example.test ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\n";
    assert.equal((await call("PUT", `${sshBase}/deploy-key`, { value: KEY, knownHosts: hosts })).status, 200);
    const list = await call("GET", base);
    assert.deepEqual(
      list.json.map((c: { kind: string }) => c.kind),
      ["clone-password", "forge-token", "webhook-secret"],
    );
    assert.deepEqual(await gitAuthOf(s.db.pool, s.kms, repo, "https://git.example.test/acme/app.git"), {
      kind: "basic",
      username: "ci",
      password: VALUE,
    });
    assert.equal(await forgeTokenOf(s.db.pool, s.kms, repo), VALUE);
    const ssh = await gitAuthOf(s.db.pool, s.kms, sshRepo, "git@git.example.test:acme/ssh.git");
    assert.deepEqual(ssh, { kind: "ssh-key", privateKey: KEY, knownHosts: hosts });
    const rows = await s.db.pool.query<{ ciphertext: Buffer }>(
      "SELECT ciphertext FROM repository_credentials",
    );
    assert.ok(rows.rows.every((r) => !r.ciphertext.includes("do-not-show")));
    const audit = JSON.stringify((await s.db.pool.query("SELECT action, details FROM audit_log")).rows);
    assert.ok(audit.includes("repository.credential_set") && audit.includes("deploy-key"));
    assert.ok(!audit.includes("do-not-show"));
  });

  it("refuses what cannot work in one line that never holds the value", async () => {
    const base = `/api/v1/repositories/${repo}/credentials`;
    for (const [kind, body, code] of [
      ["deploy-key", { value: `not a key ${VALUE}` }, "CREDENTIAL_INVALID"],
      ["clone-password", { value: `a\n${VALUE}` }, "CREDENTIAL_INVALID"],
      ["forge-token", { value: VALUE, username: "x" }, "CREDENTIAL_INVALID"],
      ["forge-token", { value: `two ${VALUE}` }, "CREDENTIAL_INVALID"],
      ["webhook-secret", { value: VALUE }, "USAGE"],
      ["clone-password", { value: VALUE, extra: 1 }, "USAGE"],
    ] as const) {
      const r = await call("PUT", `${base}/${kind}`, body);
      assert.equal(r.status, 400, `${kind}: ${r.text}`);
      assert.equal(r.json.error.code, code, kind);
      assert.match(r.json.error.message, /^[^\n]+$/);
    }
    // A refused change leaves the credential as it was.
    assert.equal((await credentialOf(s.db.pool, s.kms, repo, "clone-password"))?.includes(VALUE), true);
  });

  it("a clone URL with a password is split at registration; ssh URLs cannot carry one", async () => {
    const made = await call("POST", "/api/v1/repositories", {
      name: "acme/inline",
      cloneUrl: `https://ci:${VALUE}@git.example.test/acme/inline.git`,
      organization: "acme",
    });
    assert.equal(made.status, 201);
    assert.equal(made.json.cloneUrl, "https://git.example.test/acme/inline.git");
    assert.equal((await gitAuthOf(s.db.pool, s.kms, made.json.id, made.json.cloneUrl))?.kind, "basic");
    const ssh = await call("POST", "/api/v1/repositories", {
      name: "acme/sshpw",
      cloneUrl: `ssh://git:${VALUE}@git.example.test/acme/x.git`,
      organization: "acme",
    });
    assert.equal(ssh.status, 400);
    assert.equal(ssh.json.error.code, "CREDENTIAL_INVALID");
  });

  it("removes a credential (audited); removing it again is 404", async () => {
    const url = `/api/v1/repositories/${repo}/credentials/forge-token`;
    assert.equal((await call("DELETE", url)).status, 204);
    assert.equal((await call("DELETE", url)).status, 404);
    assert.equal(await forgeTokenOf(s.db.pool, s.kms, repo), undefined);
    const n = await s.db.pool.query("SELECT 1 FROM audit_log WHERE action = 'repository.credential_removed'");
    assert.equal(n.rows.length, 1);
  });
});

describe("deleting an organization", () => {
  it("is refused for default and while a run is active, leaving everything as it was", async () => {
    const d = await call("DELETE", "/api/v1/organizations/default");
    assert.equal(d.status, 409);
    const runId = await seedRun(s.db.pool, repo, { state: "running" });
    const busy = await call("DELETE", "/api/v1/organizations/acme");
    assert.equal(busy.status, 409);
    assert.match(busy.json.error.message, /active runs/);
    assert.equal(await forgeTokenOf(s.db.pool, s.kms, repo), undefined);
    assert.ok((await credentialOf(s.db.pool, s.kms, repo, "clone-password"))?.includes(VALUE));
    await s.db.pool.query("UPDATE runs SET state = 'completed' WHERE id = $1", [runId]);
  });

  it("destroys the organization's data key, then deletes it and everything in it; audited", async () => {
    const org = Number(
      (await s.db.pool.query("SELECT id FROM organizations WHERE name = 'acme'")).rows[0].id,
    );
    // Watch the key row: destroyed (wrapped key cleared) before the rows go.
    await s.db.pool.query(`CREATE TABLE shredded AS SELECT * FROM organization_keys WHERE false`);
    await s.db.pool.query(`CREATE FUNCTION note_key() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO shredded SELECT OLD.*; RETURN OLD; END $$`);
    await s.db.pool.query(
      `CREATE TRIGGER note_key BEFORE DELETE ON organization_keys FOR EACH ROW EXECUTE FUNCTION note_key()`,
    );
    const r = await call("DELETE", "/api/v1/organizations/acme");
    assert.equal(r.status, 204, r.text);
    const seen = await s.db.pool.query<{ wrapped_dek: Buffer | null; destroyed_at: Date | null }>(
      "SELECT * FROM shredded",
    );
    assert.ok(seen.rows.length > 0);
    assert.ok(seen.rows.every((k) => k.wrapped_dek === null && k.destroyed_at !== null));
    for (const table of ["organizations", "repositories", "repository_credentials", "organization_keys"]) {
      const left = await s.db.pool.query(
        `SELECT count(*)::int AS n FROM ${table} WHERE ${table === "organizations" || table === "repositories" ? (table === "organizations" ? "id" : "organization_id") : "organization_id"} = $1`,
        [org],
      );
      assert.equal(left.rows[0].n, 0, table);
    }
    const audit = await s.db.pool.query<{ details: Record<string, unknown> }>(
      "SELECT details FROM audit_log WHERE action = 'organization.deleted'",
    );
    assert.deepEqual(audit.rows[0]?.details, { name: "acme", repositories: 3, keysDestroyed: 1 });
    assert.equal((await call("DELETE", "/api/v1/organizations/acme")).status, 404);
  });
});
