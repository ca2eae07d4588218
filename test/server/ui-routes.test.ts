// The routes the web UI reads, in-process over a real database: the log as JSON pages, a run's
// annotations, step summaries (stored as the agent hub stores them), what the caller may do, the
// dashboard, the run list's filters and paging, approvers of a waiting run, and a repository's
// visibility.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createApiToken, createUser, setGrant, type Role } from "../../src/auth/index.js";
import { storeSummaries } from "../../src/queue/index.js";
import { boundedSummaries, SUMMARY_MAX_BYTES } from "../../src/runner/index.js";
import type { AddressInfo } from "node:net";
import { runCli, stubEnv, tempHome } from "../cli/harness.js";
import { startTestServer, type TestServer } from "./helpers.js";
import { seedJob, seedRun } from "./seed.js";

let s: TestServer;
let repoId = 0;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON responses, checked field by field
type Any = any;

async function call(url: string, token?: string, method = "GET", payload?: unknown) {
  const res = await s.app.inject({
    method: method as "GET",
    url,
    headers: { authorization: `Bearer ${token ?? s.admin}` },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return { status: res.statusCode, body: JSON.parse(res.body || "null") };
}

async function chunk(
  jobId: number,
  attempt: number,
  seq: number,
  data: string,
  style: string | null,
  source = "step",
): Promise<void> {
  await s.db.pool.query(
    "INSERT INTO log_chunks (job_id, attempt, seq, data, source, style) VALUES ($1, $2, $3, $4, $5, $6)",
    [jobId, attempt, seq, data, source, style],
  );
}

before(async () => {
  s = await startTestServer();
  const r = await call("/api/v1/repositories", undefined, "POST", {
    name: "acme/ui",
    cloneUrl: "https://git.example.test/acme/ui.git",
  });
  assert.equal(r.status, 201);
  repoId = r.body.id;
});
after(async () => {
  await s?.close();
});

describe("GET /jobs/:id/log-chunks", () => {
  let jobId = 0;
  before(async () => {
    const run = await seedRun(s.db.pool, repoId, { state: "running" });
    jobId = await seedJob(s.db.pool, run, { state: "running" });
    await chunk(jobId, 1, 1, "▶ Build\n", "step", "system");
    await chunk(jobId, 1, 2, "  ▸ Setup\n", "group");
    await chunk(jobId, 1, 3, "  | a\n  | b\n", "log");
    await chunk(jobId, 1, 4, "", "group-end");
    await chunk(jobId, 1, 5, "  error: bad\n", "error");
    await chunk(jobId, 2, 1, "retried\n", null);
  });

  it("pages the log in order with source, style and time; next is null once complete", async () => {
    const first = await call(`/api/v1/jobs/${jobId}/log-chunks?limit=4`);
    assert.equal(first.status, 200);
    assert.deepEqual(
      first.body.chunks.map((c: Any) => [c.attempt, c.seq, c.style]),
      [
        [1, 1, "step"],
        [1, 2, "group"],
        [1, 3, "log"],
        [1, 4, "group-end"],
      ],
    );
    assert.equal(first.body.chunks[0].source, "system");
    assert.equal(first.body.chunks[2].data, "  | a\n  | b\n");
    assert.equal(first.body.chunks[3].data, "");
    assert.match(first.body.chunks[0].time, /^\d{4}-\d\d-\d\dT/);
    assert.equal(first.body.next, "1:4");
    assert.equal(first.body.complete, false);
    const rest = await call(`/api/v1/jobs/${jobId}/log-chunks?after=${first.body.next}`);
    assert.deepEqual(
      rest.body.chunks.map((c: Any) => [c.attempt, c.seq, c.style]),
      [
        [1, 5, "error"],
        [2, 1, null],
      ],
    );
    // The job still runs: the log is not complete, and `next` says where to go on from.
    assert.equal(rest.body.complete, false);
    assert.equal(rest.body.next, "2:1");
    const none = await call(`/api/v1/jobs/${jobId}/log-chunks?after=2:1`);
    assert.deepEqual(none.body, { chunks: [], next: "2:1", complete: false });
    await s.db.pool.query("UPDATE jobs SET state = 'completed', conclusion = 'success' WHERE id = $1", [
      jobId,
    ]);
    const done = await call(`/api/v1/jobs/${jobId}/log-chunks?after=1:5`);
    assert.equal(done.body.chunks.length, 1);
    assert.deepEqual([done.body.next, done.body.complete], [null, true]);
    // A full page that happens to end with the last chunk is complete too.
    const exact = await call(`/api/v1/jobs/${jobId}/log-chunks?after=1:4&limit=2`);
    assert.deepEqual([exact.body.next, exact.body.complete], [null, true]);
  });

  it("ends a page at its byte budget (at least one chunk each), and the pages add up to the whole log", async () => {
    const run = await seedRun(s.db.pool, repoId, { state: "completed" });
    const job = await seedJob(s.db.pool, run, { state: "completed" });
    // Nine chunks of 600 KiB of ESC characters (six bytes each in JSON): 5.3 MiB of log.
    const big = "\u001b".repeat(600 * 1024);
    for (let seq = 1; seq <= 9; seq++) await chunk(job, 1, seq, `${seq}${big}\n`, "log");
    const seen: number[] = [];
    let after: string | null = "0:0";
    let pages = 0;
    while (after !== null) {
      const r = await call(`/api/v1/jobs/${job}/log-chunks?after=${after}&limit=20000`);
      assert.equal(r.status, 200);
      const bytes = r.body.chunks.reduce((n: number, c: Any) => n + Buffer.byteLength(c.data), 0);
      assert.ok(r.body.chunks.length >= 1, "every page holds at least one chunk");
      // At most 2 MiB before the page's last chunk (which may cross it).
      assert.ok(
        bytes - Buffer.byteLength(r.body.chunks.at(-1).data) < 2 * 1024 * 1024,
        `page of ${bytes} bytes`,
      );
      seen.push(...r.body.chunks.map((c: Any) => c.seq));
      after = r.body.next;
      pages++;
      assert.ok(pages < 20, "paging ends");
    }
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.ok(pages >= 3, `${pages} pages`);
  });

  it("a job with nothing stored yet starts at 0:0", async () => {
    const run = await seedRun(s.db.pool, repoId, { state: "queued" });
    const job = await seedJob(s.db.pool, run, { state: "queued" });
    const r = await call(`/api/v1/jobs/${job}/log-chunks`);
    assert.deepEqual(r.body, { chunks: [], next: "0:0", complete: false });
  });

  it("refuses a malformed position or limit, and answers 404 for an unknown job", async () => {
    for (const q of ["after=abc", "after=1:", "after=-1:2", "limit=0", "limit=20001", "colour=red"]) {
      const r = await call(`/api/v1/jobs/${jobId}/log-chunks?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.error.code, "USAGE", q);
    }
    assert.equal((await call(`/api/v1/jobs/${jobId}/log-chunks?limit=20000`)).status, 200);
    assert.equal((await call("/api/v1/jobs/987654/log-chunks")).status, 404);
  });

  it("shows a reused job the log of the job it reuses, and ?attempt=N the same job in attempt N", async () => {
    const run = await seedRun(s.db.pool, repoId, { state: "completed", conclusion: "success" });
    const first = await seedJob(s.db.pool, run, { state: "completed", conclusion: "failure", key: "k" });
    await chunk(first, 1, 1, "attempt one\n", "log");
    await s.db.pool.query("UPDATE runs SET attempt = 3 WHERE id = $1", [run]);
    const second = (
      await s.db.pool.query<{ id: string }>(
        `INSERT INTO jobs (run_id, key, job_id, name, workflow, state, conclusion, run_attempt, reused_from)
         VALUES ($1, 'k', 'build', 'Build', 'ci.yml', 'completed', 'failure', 2, $2) RETURNING id`,
        [run, first],
      )
    ).rows[0]!.id;
    const third = (
      await s.db.pool.query<{ id: string }>(
        `INSERT INTO jobs (run_id, key, job_id, name, workflow, state, conclusion, run_attempt)
         VALUES ($1, 'k', 'build', 'Build', 'ci.yml', 'completed', 'success', 3) RETURNING id`,
        [run],
      )
    ).rows[0]!.id;
    await chunk(Number(third), 1, 1, "attempt three\n", "log");
    const reused = await call(`/api/v1/jobs/${second}/log-chunks`);
    assert.deepEqual(
      reused.body.chunks.map((c: Any) => c.data),
      ["attempt one\n"],
    );
    const picked = await call(`/api/v1/jobs/${third}/log-chunks?attempt=1`);
    assert.deepEqual(
      picked.body.chunks.map((c: Any) => c.data),
      ["attempt one\n"],
    );
    const latest = await call(`/api/v1/jobs/${first}/log-chunks?attempt=3`);
    assert.deepEqual(
      latest.body.chunks.map((c: Any) => c.data),
      ["attempt three\n"],
    );
    const missing = await call(`/api/v1/jobs/${first}/log-chunks?attempt=4`);
    assert.equal(missing.status, 404);
    assert.match(missing.body.error.message, /did not run in attempt 4/);
  });
});

describe("GET /runs/:id/annotations", () => {
  it("lists error, warning and notice chunks of the attempt's jobs in job then log order, capped", async () => {
    const run = await seedRun(s.db.pool, repoId, { state: "completed", conclusion: "failure" });
    const a = await seedJob(s.db.pool, run, { state: "completed", conclusion: "failure" });
    const b = await seedJob(s.db.pool, run, { state: "completed", conclusion: "success" });
    await chunk(b, 1, 1, "  notice: fyi\n", "notice", "system");
    await chunk(a, 1, 2, "  warning a.txt:3: careful\n", "warning");
    await chunk(a, 1, 1, "  error: </text><script>alert(1)</script>\n    more\n", "error");
    await chunk(a, 1, 3, "  | just output\n", "log");
    const r = await call(`/api/v1/runs/${run}/annotations`);
    assert.equal(r.status, 200);
    assert.equal(r.body.runAttempt, 1);
    assert.equal(r.body.truncated, false);
    assert.deepEqual(
      r.body.annotations.map((x: Any) => [x.jobId, x.seq, x.level]),
      [
        [a, 1, "error"],
        [a, 2, "warning"],
        [b, 1, "notice"],
      ],
    );
    assert.equal(r.body.annotations[0].text, "  error: </text><script>alert(1)</script>\n    more");
    assert.equal(r.body.annotations[0].jobName, "Build");
    // A job with hundreds of warnings keeps its share (50) and pushes no other job's error off.
    const c = await seedJob(s.db.pool, run, { state: "completed", conclusion: "failure" });
    await chunk(c, 1, 1, "  error: the real failure\n", "error");
    for (let i = 10; i < 215; i++) await chunk(b, 1, i, `  warning: w${i}\n`, "warning");
    const capped = await call(`/api/v1/runs/${run}/annotations`);
    assert.equal(capped.body.annotations.length, 2 + 50 + 1);
    assert.equal(capped.body.annotations.filter((x: Any) => x.jobId === b).length, 50);
    assert.equal(capped.body.annotations.at(-1).text, "  error: the real failure");
    assert.equal(capped.body.truncated, true);
    assert.equal((await call(`/api/v1/runs/${run}/annotations?attempt=2`)).status, 404);
    // Attempt 2 re-ran job b and reused a: a's annotations show under the reused job's id.
    await s.db.pool.query("UPDATE runs SET attempt = 2 WHERE id = $1", [run]);
    const reused = Number(
      (
        await s.db.pool.query<{ id: string }>(
          `INSERT INTO jobs (run_id, key, job_id, name, workflow, state, conclusion, run_attempt, reused_from)
           VALUES ($1, 'a2', 'build', 'Build', 'ci.yml', 'completed', 'failure', 2, $2) RETURNING id`,
          [run, a],
        )
      ).rows[0]!.id,
    );
    const second = await call(`/api/v1/runs/${run}/annotations`);
    assert.equal(second.body.runAttempt, 2);
    assert.deepEqual(
      second.body.annotations.map((x: Any) => [x.jobId, x.seq, x.level]),
      [
        [reused, 1, "error"],
        [reused, 2, "warning"],
      ],
    );
    assert.equal((await call(`/api/v1/runs/${run}/annotations?attempt=1`)).body.annotations.length, 53);
    assert.equal((await call(`/api/v1/runs/${run}/annotations?attempt=x`)).status, 400);
    assert.equal((await call("/api/v1/runs/987654/annotations")).status, 404);
  });
});

describe("GET /jobs/:id/summaries", () => {
  it("answers the stored summaries of the job's current attempt in step order, as text", async () => {
    const run = await seedRun(s.db.pool, repoId, { state: "running" });
    const job = await seedJob(s.db.pool, run, { state: "running" });
    const step = (index: number, name: string) => ({ index, id: `s${index}`, name, stage: "main" as const });
    const hostile = "# Hi <img src=x onerror=alert(1)>\n<script>alert(2)</script>\n";
    await storeSummaries(
      s.db.pool,
      job,
      1,
      boundedSummaries([
        { step: step(3, "later"), markdown: "third" },
        { step: step(0, "first"), markdown: hostile },
        { step: step(1, "too big"), markdown: "x".repeat(SUMMARY_MAX_BYTES + 1) },
        { step: step(2, "bad"), markdown: 42 },
      ]),
    );
    // A resent `finished` stores nothing twice; a stale attempt nothing at all.
    await storeSummaries(s.db.pool, job, 1, [{ step: step(0, "first"), markdown: "changed" }]);
    await storeSummaries(s.db.pool, job, 2, [{ step: step(5, "stale"), markdown: "stale" }]);
    const r = await call(`/api/v1/jobs/${job}/summaries`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, [
      { step: { index: 0, id: "s0", name: "first" }, markdown: hostile },
      { step: { index: 3, id: "s3", name: "later" }, markdown: "third" },
    ]);
    // Once completed, nothing more is stored (the attempt is over).
    await s.db.pool.query("UPDATE jobs SET state = 'completed' WHERE id = $1", [job]);
    await storeSummaries(s.db.pool, job, 1, [{ step: step(7, "late"), markdown: "late" }]);
    assert.equal((await call(`/api/v1/jobs/${job}/summaries`)).body.length, 2);
    // A retried job (delivery attempt 2) shows only that attempt's summaries.
    await s.db.pool.query("UPDATE jobs SET attempt = 2, state = 'running' WHERE id = $1", [job]);
    assert.deepEqual((await call(`/api/v1/jobs/${job}/summaries`)).body, []);
    assert.equal((await call("/api/v1/jobs/987654/summaries")).status, 404);
  });
});

describe("GET /me/permissions", () => {
  const tokens: Partial<Record<Role | "nobody" | "service", string>> = {};
  let otherRepo = 0;
  before(async () => {
    const pool = s.db.pool;
    const org = Number(
      (await pool.query<{ id: string }>("SELECT id FROM organizations WHERE name = 'default'")).rows[0]!.id,
    );
    otherRepo = (
      await call("/api/v1/repositories", undefined, "POST", {
        name: "acme/other",
        cloneUrl: "https://git.example.test/acme/other.git",
      })
    ).body.id;
    for (const role of ["viewer", "developer", "maintainer", "admin"] as const) {
      const u = await createUser(pool, { name: `perm-${role}` });
      await setGrant(pool, { userId: u.id, organizationId: org, repositoryId: repoId, role });
      tokens[role] = (
        await createApiToken(pool, { kind: "personal", name: "t", scopes: ["admin"], userId: u.id })
      ).token;
    }
    const n = await createUser(pool, { name: "perm-nobody" });
    tokens.nobody = (
      await createApiToken(pool, { kind: "personal", name: "t", scopes: ["admin"], userId: n.id })
    ).token;
    tokens.service = (
      await createApiToken(pool, {
        kind: "service",
        name: "bot",
        scopes: ["runs:write"],
        organizationId: org,
      })
    ).token;
  });

  it("lists what each role holds on a repository, as the routes decide", async () => {
    const on = async (who: keyof typeof tokens, q = `repository=${repoId}`): Promise<string[]> => {
      const r = await call(`/api/v1/me/permissions?${q}`, tokens[who]);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.permissions;
    };
    const viewer = await on("viewer");
    assert.ok(viewer.includes("runs.read") && viewer.includes("repository.read"));
    assert.ok(!viewer.includes("runs.write") && !viewer.includes("runs.approve"));
    const developer = await on("developer");
    assert.ok(developer.includes("runs.write") && !developer.includes("runs.approve"));
    const maintainer = await on("maintainer");
    assert.ok(maintainer.includes("runs.approve") && maintainer.includes("secrets.write"));
    assert.ok(!maintainer.includes("repository.edit") && !maintainer.includes("repository.delete"));
    const admin = await on("admin");
    assert.ok(admin.includes("repository.edit") && admin.includes("repository.members.write"));
    assert.ok(
      admin.every((p) => !p.startsWith("nodes.")),
      "no server permission on a repository",
    );
    // The same answer through a run of the repository.
    const run = await seedRun(s.db.pool, repoId);
    assert.deepEqual(await on("developer", `run=${run}`), developer);
    // A service token: its scopes and never a user-only permission.
    const svc = await on("service");
    assert.ok(svc.includes("runs.write") && svc.includes("runs.read"));
    assert.ok(!svc.includes("runs.approve") && !svc.includes("secrets.write"));
    // The instance level: the server administrator has nodes.read; a viewer only member and self ones.
    const adminAll = (await call("/api/v1/me/permissions")).body.permissions as string[];
    assert.ok(adminAll.includes("nodes.read") && adminAll.includes("users.admin"));
    const viewerAll = await on("viewer", "");
    assert.ok(viewerAll.includes("runs.list") && viewerAll.includes("self.read"));
    assert.ok(!viewerAll.includes("nodes.read"));
    assert.ok(!(await on("nobody", "")).includes("runs.list"));
    // Organization level: a repository grant holds no organization permission.
    assert.deepEqual(await on("admin", "organization=default"), []);
    assert.ok(
      (await call("/api/v1/me/permissions?organization=default")).body.permissions.includes(
        "organization.configure",
      ),
    );
  });

  it("answers 404 alike for an object the caller may not see and a missing one", async () => {
    const hidden = await call(`/api/v1/me/permissions?repository=${otherRepo}`, tokens.viewer);
    const missing = await call("/api/v1/me/permissions?repository=987654", tokens.viewer);
    assert.equal(hidden.status, 404);
    assert.equal(missing.status, 404);
    assert.equal(
      hidden.body.error.message.replace(/\d+/g, "N"),
      missing.body.error.message.replace(/\d+/g, "N"),
    );
    assert.equal((await call("/api/v1/me/permissions?organization=nope", tokens.viewer)).status, 404);
    assert.equal((await call(`/api/v1/me/permissions?repository=${repoId}&run=1`)).status, 400);
  });
});

describe("GET /runs/:id approvers", () => {
  it("says who may approve a waiting run and whether the caller may", async () => {
    const run = await seedRun(s.db.pool, repoId, { state: "queued" });
    assert.equal((await call(`/api/v1/runs/${run}`)).body.approvers, null);
    await s.db.pool.query("UPDATE runs SET approval = 'required', trust_tier = 'untrusted' WHERE id = $1", [
      run,
    ]);
    const admin = await call(`/api/v1/runs/${run}`);
    assert.deepEqual(admin.body.approvers, { roles: ["maintainer", "admin"], youMay: true });
    const pool = s.db.pool;
    const org = Number(
      (await pool.query<{ id: string }>("SELECT id FROM organizations WHERE name = 'default'")).rows[0]!.id,
    );
    const u = await createUser(pool, { name: "approver-dev" });
    await setGrant(pool, { userId: u.id, organizationId: org, repositoryId: repoId, role: "developer" });
    const dev = (await createApiToken(pool, { kind: "personal", name: "t", scopes: ["admin"], userId: u.id }))
      .token;
    assert.deepEqual((await call(`/api/v1/runs/${run}`, dev)).body.approvers, {
      roles: ["maintainer", "admin"],
      youMay: false,
    });
  });
});

describe("GET /runs/:id/deployments youMay", () => {
  it("says whether the caller may review each waiting deployment, by the environment's rules", async () => {
    const env = await call(`/api/v1/repositories/${repoId}/environments/production`, undefined, "PUT", {
      reviewerRole: "maintainer",
    });
    assert.ok(env.status < 300, JSON.stringify(env.body));
    const run = await seedRun(s.db.pool, repoId, { state: "running" }); // its actor is alice
    const job = await seedJob(s.db.pool, run, { state: "queued" });
    await s.db.pool.query(
      "INSERT INTO deployments (job_id, run_id, environment) VALUES ($1, $2, 'production')",
      [job, run],
    );
    const pool = s.db.pool;
    const org = Number(
      (await pool.query<{ id: string }>("SELECT id FROM organizations WHERE name = 'default'")).rows[0]!.id,
    );
    const tokenAs = async (name: string, role: Role): Promise<string> => {
      const u = await createUser(pool, { name });
      await setGrant(pool, { userId: u.id, organizationId: org, repositoryId: repoId, role });
      return (await createApiToken(pool, { kind: "personal", name: "t", scopes: ["admin"], userId: u.id }))
        .token;
    };
    const youMay = async (token?: string): Promise<unknown> => {
      const r = await call(`/api/v1/runs/${run}/deployments`, token);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body[0].state, "waiting");
      assert.equal(typeof r.body[0].approvers, "string");
      return r.body[0].youMay;
    };
    assert.equal(await youMay(), true, "a server administrator counts as admin");
    assert.equal(await youMay(await tokenAs("deploy-maintainer", "maintainer")), true);
    assert.equal(await youMay(await tokenAs("deploy-developer", "developer")), false);
    assert.equal(await youMay(await tokenAs("alice", "admin")), false, "never who triggered the run");
    const svc = (
      await createApiToken(pool, { kind: "service", name: "bot2", scopes: ["admin"], organizationId: org })
    ).token;
    assert.equal(await youMay(svc), false, "a service token reviews nothing");
  });
});

describe("GET /dashboard", () => {
  it("counts queued jobs, jobs and runs by state, nodes and capacity", async () => {
    await s.db.pool.query(
      `INSERT INTO nodes (name, cpus, memory_mb, connected, enabled) VALUES
         ('dash-online', 4, 8192, true, true), ('dash-off', 2, 1024, false, true),
         ('dash-drained', 8, 4096, true, false)`,
    );
    const r = await call("/api/v1/dashboard");
    assert.equal(r.status, 200);
    const { rows } = await s.db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM jobs WHERE state = 'queued'",
    );
    assert.equal(r.body.queueDepth, rows[0]!.n);
    assert.equal(r.body.jobsByState.queued, rows[0]!.n);
    const runs = await s.db.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM runs WHERE state = 'completed'",
    );
    assert.equal(r.body.runsByState.completed, runs.rows[0]!.n);
    assert.deepEqual(Object.keys(r.body.jobsByState).sort(), [
      "assigned",
      "completed",
      "lost",
      "queued",
      "running",
    ]);
    assert.equal(r.body.jobsByState.lost, 0);
    assert.deepEqual(Object.keys(r.body.runsByState).sort(), ["completed", "queued", "running"]);
    assert.deepEqual(r.body.nodes, { total: 3, online: 1, offline: 1, draining: 1 });
    assert.equal(r.body.capacity.cpus, 4);
    assert.equal(r.body.capacity.memoryMb, 8192);
    assert.equal(typeof r.body.capacity.runningJobs, "number");
  });
});

describe("GET /runs filters", () => {
  let repo2 = 0;
  const ids: Record<string, number> = {};
  before(async () => {
    repo2 = (
      await call("/api/v1/repositories", undefined, "POST", {
        name: "acme/filters",
        cloneUrl: "https://git.example.test/acme/filters.git",
      })
    ).body.id;
    const add = async (
      key: string,
      f: {
        ref: string;
        event: string;
        actor: string;
        file: string;
        name: string;
        state: string;
        conclusion?: string;
      },
    ) => {
      const { rows } = await s.db.pool.query<{ id: string }>(
        `INSERT INTO runs (repository_id, number, event, ref, commit, trigger, actor, title, state, conclusion,
                           workflow_file, workflow_name, started_at, finished_at)
         VALUES ($1, (SELECT coalesce(max(number), 0) + 1 FROM runs WHERE repository_id = $1), $2, $3, $4,
                 'webhook', $5, 'Title', $6, $7, $8, $9, now() - interval '90 seconds',
                 CASE WHEN $6 = 'completed' THEN now() - interval '30 seconds' END)
         RETURNING id`,
        [repo2, f.event, f.ref, "c".repeat(40), f.actor, f.state, f.conclusion ?? null, f.file, f.name],
      );
      ids[key] = Number(rows[0]!.id);
    };
    await add("main-ok", {
      ref: "refs/heads/main",
      event: "push",
      actor: "alice",
      file: ".github/workflows/ci.yml",
      name: "CI",
      state: "completed",
      conclusion: "success",
    });
    await add("hostile", {
      ref: "refs/heads/it's_50%",
      event: "pull_request",
      actor: "bob",
      file: ".github/workflows/ci.yml",
      name: "CI",
      state: "completed",
      conclusion: "failure",
    });
    await add("lookalike", {
      ref: "refs/heads/it's-50abc",
      event: "pull_request",
      actor: "bob",
      file: ".github/workflows/ci.yml",
      name: "CI",
      state: "completed",
      conclusion: "failure",
    });
    await add("deploy", {
      ref: "refs/tags/v1",
      event: "push",
      actor: "alice",
      file: ".github/workflows/deploy.yaml",
      name: "Deploy prod",
      state: "running",
    });
  });

  const list = async (q: string): Promise<number[]> => {
    const r = await call(`/api/v1/runs?repository=${repo2}&${q}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.map((x: Any) => x.id);
  };

  it("filters by workflow, branch (literally), event, status and actor", async () => {
    assert.deepEqual(await list("branch=main"), [ids["main-ok"]]);
    assert.deepEqual(await list(`branch=${encodeURIComponent("it's_50%")}`), [ids.hostile]);
    assert.deepEqual(await list(`branch=${encodeURIComponent("it%")}`), []);
    assert.deepEqual(await list(`branch=${encodeURIComponent("refs/tags/v1")}`), [ids.deploy]);
    assert.deepEqual(await list("event=pull_request"), [ids.lookalike, ids.hostile]);
    assert.deepEqual(await list("actor=alice"), [ids.deploy, ids["main-ok"]]);
    assert.deepEqual(await list("actor=ALICE"), []);
    for (const w of ["deploy", "deploy.yaml", ".github/workflows/deploy.yaml", "Deploy%20prod"])
      assert.deepEqual(await list(`workflow=${w}`), [ids.deploy], w);
    assert.deepEqual(await list("workflow=ci&status=failure"), [ids.lookalike, ids.hostile]);
    assert.deepEqual(await list("status=success"), [ids["main-ok"]]);
    assert.deepEqual(await list("status=in_progress"), [ids.deploy]);
    assert.deepEqual(await list("status=running"), [ids.deploy]);
    assert.equal((await list("status=completed")).length, 3);
    assert.deepEqual(await list(`before=${ids.lookalike}&event=pull_request`), [ids.hostile]);
    assert.equal((await call(`/api/v1/runs?status=bogus`)).status, 400);
    assert.equal((await call(`/api/v1/runs?branch=`)).status, 400);
  });

  it("airlock runs list passes the filters on (a hostile branch stays one argument)", async () => {
    await s.app.listen({ host: "127.0.0.1", port: 0 });
    const home = tempHome();
    try {
      const env = stubEnv(
        `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`,
        home.dir,
        s.admin,
      );
      const r = await runCli(
        ["runs", "list", "--repo", "acme/filters", "--branch", "it's_50%", "--status", "failure", "--json"],
        env,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        (JSON.parse(r.stdout) as Array<{ id: number }>).map((x) => x.id),
        [ids.hostile],
      );
      const page = await runCli(
        [
          "runs",
          "list",
          "--repo",
          "acme/filters",
          "--event",
          "pull_request",
          "--before",
          String(ids.lookalike),
          "--json",
        ],
        env,
      );
      assert.deepEqual(
        (JSON.parse(page.stdout) as Array<{ id: number }>).map((x) => x.id),
        [ids.hostile],
      );
      const table = await runCli(["runs", "list", "--repo", "acme/filters", "--workflow", "deploy"], env);
      assert.equal(table.code, 0, table.stderr);
      assert.equal(table.stdout.trimEnd().split("\n").length, 2, table.stdout);
      const bad = await runCli(["runs", "list", "--status", "bogus"], env);
      assert.equal(bad.error?.code, "USAGE");
      assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    } finally {
      home.remove();
    }
  });

  it("shows each run's branch, duration, workflow, trigger, commit, title, tier, actor and attempts", async () => {
    const r = await call(`/api/v1/runs?repository=${repo2}&actor=alice`);
    const [deploy, ok] = r.body as Any[];
    assert.equal(ok.branch, "main");
    assert.equal(deploy.branch, null, "a tag is no branch");
    assert.ok(Math.abs(ok.durationMs - 60_000) < 2_000, String(ok.durationMs));
    assert.ok(deploy.durationMs >= 89_000, "a running run's duration runs on");
    assert.equal(ok.workflowName, "CI");
    assert.equal(ok.workflowFile, ".github/workflows/ci.yml");
    assert.equal(ok.event, "push");
    assert.equal(ok.commit, "c".repeat(40));
    assert.equal(ok.title, "Title");
    assert.equal(ok.trustTier, "trusted");
    assert.equal(ok.actor, "alice");
    assert.equal(ok.attempt, 1);
  });
});

describe("repository visibility", () => {
  it("is private by default, set with PATCH (audited), and refused when unknown", async () => {
    assert.equal((await call(`/api/v1/repositories/${repoId}`)).body.visibility, "private");
    const r = await call(`/api/v1/repositories/${repoId}`, undefined, "PATCH", { visibility: "public" });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.visibility, "public");
    const listed = (await call("/api/v1/repositories")).body.find((x: Any) => x.id === repoId);
    assert.equal(listed.visibility, "public");
    const { rows } = await s.db.pool.query<{ details: Any }>(
      "SELECT details FROM audit_log WHERE action = 'repository.changed' ORDER BY seq DESC LIMIT 1",
    );
    assert.deepEqual(rows[0]?.details.visibility, { from: "private", to: "public" });
    const bad = await call(`/api/v1/repositories/${repoId}`, undefined, "PATCH", { visibility: "internal" });
    assert.equal(bad.status, 400);
    await call(`/api/v1/repositories/${repoId}`, undefined, "PATCH", { visibility: "private" });
  });
});
