// The REST API in-process (app.inject) over a real database, with stub core services: auth,
// every route's happy path and its validation errors, links built from the public address.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PUBLIC_URL, registerTestNode, startTestServer, type TestServer } from "./helpers.js";
import { seedJob, seedLog, seedRun, seedSteps } from "./seed.js";

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s?.close();
});

async function call(method: "GET" | "POST" | "PUT" | "DELETE", url: string, payload?: unknown, auth = true) {
  const res = await s.app.inject({
    method,
    url,
    headers: auth ? s.auth : {},
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON responses, checked field by field
  return { status: res.statusCode, body: res.body ? (safeJson(res.body) as any) : undefined, res };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function addRepository(name: string): Promise<number> {
  const r = await call("POST", "/api/v1/repositories", {
    name,
    cloneUrl: `https://git.example.test/${name}.git`,
  });
  assert.equal(r.status, 201);
  return r.body.id as number;
}

describe("auth", () => {
  it("refuses the API without a token, with a wrong one and with a node's tokens", async () => {
    const missing = await call("GET", "/api/v1/repositories", undefined, false);
    assert.equal(missing.status, 401);
    assert.equal(missing.body.error.code, "UNAUTHORIZED");
    assert.equal(missing.res.headers["www-authenticate"], "Bearer");
    for (const authorization of [
      "Bearer alk_admin_" + "A".repeat(43),
      "Bearer nonsense",
      `Basic ${s.admin}`,
      s.admin,
    ]) {
      const res = await s.app.inject({ method: "GET", url: "/api/v1/runs", headers: { authorization } });
      assert.equal(res.statusCode, 401, authorization);
      assert.equal(JSON.parse(res.body).error.code, "UNAUTHORIZED");
    }
    const node = await registerTestNode(s, { name: "auth-node" });
    for (const token of [node.credential, node.registrationToken]) {
      const asAgent = await s.app.inject({
        method: "GET",
        url: "/api/v1/nodes",
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(asAgent.statusCode, 401);
    }
  });

  it("leaves healthz, metrics and the OpenAPI document open", async () => {
    const health = await call("GET", "/healthz", undefined, false);
    assert.deepEqual(health.body, { ok: true, database: "up" });
    assert.equal((await call("GET", "/metrics", undefined, false)).status, 200);
    assert.equal((await call("GET", "/api/v1/openapi.json", undefined, false)).status, 200);
  });

  it("marks the token as used", async () => {
    const { rows } = await s.db.pool.query("SELECT last_used_at FROM api_tokens WHERE kind = 'personal'");
    assert.ok(rows[0]?.last_used_at instanceof Date);
  });
});

describe("repositories", () => {
  it("registers one, returning the secret once and webhook URLs on the public address", async () => {
    const r = await call("POST", "/api/v1/repositories", {
      name: "acme/widgets",
      cloneUrl: "https://git.example.test/acme/widgets.git",
      defaultBranch: "trunk",
      pollIntervalSeconds: 60,
      maxConcurrentJobs: 2,
    });
    assert.equal(r.status, 201);
    assert.match(r.body.webhookSecret, /^[0-9a-f]{64}$/);
    assert.equal(r.body.defaultBranch, "trunk");
    assert.equal(r.body.pollIntervalSeconds, 60);
    assert.equal(r.body.maxConcurrentJobs, 2);
    assert.equal(r.body.webhookUrls.github, `${PUBLIC_URL}/api/v1/webhooks/github/${r.body.id}`);
    assert.equal(r.body.webhookUrls.bitbucket, `${PUBLIC_URL}/api/v1/webhooks/bitbucket/${r.body.id}`);

    const one = await call("GET", `/api/v1/repositories/${r.body.id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.name, "acme/widgets");
    assert.equal(one.body.webhookSecret, undefined);
    const list = await call("GET", "/api/v1/repositories");
    assert.ok(list.body.some((x: { id: number }) => x.id === r.body.id));
    assert.ok(list.body.every((x: object) => !("webhookSecret" in x)));
  });

  it("refuses a duplicate name with 409", async () => {
    await addRepository("acme/dup");
    const again = await call("POST", "/api/v1/repositories", {
      name: "acme/dup",
      cloneUrl: "https://x.test/a.git",
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, "CONFLICT");
  });

  it("lists every validation problem at once", async () => {
    const r = await call("POST", "/api/v1/repositories", {
      name: "no-owner",
      cloneUrl: "--upload-pack=evil",
      defaultBranch: "-x",
      pollIntervalSeconds: 5,
      maxConcurrentJobs: 0,
      surprise: true,
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, "USAGE");
    const paths = r.body.error.details.map((d: { path: string }) => d.path).sort();
    assert.deepEqual(paths, [
      "body",
      "body.cloneUrl",
      "body.defaultBranch",
      "body.maxConcurrentJobs",
      "body.name",
      "body.pollIntervalSeconds",
    ]);
    const empty = await call("POST", "/api/v1/repositories");
    assert.equal(empty.status, 400);
    assert.deepEqual(empty.body.error.details.map((d: { path: string }) => d.path).sort(), [
      "body.cloneUrl",
      "body.name",
    ]);
  });

  it("answers 400 for bad ids and 404 for unknown ones", async () => {
    const bad = await call("GET", "/api/v1/repositories/abc");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details[0].path, "params.id");
    const unknown = await call("GET", "/api/v1/repositories/999999");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, "NOT_FOUND");
    assert.equal((await call("DELETE", "/api/v1/repositories/999999")).status, 404);
  });

  it("deletes a repository, but not while a run is active", async () => {
    const id = await addRepository("acme/doomed");
    const runId = await seedRun(s.db.pool, id, { state: "running" });
    const refused = await call("DELETE", `/api/v1/repositories/${id}`);
    assert.equal(refused.status, 409);
    await s.db.pool.query("UPDATE runs SET state = 'completed', conclusion = 'success' WHERE id = $1", [
      runId,
    ]);
    const ok = await call("DELETE", `/api/v1/repositories/${id}`);
    assert.equal(ok.status, 204);
    assert.equal((await call("GET", `/api/v1/repositories/${id}`)).status, 404);
  });

  it("triggers runs through the core with the validated request", async () => {
    const id = await addRepository("acme/trigger");
    const r = await call("POST", `/api/v1/repositories/${id}/runs`, {
      ref: "feature/x",
      event: "workflow_dispatch",
      inputs: { level: 3, debug: true, name: "x" },
    });
    assert.equal(r.status, 201);
    assert.equal(r.body.runs.length, 1);
    const last = s.runs.triggers.at(-1);
    assert.equal(last?.repositoryId, id);
    assert.deepEqual(last?.req, {
      ref: "feature/x",
      event: "workflow_dispatch",
      inputs: { level: "3", debug: "true", name: "x" },
      actor: "ops",
      // The user who asked: never a reviewer of the run's deployments.
      triggeredByUserId: Number(
        (await s.db.pool.query<{ id: string }>("SELECT id FROM users WHERE name = 'ops'")).rows[0]!.id,
      ),
    });
    const bad = await call("POST", `/api/v1/repositories/${id}/runs`, {
      ref: "-evil",
      commit: "xyz",
      inputs: [],
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error.details.map((d: { path: string }) => d.path).sort(), [
      "body.commit",
      "body.inputs",
      "body.ref",
    ]);
  });
});

describe("runs and jobs", () => {
  let repoId: number;
  let runId: number;
  let jobId: number;
  before(async () => {
    repoId = await addRepository("acme/runs");
    runId = await seedRun(s.db.pool, repoId, { state: "completed", conclusion: "success" });
    jobId = await seedJob(s.db.pool, runId, { state: "completed", conclusion: "success" });
    await seedSteps(s.db.pool, jobId);
    await seedLog(s.db.pool, jobId, 1, 1, "hello\n");
    await seedLog(s.db.pool, jobId, 1, 2, "world\n");
    await seedRun(s.db.pool, repoId); // a queued one
  });

  it("lists runs newest first with filters and links", async () => {
    const all = await call("GET", `/api/v1/runs?repository=${repoId}`);
    assert.equal(all.status, 200);
    assert.equal(all.body.length, 2);
    assert.ok(all.body[0].id > all.body[1].id);
    const done = await call("GET", `/api/v1/runs?repository=${repoId}&state=completed&limit=10`);
    assert.deepEqual(
      done.body.map((r: { id: number }) => r.id),
      [runId],
    );
    const run = done.body[0];
    assert.equal(run.repository, "acme/runs");
    assert.equal(run.url, `${PUBLIC_URL}/api/v1/runs/${runId}`);
    assert.equal(run.trigger, "manual");
    assert.equal(run.conclusion, "success");
    const limited = await call("GET", `/api/v1/runs?repository=${repoId}&limit=1`);
    assert.equal(limited.body.length, 1);
    const bad = await call("GET", "/api/v1/runs?state=weird&limit=0&color=red");
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error.details.map((d: { path: string }) => d.path).sort(), [
      "query",
      "query.limit",
      "query.state",
    ]);
  });

  it("shows a run with its jobs and steps", async () => {
    const r = await call("GET", `/api/v1/runs/${runId}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.jobs.length, 1);
    const job = r.body.jobs[0];
    assert.equal(job.id, jobId);
    assert.equal(job.url, `${PUBLIC_URL}/api/v1/jobs/${jobId}/logs`);
    assert.deepEqual(job.matrix, { os: "linux" });
    assert.deepEqual(job.labels, ["ubuntu-latest"]);
    assert.deepEqual(
      job.steps.map((st: { index: number; id: string }) => [st.index, st.id]),
      [
        [0, "checkout"],
        [1, "test"],
      ],
    );
    assert.equal((await call("GET", "/api/v1/runs/424242")).status, 404);
  });

  it("shows a job", async () => {
    const r = await call("GET", `/api/v1/jobs/${jobId}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.state, "completed");
    assert.equal(r.body.steps.length, 2);
    assert.equal((await call("GET", "/api/v1/jobs/424242")).status, 404);
  });

  it("serves the log as text, and as an attachment with download=1", async () => {
    const r = await call("GET", `/api/v1/jobs/${jobId}/logs`);
    assert.equal(r.status, 200);
    assert.equal(r.res.headers["content-type"], "text/plain; charset=utf-8");
    assert.equal(r.res.body, "hello\nworld\n");
    assert.equal(r.res.headers["content-disposition"], undefined);
    const d = await call("GET", `/api/v1/jobs/${jobId}/logs?download=1`);
    assert.match(String(d.res.headers["content-disposition"]), /^attachment; filename="job-\d+\.log"$/);
    assert.equal((await call("GET", "/api/v1/jobs/424242/logs")).status, 404);
  });

  it("cancels and reruns through the core", async () => {
    const c = await call("POST", `/api/v1/runs/${runId}/cancel`);
    assert.equal(c.status, 202);
    assert.deepEqual(c.body, { ok: true });
    assert.deepEqual(s.runs.cancels, [runId]);
    const rr = await call("POST", `/api/v1/runs/${runId}/rerun`);
    assert.equal(rr.status, 201);
    assert.equal(rr.body.id, runId);
    assert.equal(rr.body.attempt, 2);
    const failed = await call("POST", `/api/v1/runs/${runId}/rerun`, { failedOnly: true });
    assert.equal(failed.status, 201);
    assert.deepEqual(s.runs.reruns, [runId, runId]);
    assert.deepEqual(
      s.runs.rerunRequests.map((r) => r.failedOnly),
      [false, true],
    );
    const bad = await call("POST", `/api/v1/runs/${runId}/rerun`, { failedOnly: "yes" });
    assert.equal(bad.status, 400);
    const job = await call("POST", `/api/v1/runs/${runId}/rerun`, { job: "build" });
    assert.equal(job.status, 201);
    assert.equal(s.runs.rerunRequests.at(-1)?.job, "build");
    const notAJob = await call("POST", `/api/v1/runs/${runId}/rerun`, { job: "$(id)" });
    assert.equal(notAJob.status, 400);
    assert.equal((await call("POST", "/api/v1/runs/0/cancel")).status, 400);
  });
});

describe("nodes", () => {
  it("registers a node through a registration token, lists it, drains and enables it", async () => {
    const { nodeId } = await registerTestNode(s, {
      name: "node-1",
      labels: ["linux"],
      requiredLabels: ["gpu"],
    });
    const node = (await call("GET", "/api/v1/nodes")).body.find((n: { id: number }) => n.id === nodeId);
    assert.deepEqual(
      [node.name, node.labels, node.requiredLabels, node.enabled, node.running, node.revokedAt],
      ["node-1", ["linux"], ["gpu"], true, 0, null],
    );

    const off = await call("POST", `/api/v1/nodes/${node.id}/disable`);
    assert.equal(off.status, 200);
    assert.equal(off.body.enabled, false);
    const on = await call("POST", `/api/v1/nodes/${node.id}/enable`);
    assert.equal(on.body.enabled, true);
    const list = await call("GET", "/api/v1/nodes");
    assert.ok(list.body.some((n: { name: string }) => n.name === "node-1"));
    assert.equal((await call("POST", "/api/v1/nodes/999999/disable")).status, 404);
    const dup = await call("POST", "/api/v1/nodes/registrations", { name: "node-1" });
    assert.equal(dup.status, 409);
    const bad = await call("POST", "/api/v1/nodes/registrations", {
      name: "bad name!",
      labels: [""],
      expiresInMinutes: 7 * 24 * 60 + 1,
    });
    assert.deepEqual(bad.body.error.details.map((d: { path: string }) => d.path).sort(), [
      "body.expiresInMinutes",
      "body.labels.0",
      "body.name",
    ]);
    assert.equal(
      (await call("POST", "/api/v1/nodes", { name: "node-2" })).status,
      404,
      "no token-issuing route",
    );
  });

  it("counts a node's machines and refuses to delete it while it has some", async () => {
    const { nodeId } = await registerTestNode(s, { name: "busy-node" });
    const repo = await addRepository("acme/busy");
    const run = await seedRun(s.db.pool, repo, { state: "running" });
    const job = await seedJob(s.db.pool, run, { state: "running", nodeId });
    const list = await call("GET", "/api/v1/nodes");
    assert.equal(list.body.find((n: { id: number }) => n.id === nodeId).running, 1);
    assert.equal((await call("DELETE", `/api/v1/nodes/${nodeId}`)).status, 409);
    await s.db.pool.query("UPDATE jobs SET state = 'completed', conclusion = 'success' WHERE id = $1", [job]);
    assert.equal((await call("DELETE", `/api/v1/nodes/${nodeId}`)).status, 204);
    const { rowCount } = await s.db.pool.query("SELECT 1 FROM node_credentials WHERE node_id = $1", [nodeId]);
    assert.equal(rowCount, 0);
    assert.ok(s.agents.disconnected.includes(nodeId), "the deleted node's agent connection is closed");
    assert.equal((await call("DELETE", `/api/v1/nodes/${nodeId}`)).status, 404);
  });
});

describe("images and flavours", () => {
  it("adds and lists images", async () => {
    const r = await call("POST", "/api/v1/images", {
      name: "debian-12",
      labels: ["debian"],
    });
    assert.equal(r.status, 201);
    assert.deepEqual([r.body.provisioner, r.body.requiredLabels], ["sandbox", []]);
    assert.equal(r.body.source, undefined);
    // An image is only a name: where its files are is each node's business (no host-root source).
    const withSource = await call("POST", "/api/v1/images", { name: "x", source: "/srv/rootfs" });
    assert.equal(withSource.status, 400);
    const list = await call("GET", "/api/v1/images");
    assert.deepEqual(
      list.body.map((i: { name: string }) => i.name),
      ["debian-12"],
    );
    assert.equal((await call("POST", "/api/v1/images", { name: "debian-12" })).status, 409);
    const bad = await call("POST", "/api/v1/images", { provisioner: "Bad One" });
    assert.deepEqual(bad.body.error.details.map((d: { path: string }) => d.path).sort(), [
      "body.name",
      "body.provisioner",
    ]);
  });

  it("adds and lists flavours", async () => {
    const r = await call("POST", "/api/v1/flavours", {
      name: "small",
      cpus: 0.5,
      memoryMb: 512,
      diskMb: 2048,
    });
    assert.equal(r.status, 201);
    assert.deepEqual([r.body.cpus, r.body.memoryMb, r.body.diskMb], [0.5, 512, 2048]);
    const list = await call("GET", "/api/v1/flavours");
    assert.equal(list.body[0].name, "small");
    const bad = await call("POST", "/api/v1/flavours", { name: "x", cpus: 0, memoryMb: 1.5 });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error.details.map((d: { path: string }) => d.path).sort(), [
      "body.cpus",
      "body.diskMb",
      "body.memoryMb",
    ]);
  });
});

describe("errors, metrics and the OpenAPI document", () => {
  it("answers malformed JSON with 400 and unknown routes with 404 in the error shape", async () => {
    const res = await s.app.inject({
      method: "POST",
      url: "/api/v1/nodes/registrations",
      headers: { ...s.auth, "content-type": "application/json" },
      payload: "{not json",
    });
    assert.equal(res.statusCode, 400);
    assert.equal(JSON.parse(res.body).error.code, "USAGE");
    const nf = await call("GET", "/api/v1/nothing-here");
    assert.equal(nf.status, 404);
    assert.equal(nf.body.error.code, "NOT_FOUND");
  });

  it("answers an oversized API body with 413", async () => {
    const res = await s.app.inject({
      method: "POST",
      url: "/api/v1/nodes/registrations",
      headers: { ...s.auth, "content-type": "application/json" },
      payload: JSON.stringify({ name: "x", labels: ["a".repeat(s.config.apiBodyLimitBytes)] }),
    });
    assert.equal(res.statusCode, 413);
    assert.equal(JSON.parse(res.body).error.code, "PAYLOAD_TOO_LARGE");
  });

  it("exposes queue depth, jobs and machines by state, agents and dispatch latency", async () => {
    const repo = await addRepository("acme/metrics");
    const run = await seedRun(s.db.pool, repo);
    await seedJob(s.db.pool, run, { state: "queued" });
    const { rows } = await s.db.pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM jobs WHERE state = 'queued'",
    );
    const text = (await call("GET", "/metrics", undefined, false)).res.body;
    assert.match(text, new RegExp(`^airlock_queue_depth ${rows[0]?.n}$`, "m"));
    assert.match(text, /^airlock_jobs\{state="queued"\} [1-9]\d*$/m);
    assert.match(text, /^airlock_machines\{state="running"\} \d+$/m);
    assert.match(text, /^airlock_connected_agents 0$/m);
    assert.match(text, /^airlock_dispatch_latency_seconds_count 0$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m);
  });

  it("documents every registered route", async () => {
    const { registeredRoutes } = await import("../../src/server/index.js");
    const { openApiPath } = await import("../../src/server/openapi.js");
    const doc = (await call("GET", "/api/v1/openapi.json", undefined, false)).body;
    assert.equal(doc.openapi, "3.1.0");
    assert.equal(doc.servers[0].url, PUBLIC_URL);
    const routes = registeredRoutes(s.app);
    assert.ok(routes.length >= 25);
    const missing = routes.filter((r) => !doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()]);
    assert.deepEqual(missing, []);
    const body = doc.paths["/api/v1/repositories"].post.requestBody.content["application/json"].schema;
    assert.deepEqual(body.required.sort(), ["cloneUrl", "name"]);
  });
});

void describe("organizations", () => {
  void it("adds an organization, puts a repository in it and sets or lifts its limit", async () => {
    const created = await call("POST", "/api/v1/organizations", { name: "acme-org", maxConcurrentJobs: 3 });
    assert.equal(created.status, 201);
    assert.equal(created.body.maxConcurrentJobs, 3);
    assert.equal((await call("POST", "/api/v1/organizations", { name: "acme-org" })).status, 409);
    const repo = await call("POST", "/api/v1/repositories", {
      name: "acme-org/app",
      cloneUrl: "https://git.example.test/acme-org/app.git",
      organization: "acme-org",
    });
    assert.equal(repo.status, 201);
    const { rows } = await s.db.pool.query(
      "SELECT o.name FROM repositories r JOIN organizations o ON o.id = r.organization_id WHERE r.id = $1",
      [repo.body.id],
    );
    assert.equal(rows[0]?.name, "acme-org");
    const limited = await call("PUT", "/api/v1/organizations/acme-org/limit", { maxConcurrentJobs: 5 });
    assert.equal(limited.status, 200);
    assert.equal(limited.body.maxConcurrentJobs, 5);
    const lifted = await call("PUT", "/api/v1/organizations/acme-org/limit", { maxConcurrentJobs: null });
    assert.equal(lifted.body.maxConcurrentJobs, null);
    const list = await call("GET", "/api/v1/organizations");
    assert.deepEqual(
      list.body.map((o: { name: string }) => o.name),
      ["default", "acme-org"],
    );
  });

  void it("refuses a bad limit, an unknown organization and a repository in one", async () => {
    const bad = await call("PUT", "/api/v1/organizations/default/limit", { maxConcurrentJobs: 0 });
    assert.equal(bad.status, 400);
    assert.equal(
      (await call("PUT", "/api/v1/organizations/nope/limit", { maxConcurrentJobs: 1 })).status,
      404,
    );
    const repo = await call("POST", "/api/v1/repositories", {
      name: "nope/app",
      cloneUrl: "https://git.example.test/nope/app.git",
      organization: "nope",
    });
    assert.equal(repo.status, 404);
  });
});
