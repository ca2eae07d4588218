// A clone URL with a password, through the real service: registered over the API, the password is
// sealed (clone-password) and the URL kept without it; runs fetch with it (real git, real HTTP
// with basic auth) while no process shows it; and it is in no API answer, run view, job context
// or event payload, error, audit entry, database column in clear, or server log line. A URL
// stored with a password by an older version is split and sealed at the next start.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { startService, type Service } from "../../src/service/index.js";
import { initRepo, rmDir, startGitHttp, tempDir, type GitHttpServer } from "../actions/helpers.js";
import { createTestDatabase, type TestDatabase } from "../helpers/db.js";
import { eventually } from "../helpers/service.js";
import { scanProcesses, startAuthProxy, type AuthProxy, type ProcessScan } from "../sources/auth-proxy.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON, checked field by field
type Json = any;
const PASSWORD = `pw-${randomBytes(12).toString("hex")}`;
const WORKFLOW = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n";
const logLines: string[] = [];
const logger = pino({ level: "trace" }, { write: (s: string) => void logLines.push(s) });
let root: string;
let dataDir: string;
let db: TestDatabase;
let backend: GitHttpServer;
let proxy: AuthProxy;
let service: Service;
let cleanUrl: string;

const start = async (): Promise<Service> =>
  startService({
    env: { ...process.env, AIRLOCK_DATABASE_URL: db.url, AIRLOCK_DATA_DIR: dataDir },
    overrides: { listenPort: 0 },
    cliConfigPath: null,
    logger,
  });

async function api(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string; json: Json }> {
  const res = await fetch(`${service.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${service.adminToken ?? token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, text, json: text ? JSON.parse(text) : undefined };
}
let token = "";

before(async () => {
  root = tempDir("airlock-source-creds-");
  initRepo(join(root, "srv", "octo", "app"), { ".github/workflows/ci.yml": WORKFLOW });
  backend = await startGitHttp(join(root, "srv"));
  proxy = await startAuthProxy(backend.url, "ci", PASSWORD);
  cleanUrl = `${proxy.url}/octo/app`;
  db = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), "airlock-source-creds-data-"));
  service = await start();
  token = service.adminToken ?? "";
});

after(async () => {
  await service?.stop();
  await proxy?.close();
  await backend?.close();
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
  rmDir(root);
});

function holdFirst(): () => ProcessScan | undefined {
  let scan: ProcessScan | undefined;
  proxy.onAuthenticated = async () => {
    scan ??= await scanProcesses(PASSWORD);
  };
  return () => scan;
}

const dump = async (sql: string): Promise<string> => JSON.stringify((await db.pool.query(sql)).rows);

describe("a clone URL with a password", () => {
  let repoId = 0;

  it("is split when registered: the URL without it is kept and shown, the password sealed", async () => {
    const made = await api("POST", "/api/v1/repositories", {
      name: "octo/app",
      cloneUrl: proxy.url.replace("//", `//ci:${PASSWORD}@`) + "/octo/app",
    });
    assert.equal(made.status, 201, made.text);
    repoId = made.json.id;
    assert.equal(made.json.cloneUrl, cleanUrl);
    for (const path of ["/api/v1/repositories", `/api/v1/repositories/${repoId}`]) {
      const r = await api("GET", path);
      assert.equal(r.status, 200);
      assert.ok(r.text.includes(cleanUrl) && !r.text.includes(PASSWORD), r.text);
    }
    const creds = await api("GET", `/api/v1/repositories/${repoId}/credentials`);
    assert.deepEqual(
      creds.json.map((c: { kind: string; setBy: string | null }) => [c.kind, c.setBy]),
      [
        ["clone-password", "admin"],
        ["webhook-secret", null],
      ],
    );
    assert.ok(!(await dump("SELECT * FROM repositories")).includes(PASSWORD));
    const sealed = await db.pool.query<{ ciphertext: Buffer }>(
      "SELECT ciphertext FROM repository_credentials",
    );
    assert.ok(sealed.rows.every((r) => !r.ciphertext.includes(PASSWORD)));
  });

  it("runs fetch with it, and neither ps nor the job's contexts or payload show it", async () => {
    const seen = holdFirst();
    const trig = await api("POST", `/api/v1/repositories/${repoId}/runs`, {});
    assert.equal(trig.status, 201, trig.text);
    const scan = seen();
    assert.ok(scan, "the server's fetch authenticated");
    assert.ok(scan.cmdlines.some((c) => c.includes(`127.0.0.1:${proxy.port}/octo/app`)));
    assert.deepEqual(scan.hits, []);
    const runId = trig.json.runs[0].id as number;
    const description = await eventually(async () => {
      const r = await db.pool.query<{ description: Record<string, Json> | null }>(
        "SELECT description FROM jobs WHERE run_id = $1",
        [runId],
      );
      return r.rows[0]?.description ?? undefined;
    }, "the job to be described");
    const github = description.contexts.github;
    assert.equal(github.repositoryUrl, cleanUrl);
    assert.equal(github.event.repository.clone_url, cleanUrl);
    assert.equal(description.source.repository, cleanUrl);
    assert.ok(!JSON.stringify(description).includes(PASSWORD));
    assert.ok(!(await dump("SELECT * FROM runs")).includes(PASSWORD));
    const view = await api("GET", `/api/v1/runs/${runId}`);
    assert.equal(view.status, 200);
    assert.ok(!view.text.includes(PASSWORD));
  });

  it("a webhook payload's URLs lose their userinfo before a job can see them", async () => {
    const head = (await api("GET", `/api/v1/runs?repository=${repoId}`)).json[0].commit as string;
    const hostile = proxy.url.replace("//", `//ci:${PASSWORD}@`) + "/octo/app";
    const runs = await service.orchestrator.runs.handleSourceEvent(
      repoId,
      {
        provider: "github",
        deliveryId: "d-1",
        event: "push",
        ref: "refs/heads/main",
        commit: head,
        repository: { fullName: "octo/app", cloneUrls: [hostile] },
        payload: {
          ref: "refs/heads/main",
          after: head,
          repository: { clone_url: hostile, html_url: hostile },
        },
      },
      "webhook",
    );
    const stored = await db.pool.query<{ payload: Record<string, Json> }>(
      "SELECT payload FROM runs WHERE id = $1",
      [runs[0]!.id],
    );
    assert.equal(stored.rows[0]!.payload.repository.clone_url, cleanUrl);
    assert.equal(stored.rows[0]!.payload.repository.html_url, cleanUrl);
  });

  it("a wrong password fails the fetch with an error that names neither password", async () => {
    const wrong = `wrong-${PASSWORD}`;
    const set = await api("PUT", `/api/v1/repositories/${repoId}/credentials/clone-password`, {
      username: "ci",
      value: wrong,
    });
    assert.equal(set.status, 200, set.text);
    assert.ok(!set.text.includes(wrong));
    assert.equal(set.json.kind, "clone-password");
    proxy.onAuthenticated = undefined;
    const failed = await api("POST", `/api/v1/repositories/${repoId}/runs`, {});
    assert.ok(failed.status >= 400, failed.text);
    assert.ok(!failed.text.includes(PASSWORD), failed.text);
    assert.match(failed.json.error.message, /^[^\n]+$/);
    // Put back; set, not shown: the listing has no value.
    await api("PUT", `/api/v1/repositories/${repoId}/credentials/clone-password`, {
      username: "ci",
      value: PASSWORD,
    });
    assert.ok(!(await api("GET", `/api/v1/repositories/${repoId}/credentials`)).text.includes(PASSWORD));
  });

  it("is in no audit entry and no server log line", async () => {
    const audit = await dump("SELECT * FROM audit_log ORDER BY seq");
    assert.ok(audit.includes("repository.credential_set"));
    assert.ok(!audit.includes(PASSWORD));
    assert.ok(logLines.length > 10);
    assert.deepEqual(
      logLines.filter((l) => l.includes(PASSWORD)),
      [],
    );
  });

  it("stored in a URL by an older version: split and sealed at the next start", async () => {
    await service.stop();
    const legacyUrl = proxy.url.replace("//", `//ci:${PASSWORD}@`) + "/octo/app";
    const { rows } = await db.pool.query<{ id: string }>(
      `INSERT INTO repositories (organization_id, name, clone_url, default_branch)
       SELECT id, 'octo/legacy', $1, 'main' FROM organizations WHERE name = 'default' RETURNING id`,
      [legacyUrl],
    );
    const legacy = Number(rows[0]!.id);
    service = await start();
    const row = await db.pool.query<{ clone_url: string }>(
      "SELECT clone_url FROM repositories WHERE id = $1",
      [legacy],
    );
    assert.equal(row.rows[0]!.clone_url, cleanUrl);
    const creds = await api("GET", `/api/v1/repositories/${legacy}/credentials`);
    assert.deepEqual(
      creds.json.map((c: { kind: string }) => c.kind),
      ["clone-password"],
    );
    assert.equal(creds.json[0].setBy, "airlock server start");
    const seen = holdFirst();
    const trig = await api("POST", `/api/v1/repositories/${legacy}/runs`, {});
    assert.equal(trig.status, 201, trig.text);
    assert.deepEqual(seen()?.hits, []);
  });
});
