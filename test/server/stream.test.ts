// A real listening server on 127.0.0.1: the SSE log stream (backlog, then live chunks without
// loss or duplicates, then `end`; Last-Event-ID; client disconnect) and the agents' WebSocket
// upgrade (node credential checked before the handshake).
import assert from "node:assert/strict";
import { createApiToken, createUser } from "../../src/auth/index.js";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import { registerTestNode, startTestServer, type TestServer } from "./helpers.js";
import { seedJob, seedLog, seedRun } from "./seed.js";

let s: TestServer;
let base: string;
let repoId: number;

before(async () => {
  s = await startTestServer({ sseHeartbeatMs: 20 });
  await s.app.listen({ host: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
  const res = await s.app.inject({
    method: "POST",
    url: "/api/v1/repositories",
    headers: s.auth,
    payload: { name: "acme/stream", cloneUrl: "https://git.example.test/acme/stream.git" },
  });
  repoId = JSON.parse(res.body).id;
});
after(async () => {
  await s?.close();
});

interface SseEvent {
  event?: string;
  id?: string;
  data?: string;
  comment?: string;
}

/** An SSE client: collects parsed events; `until` waits for a condition on them. */
function openStream(path: string, headers: Record<string, string> = {}) {
  const events: SseEvent[] = [];
  const waiters: Array<() => void> = [];
  let ended = false;
  let status = 0;
  let buffer = "";
  const req = http.get(`${base}${path}`, { headers: { ...s.auth, ...headers } });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.on("response", (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding("utf8");
      res.on("data", (text: string) => {
        buffer += text;
        let cut: number;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const e: SseEvent = {};
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) e.comment = line.slice(1).trim();
            else {
              const i = line.indexOf(": ");
              (e as Record<string, string>)[line.slice(0, i)] = line.slice(i + 2);
            }
          }
          events.push(e);
        }
        waiters.splice(0).forEach((w) => w());
      });
      res.on("end", () => {
        ended = true;
        waiters.splice(0).forEach((w) => w());
      });
      resolve(res);
    });
    req.on("error", reject);
  });
  const until = async (cond: () => boolean): Promise<void> => {
    while (!cond()) {
      if (ended) throw new Error(`stream ended early: ${JSON.stringify(events)}`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return {
    events,
    response,
    until,
    get status() {
      return status;
    },
    get ended() {
      return ended;
    },
    close: () => req.destroy(),
    logs: () => events.filter((e) => e.event === "log"),
  };
}

describe("log stream (SSE)", () => {
  it("sends the backlog, then live chunks without loss or duplicates, then end", async () => {
    const runId = await seedRun(s.db.pool, repoId, { state: "running" });
    const jobId = await seedJob(s.db.pool, runId, { state: "running" });
    await seedLog(s.db.pool, jobId, 1, 1, "▶ one\n", "system");
    await seedLog(s.db.pool, jobId, 1, 2, "two\n");
    await s.db.pool.query("UPDATE log_chunks SET style = 'step' WHERE job_id = $1 AND seq = 1", [jobId]);
    // Live chunks that arrive between subscribing and reading the backlog: one already stored
    // (must not repeat), one not yet in the backlog (must not be lost).
    s.logs.onSubscribe = (id) => {
      s.logs.emit({ jobId: id, attempt: 1, seq: 2, data: "two\n", source: "step" });
      s.logs.emit({ jobId: id, attempt: 1, seq: 3, data: "three\n", source: "step", style: "log" });
    };
    const stream = openStream(`/api/v1/jobs/${jobId}/logs/stream`);
    const res = await stream.response;
    s.logs.onSubscribe = undefined;
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers["content-type"]), /^text\/event-stream/);
    await stream.until(() => stream.logs().length >= 3);
    s.logs.emit({ jobId, attempt: 1, seq: 4, data: "four\n", source: "step" });
    await stream.until(() => stream.logs().length >= 4);
    await s.db.pool.query("UPDATE jobs SET state = 'completed', conclusion = 'failure' WHERE id = $1", [
      jobId,
    ]);
    s.logs.finish(jobId);
    await stream.until(() => stream.events.some((e) => e.event === "end"));
    await stream.until(() => stream.ended).catch(() => undefined);

    assert.deepEqual(
      stream.logs().map((e) => e.id),
      ["1:1", "1:2", "1:3", "1:4"],
    );
    // Each chunk says who wrote it: Airlock ("system") or the job ("step"), when, and its style
    // (null: none, e.g. stored before styles were).
    const { time, ...first } = JSON.parse(stream.logs()[0]?.data ?? "{}") as { time?: string };
    assert.match(time ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(first, {
      attempt: 1,
      seq: 1,
      data: "▶ one\n",
      source: "system",
      style: "step",
    });
    assert.equal((JSON.parse(stream.logs()[1]?.data ?? "{}") as { style?: unknown }).style, null);
    assert.deepEqual(JSON.parse(stream.logs()[2]?.data ?? "{}"), {
      attempt: 1,
      seq: 3,
      data: "three\n",
      source: "step",
      style: "log",
    });
    const end = stream.events.filter((e) => e.event === "end");
    assert.equal(end.length, 1);
    assert.deepEqual(JSON.parse(end[0]?.data ?? "{}"), { conclusion: "failure" });
    assert.equal(stream.events.at(-1)?.event, "end");
    assert.equal(s.logs.listenerCount(jobId), 0);
  });

  it("sends keep-alive comments while idle", async () => {
    const runId = await seedRun(s.db.pool, repoId, { state: "running" });
    const jobId = await seedJob(s.db.pool, runId, { state: "running" });
    const stream = openStream(`/api/v1/jobs/${jobId}/logs/stream`);
    await stream.until(() => stream.events.some((e) => e.comment === "keep-alive"));
    stream.close();
  });

  it("says why a queued job waits, at once and whenever that changes; nothing once it runs", async () => {
    const runId = await seedRun(s.db.pool, repoId, { state: "running" });
    const jobId = await seedJob(s.db.pool, runId, { state: "queued" });
    await s.db.pool.query("UPDATE jobs SET wait_reason = $2 WHERE id = $1", [jobId, "no node has image `x`"]);
    const stream = openStream(`/api/v1/jobs/${jobId}/logs/stream`);
    const waits = (): string[] =>
      stream.events
        .filter((e) => e.event === "wait")
        .map((e) => (JSON.parse(e.data ?? "{}") as { reason: string }).reason);
    await stream.until(() => waits().length >= 1);
    await s.db.pool.query("UPDATE jobs SET wait_reason = $2 WHERE id = $1", [
      jobId,
      "waiting for a reviewer",
    ]);
    await stream.until(() => waits().length >= 2);
    await s.db.pool.query("UPDATE jobs SET state = 'running', wait_reason = NULL WHERE id = $1", [jobId]);
    await seedLog(s.db.pool, jobId, 1, 1, "ran\n");
    s.logs.emit({ jobId, attempt: 1, seq: 1, data: "ran\n", source: "step" });
    await stream.until(() => stream.logs().length === 1);
    await s.db.pool.query("UPDATE jobs SET state = 'completed', conclusion = 'success' WHERE id = $1", [
      jobId,
    ]);
    s.logs.finish(jobId);
    await stream.until(() => stream.events.some((e) => e.event === "end"));
    assert.deepEqual(waits(), ["no node has image `x`", "waiting for a reviewer"]);
  });

  it("resumes after Last-Event-ID", async () => {
    const runId = await seedRun(s.db.pool, repoId, { state: "completed" });
    const jobId = await seedJob(s.db.pool, runId, { state: "completed", conclusion: "success" });
    await seedLog(s.db.pool, jobId, 1, 1, "a\n");
    await seedLog(s.db.pool, jobId, 1, 2, "b\n");
    await seedLog(s.db.pool, jobId, 2, 1, "c\n");
    s.logs.finish(jobId);
    const stream = openStream(`/api/v1/jobs/${jobId}/logs/stream`, { "last-event-id": "1:1" });
    await stream.until(() => stream.events.some((e) => e.event === "end"));
    assert.deepEqual(
      stream.logs().map((e) => e.id),
      ["1:2", "2:1"],
    );
    // ?after= does the same for a first connection (an EventSource cannot send the header);
    // a reconnect's Last-Event-ID wins over it.
    const fromQuery = openStream(`/api/v1/jobs/${jobId}/logs/stream?after=1:2`);
    await fromQuery.until(() => fromQuery.events.some((e) => e.event === "end"));
    assert.deepEqual(
      fromQuery.logs().map((e) => e.id),
      ["2:1"],
    );
    const both = openStream(`/api/v1/jobs/${jobId}/logs/stream?after=1:1`, { "last-event-id": "1:2" });
    await both.until(() => both.events.some((e) => e.event === "end"));
    assert.deepEqual(
      both.logs().map((e) => e.id),
      ["2:1"],
    );
    const bad = await s.app.inject({
      method: "GET",
      url: `/api/v1/jobs/${jobId}/logs/stream?after=x`,
      headers: s.auth,
    });
    assert.equal(bad.statusCode, 400);
  });

  it("unsubscribes when the client goes away", async () => {
    const runId = await seedRun(s.db.pool, repoId, { state: "running" });
    const jobId = await seedJob(s.db.pool, runId, { state: "running" });
    await seedLog(s.db.pool, jobId, 1, 1, "x\n");
    const stream = openStream(`/api/v1/jobs/${jobId}/logs/stream`);
    await stream.until(() => stream.logs().length === 1);
    assert.equal(s.logs.listenerCount(jobId), 1);
    stream.close();
    while (s.logs.listenerCount(jobId) > 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(s.logs.listenerCount(jobId), 0);
  });

  it(
    "ends a live stream once its token is revoked (checked at each heartbeat)",
    { timeout: 120_000 },
    async () => {
      const runId = await seedRun(s.db.pool, repoId, { state: "running" });
      const jobId = await seedJob(s.db.pool, runId, { state: "running" });
      await seedLog(s.db.pool, jobId, 1, 1, "x\n");
      const viewer = await createUser(s.db.pool, { name: "stream-viewer" });
      await s.app.inject({
        method: "PUT",
        url: "/api/v1/organizations/default/members/stream-viewer",
        headers: s.auth,
        payload: { role: "viewer" },
      });
      const made = await createApiToken(s.db.pool, {
        kind: "personal",
        name: "v",
        scopes: ["runs:read"],
        userId: viewer.id,
      });
      const stream = openStream(`/api/v1/jobs/${jobId}/logs/stream`, {
        authorization: `Bearer ${made.token}`,
      });
      await stream.until(() => stream.logs().length === 1);
      await s.db.pool.query("UPDATE api_tokens SET revoked_at = now() WHERE id = $1", [made.info.id]);
      // Not a timer: the stream ends, at the next heartbeat, however long that takes.
      while (!stream.ended) await new Promise((r) => setTimeout(r, 10));
      s.logs.emit({ jobId, attempt: 1, seq: 2, data: "after revocation\n", source: "step" });
      assert.ok(!stream.events.some((e) => (e.data ?? "").includes("after revocation")));
      assert.equal(s.logs.listenerCount(jobId), 0);
    },
  );

  it("answers an unknown job with a JSON 404 and a missing token with 401", async () => {
    const nf = openStream(`/api/v1/jobs/987654/logs/stream`);
    assert.equal((await nf.response).statusCode, 404);
    const noAuth = openStream(`/api/v1/jobs/1/logs/stream`, { authorization: "" });
    assert.equal((await noAuth.response).statusCode, 401);
  });
});

describe("agent WebSocket", () => {
  function dial(headers: Record<string, string>, path = "/api/v1/agent") {
    const ws = new WebSocket(`${base.replace("http", "ws")}${path}`, { headers });
    return new Promise<{ ws: WebSocket; status: number }>((resolve, reject) => {
      ws.on("open", () => resolve({ ws, status: 101 }));
      ws.on("unexpected-response", (_req, res) => {
        resolve({ ws, status: res.statusCode ?? 0 });
        res.resume();
      });
      ws.on("error", reject);
    });
  }

  it("refuses a missing, wrong or admin token with 401 before the handshake", async () => {
    for (const authorization of [undefined, `Bearer alk_node_${"x".repeat(43)}`, `Bearer ${s.admin}`]) {
      const { status } = await dial(authorization ? { authorization } : {});
      assert.equal(status, 401, authorization);
    }
    assert.equal(s.agents.accepted.length, 0);
  });

  it("answers other upgrade paths with 404", async () => {
    const { status } = await dial({ authorization: `Bearer ${s.admin}` }, "/api/v1/elsewhere");
    assert.equal(status, 404);
  });

  it("hands an authenticated socket to the agent hub with its node id", async () => {
    const node = await registerTestNode(s, { name: "ws-node" });
    const registration = await dial({ authorization: `Bearer ${node.registrationToken}` });
    assert.equal(registration.status, 401, "a registration token does not open the socket");
    const { ws, status } = await dial({ authorization: `Bearer ${node.credential}` });
    assert.equal(status, 101);
    while (s.agents.accepted.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(s.agents.accepted[0]?.nodeId, node.nodeId);
    const received = new Promise<string>((resolve) =>
      ws.once("message", (m: Buffer) => resolve(m.toString("utf8"))),
    );
    s.agents.accepted[0]?.socket.send("hello agent");
    assert.equal(await received, "hello agent");
    const closed = new Promise<number>((resolve) => ws.once("close", resolve));
    ws.close();
    assert.equal(await closed, 1005);
  });

  it("answers a plain GET with 426", async () => {
    const res = await s.app.inject({ method: "GET", url: "/api/v1/agent" });
    assert.equal(res.statusCode, 426);
  });
});

describe("shutdown", () => {
  it("closes agent sockets with 'going away' when the server closes", async () => {
    const other = await startTestServer();
    try {
      await other.app.listen({ host: "127.0.0.1", port: 0 });
      const port = (other.app.server.address() as AddressInfo).port;
      const { credential } = await registerTestNode(other, { name: "bye-node" });
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/agent`, {
        headers: { authorization: `Bearer ${credential}` },
      });
      await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
      const closed = new Promise<number>((resolve) => ws.once("close", resolve));
      await other.app.close();
      assert.equal(await closed, 1001);
    } finally {
      await other.close();
    }
  });
});
