// The audit log in the running service: admin changes through the API are recorded with the
// token and client address (never a secret), GET /api/v1/audit lists and filters them for the
// admin only, `airlock audit list|verify` work with the right exit codes, and the server refuses
// to start over a broken chain.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { exchangeOnce } from "../../src/agent/index.js";
import type { AuditEntry } from "../../src/audit/index.js";
import { registerAuditCommands } from "../../src/cli/audit.js";
import { isAirlockError } from "../../src/errors/index.js";
import { startService } from "../../src/service/index.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { tamper } from "./helpers.js";

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  errorCode?: string;
}

/** Runs `airlock audit ...` in-process as src/cli/main.ts does (AirlockError: 1, usage: 2). */
async function audit(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const program = new Command()
    .exitOverride()
    .configureOutput({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
  registerAuditCommands(program, {
    stdout: { write: (c) => (stdout += String(c)) },
    stderr: { write: (c) => (stderr += String(c)) },
    env,
  });
  try {
    await program.parseAsync(["node", "airlock", "audit", ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    if (err instanceof CommanderError) return { code: err.exitCode === 0 ? 0 : 2, stdout, stderr };
    if (isAirlockError(err))
      return {
        code: err.code === "USAGE" ? 2 : 1,
        stdout,
        stderr: `airlock: ${err.message}\n`,
        errorCode: err.code,
      };
    throw err;
  }
}

describe("audit log in the service", () => {
  let s: TestService;
  let token: string;
  let repoId: number;
  let nodeToken: string;
  let registrationTokens: string[];
  let webhookSecret: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    s = await startTestService();
    token = s.service.adminToken ?? "";
    env = { AIRLOCK_SERVER: s.service.url, AIRLOCK_TOKEN: token, AIRLOCK_DATABASE_URL: s.db.url };
    const ok = (r: { status: number; text: string }, status: number): void =>
      assert.equal(r.status, status, r.text);
    const repo = await s.api<{ id: number; webhookSecret: string }>("POST", "/api/v1/repositories", {
      name: "acme/web",
      cloneUrl: "https://bot:s3cr3t-pat@git.example.test/acme/web.git",
    });
    ok(repo, 201);
    repoId = repo.body.id;
    ok(
      await s.api("PUT", `/api/v1/repositories/${repoId}/egress`, { allow: ["registry.npmjs.org:443"] }),
      200,
    );
    ok(await s.api("POST", "/api/v1/organizations", { name: "team", maxConcurrentJobs: 3 }), 201);
    ok(await s.api("PUT", "/api/v1/organizations/team/limit", { maxConcurrentJobs: null }), 200);
    const registration = await s.addNode("builder-1", ["linux"]);
    const exchanged = await exchangeOnce(s.service.url, registration);
    nodeToken = exchanged.credential;
    const nodeId = exchanged.nodeId;
    ok(await s.api("POST", `/api/v1/nodes/${nodeId}/disable`), 200);
    ok(await s.api("POST", `/api/v1/nodes/${nodeId}/enable`), 200);
    ok(await s.api("POST", `/api/v1/nodes/${nodeId}/revoke`), 200);
    ok(await s.api("DELETE", `/api/v1/nodes/${nodeId}`), 204);
    const unused = await s.api<{ id: number; token: string }>("POST", "/api/v1/nodes/registrations", {
      name: "builder-2",
    });
    ok(unused, 201);
    ok(await s.api("DELETE", `/api/v1/nodes/registrations/${unused.body.id}`), 204);
    registrationTokens = [registration, unused.body.token];
    ok(await s.api("POST", "/api/v1/repositories", { name: "acme/api", cloneUrl: "/srv/git/api" }), 201);
    ok(await s.api("DELETE", `/api/v1/repositories/${repoId}`), 204);
    // A refused change is not recorded: nothing happened.
    ok(await s.api("DELETE", `/api/v1/repositories/${repoId}`), 404);
    webhookSecret = repo.body.webhookSecret;
  });
  after(async () => {
    await s.stop();
  });

  it("records admin changes with the token, the client address and no secret", async () => {
    const r = await s.api<AuditEntry[]>("GET", "/api/v1/audit");
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.map((e) => e.action).reverse(), [
      "user.admin_created", // by the first start
      "token.created", // the CLI's token in cli.json, by the first start
      "repository.created",
      "repository.egress_changed",
      "organization.created",
      "organization.limit_changed",
      "node.registration_created",
      "node.registered",
      "node.disabled",
      "node.enabled",
      "node.revoked",
      "node.deleted",
      "node.registration_created",
      "node.registration_revoked",
      "repository.created",
      "repository.deleted",
    ]);
    const boot = r.body.at(-1);
    assert.equal(boot?.actor.kind, "system");
    assert.ok(!JSON.stringify(boot).includes('password":"'), "no password in the entry");
    const first = r.body.at(-3);
    assert.equal(first?.actor.kind, "user");
    assert.match(first?.actor.display ?? "", /^admin via token \d+$/);
    assert.match(first?.actor.id ?? "", /^\d+$/);
    assert.equal(first?.clientAddress, "127.0.0.1");
    assert.deepEqual(first?.object, { kind: "repository", id: String(repoId) });
    // The password was taken out of the clone URL (sealed as the clone-password credential).
    assert.equal(first?.details.cloneUrl, "https://git.example.test/acme/web.git");
    for (const hidden of [webhookSecret, nodeToken, ...registrationTokens, token, "s3cr3t-pat"])
      assert.ok(!r.text.includes(hidden), hidden);
    // The exchange is recorded as done by the registration, from the agent's address.
    const registered = r.body.find((e) => e.action === "node.registered");
    assert.equal(registered?.actor.kind, "registration");
    assert.equal(registered?.clientAddress, "127.0.0.1");
    assert.deepEqual(registered?.details.labels, ["linux"]);
  });

  it("filters by action prefix, actor and object, and pages with before", async () => {
    const q = async (qs: string): Promise<AuditEntry[]> => {
      const r = await s.api<AuditEntry[]>("GET", `/api/v1/audit?${qs}`);
      assert.equal(r.status, 200, r.text);
      return r.body;
    };
    const nodes = await q("action=node");
    assert.deepEqual(
      nodes.map((e) => e.action),
      [
        "node.registration_revoked",
        "node.registration_created",
        "node.deleted",
        "node.revoked",
        "node.enabled",
        "node.disabled",
        "node.registered",
        "node.registration_created",
      ],
    );
    assert.deepEqual(
      (await q("action=repository.created")).map((e) => e.details.name),
      ["acme/api", "acme/web"],
    );
    assert.equal((await q("action=repo")).length, 0, "a prefix is whole dotted words");
    assert.equal((await q(`object=repository:${repoId}`)).length, 3);
    const all = await q("");
    const actorId = all[0]?.actor.id ?? "";
    assert.equal((await q(`actor=user:${actorId}`)).length, 13);
    assert.equal((await q("actor=user:999999")).length, 0);
    const page1 = await q("limit=4");
    const page2 = await q(`limit=4&before=${page1.at(-1)?.seq}`);
    assert.deepEqual(
      [...page1, ...page2].map((e) => e.seq),
      all.slice(0, 8).map((e) => e.seq),
    );
    assert.equal((await q(`since=${encodeURIComponent("2100-01-01T00:00:00Z")}`)).length, 0);
  });

  it("refuses a bad query (400) and anyone without the admin token (401)", async () => {
    assert.equal((await s.api("GET", "/api/v1/audit?limit=0")).status, 400);
    assert.equal((await s.api("GET", "/api/v1/audit?action=DROP%20TABLE")).status, 400);
    const anon = await fetch(`${s.service.url}/api/v1/audit`);
    assert.equal(anon.status, 401);
    const asNode = await fetch(`${s.service.url}/api/v1/audit`, {
      headers: { authorization: `Bearer ${nodeToken}` },
    });
    assert.equal(asNode.status, 401);
    const doc = await s.api<{ paths: Record<string, unknown> }>("GET", "/api/v1/openapi.json");
    assert.ok(doc.body.paths["/api/v1/audit"], "documented in OpenAPI");
  });

  it("airlock audit list reads the API", async () => {
    const table = await audit(["list", "--action", "node", "--limit", "2"], env);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^SEQ\s+TIME\s+ACTOR\s+ACTION\s+OBJECT\s+CLIENT\s+DETAILS$/);
    assert.equal(lines.length, 3);
    assert.match(
      lines[1] ?? "",
      /user:\d+ \(admin via token \d+\)\s+node\.registration_revoked\s+node_registration:\d+\s+127\.0\.0\.1/,
    );
    const json = await audit(["list", "--actor", "system", "--json"], env);
    assert.deepEqual(
      (JSON.parse(json.stdout) as AuditEntry[]).map((e) => e.action),
      ["token.created", "user.admin_created"],
    );
    assert.equal((await audit(["list", "--limit", "x"], env)).code, 2);
  });

  // 16 changes, and the node credential refused by the test above (auth.token_failed).
  it("airlock audit verify: 0 and the head when intact, 1 naming the entry when broken", async () => {
    const ok = await audit(["verify"], env);
    assert.equal(ok.code, 0, ok.stderr);
    const m = /^audit log intact: 17 entries, head ([0-9a-f]{64})\n$/.exec(ok.stdout);
    assert.ok(m, ok.stdout);
    const head = m[1] ?? "";
    assert.equal((await audit(["verify", "--expect-count", "17", "--expect-head", head], env)).code, 0);
    assert.equal((await audit(["verify", "--expect-head", "nothex"], env)).code, 2);
    const ahead = await audit(["verify", "--expect-count", "18"], env);
    assert.equal(ahead.code, 1);
    assert.equal(ahead.errorCode, "AUDIT_CHAIN_BROKEN");
    assert.match(ahead.stderr, /broken at entry 18 \(removed\)/);
    assert.equal((await audit(["verify", "--dump", "/nonexistent/dump.sql"], env)).code, 2);
  });

  // Last: it breaks the chain of this file's database.
  it("the server refuses to start over a broken chain, naming the entry; verify exits 1", async () => {
    await s.service.stop();
    await tamper(s.db.pool, 'UPDATE audit_log SET details = \'{"name": "acme/other"}\' WHERE seq = 5');
    const verify = await audit(["verify"], env);
    assert.equal(verify.code, 1);
    assert.match(verify.stderr, /^airlock: audit log broken at entry 5 \(edited\): .*\n$/);
    const dataDir = await mkdtemp(join(tmpdir(), "airlock-audit-start-"));
    try {
      await assert.rejects(
        startService({
          env: {
            ...process.env,
            AIRLOCK_DATABASE_URL: s.db.url,
            AIRLOCK_DATA_DIR: dataDir,
            AIRLOCK_LOG_LEVEL: "silent",
          },
          overrides: { listenPort: 0 },
          cliConfigPath: null,
        }),
        (err: unknown) => {
          assert.ok(isAirlockError(err, "AUDIT_CHAIN_BROKEN"), String(err));
          assert.match(err.message, /entry 5 \(edited\)/);
          assert.ok(!err.message.includes("\n"), "one line");
          return true;
        },
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
