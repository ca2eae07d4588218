// A tiny real HTTP server (node:http on 127.0.0.1:0) speaking the REST API v1 contract over
// in-memory data, for the CLI tests. Runs move queued → running → completed one step per
// GET (by request count, never by time); the log stream sends backlog, live chunks and `end`,
// and can be told to drop a connection once to exercise the client's resume.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Job, LogChunk, Node, RunDetail } from "../../src/cli/api/index.js";

export const TOKEN = "admin-token-for-tests";
const T0 = "2024-05-01T10:00:00.000Z";
const T1 = "2024-05-01T10:01:05.000Z";

interface JobLog {
  chunks: LogChunk[];
  conclusion: string | null;
  completed: boolean;
  followers: Set<ServerResponse>;
}

export interface StreamDrop {
  jobId: number;
  /** Events written on the first connection before it is cut. */
  afterChunks: number;
  /** "reset": the socket is destroyed; "end": the response ends without `event: end`. */
  how: "reset" | "end";
  /** On the resumed connection, also resend this many chunks before Last-Event-ID (an at-least-once server). */
  resend?: number;
}

export interface Stub {
  url: string;
  requests: { method: string; path: string; headers: IncomingMessage["headers"]; body: string }[];
  repos: { id: number; name: string; [k: string]: unknown }[];
  runs: (RunDetail & { polls: number; outcome: string })[];
  nodes: Node[];
  images: Record<string, unknown>[];
  flavours: Record<string, unknown>[];
  /** Conclusion of the runs the next trigger creates. */
  triggerOutcome: string;
  drop: StreamDrop | undefined;
  appendLog(jobId: number, data: string, attempt?: number): void;
  completeJob(jobId: number, conclusion: string): void;
  /** Resolves when the log stream of `jobId` has been opened `count` times in all. */
  streamOpened(jobId: number, count: number): Promise<void>;
  close(): Promise<void>;
}

// Request bodies are read loosely: the stub trusts the CLI under test to send the contract's shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (req: IncomingMessage, res: ServerResponse, m: RegExpExecArray, body: any) => void;

export async function startStub(): Promise<Stub> {
  const logs = new Map<number, JobLog>();
  const opens = new Map<number, number>();
  const waiters: { jobId: number; count: number; resolve: () => void }[] = [];
  let nextId = 1;
  const send = (res: ServerResponse, status: number, body?: unknown): void => {
    res.writeHead(status, body === undefined ? {} : { "content-type": "application/json" });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const fail = (
    res: ServerResponse,
    status: number,
    code: string,
    message: string,
    details?: unknown,
  ): void => send(res, status, { error: { code, message, ...(details ? { details } : {}) } });
  const logOf = (jobId: number): JobLog => {
    let l = logs.get(jobId);
    if (!l) logs.set(jobId, (l = { chunks: [], conclusion: null, completed: false, followers: new Set() }));
    return l;
  };
  const event = (c: LogChunk): string =>
    `id: ${c.attempt}:${c.seq}\nevent: log\ndata: ${JSON.stringify(c)}\n\n`;
  const endEvent = (l: JobLog): string =>
    `event: end\ndata: ${JSON.stringify({ conclusion: l.conclusion })}\n\n`;
  const webhookUrls = (id: number) =>
    Object.fromEntries(
      ["github", "gitlab", "gitea", "bitbucket"].map((p) => [p, `${stub.url}/api/v1/webhooks/${p}/${id}`]),
    );

  const makeJob = (id: number): Job => ({
    id,
    key: "ci.yml/build",
    jobId: "build",
    name: "build",
    workflow: "ci.yml",
    matrix: null,
    labels: ["debian-12"],
    state: "queued",
    conclusion: null,
    attempt: 1,
    node: null,
    image: "debian-12",
    flavour: "small",
    waitReason: "no enabled node has image `debian-12`",
    error: null,
    outputs: null,
    logBytes: 0,
    logTruncated: false,
    createdAt: T0,
    startedAt: null,
    finishedAt: null,
    url: `${stub.url}/api/v1/jobs/${id}/logs`,
    steps: [],
  });

  const advance = (run: Stub["runs"][number]): void => {
    run.polls += 1;
    const job = run.jobs[0] as Job;
    if (run.polls === 2) {
      Object.assign(run, { state: "running", startedAt: T0 });
      Object.assign(job, { state: "running", node: "node-1", waitReason: null, startedAt: T0 });
    } else if (run.polls >= 3) {
      Object.assign(run, { state: "completed", conclusion: run.outcome, finishedAt: T1 });
      Object.assign(job, {
        state: "completed",
        conclusion: run.outcome,
        finishedAt: T1,
        steps: [
          {
            index: 0,
            id: null,
            name: "Checkout",
            stage: "main",
            outcome: "success",
            conclusion: "success",
            startedAt: T0,
            finishedAt: T0,
          },
          {
            index: 1,
            id: "test",
            name: "Run tests",
            stage: "main",
            outcome: run.outcome,
            conclusion: run.outcome,
            startedAt: T0,
            finishedAt: T1,
          },
        ],
      });
    }
  };

  const byId = <T extends { id: unknown }>(list: T[], id: string | undefined): T | undefined =>
    list.find((o) => o.id === Number(id));

  const routes: [string, RegExp, Handler][] = [
    [
      "POST",
      /^\/api\/v1\/repositories$/,
      (_q, res, _m, b) => {
        const problems = ["name", "cloneUrl"]
          .filter((k) => typeof b?.[k] !== "string")
          .map((k) => `${k} is required`);
        if (problems.length > 0) return fail(res, 400, "USAGE", problems.join("; "), problems);
        if (stub.repos.some((r) => r.name === b.name))
          return fail(res, 409, "CONFLICT", `repository ${b.name} exists`);
        const id = nextId++;
        const repo = {
          id,
          name: b.name,
          cloneUrl: b.cloneUrl,
          defaultBranch: b.defaultBranch ?? "main",
          pollIntervalSeconds: b.pollIntervalSeconds ?? null,
          maxConcurrentJobs: b.maxConcurrentJobs ?? null,
          createdAt: T0,
          webhookUrls: webhookUrls(id),
        };
        stub.repos.push(repo);
        send(res, 201, { ...repo, webhookSecret: `whsec-${id}-0123456789abcdef` });
      },
    ],
    ["GET", /^\/api\/v1\/repositories$/, (_q, res) => send(res, 200, stub.repos)],
    [
      "DELETE",
      /^\/api\/v1\/repositories\/(\d+)$/,
      (_q, res, m) => {
        const i = stub.repos.findIndex((r) => r.id === Number(m[1]));
        if (i < 0) return fail(res, 404, "NOT_FOUND", `no repository ${m[1]}`);
        stub.repos.splice(i, 1);
        send(res, 204);
      },
    ],
    [
      "POST",
      /^\/api\/v1\/repositories\/(\d+)\/runs$/,
      (_q, res, m, b) => {
        const repo = byId(stub.repos, m[1]);
        if (!repo) return fail(res, 404, "NOT_FOUND", `no repository ${m[1]}`);
        const id = nextId++;
        const job = makeJob(nextId++);
        const run = {
          id,
          state: "queued",
          conclusion: null,
          workflow: "ci.yml",
          url: `${stub.url}/runs/${id}`,
          repository: String(repo.name),
          title: `manual ${b?.ref ?? "main"}`,
          trigger: b?.event ?? "push",
          actor: "admin",
          createdAt: T0,
          startedAt: null,
          finishedAt: null,
          error: null,
          jobs: [job],
          polls: 0,
          outcome: stub.triggerOutcome,
          inputs: b?.inputs ?? null,
        };
        stub.runs.push(run);
        send(res, 201, {
          runs: [{ id, state: run.state, conclusion: null, workflow: "ci.yml", url: run.url }],
        });
      },
    ],
    [
      "GET",
      /^\/api\/v1\/runs$/,
      (req, res) => {
        const q = new URL(req.url ?? "", "http://x").searchParams;
        const repo = q.get("repository") ? byId(stub.repos, q.get("repository") ?? "") : undefined;
        send(
          res,
          200,
          stub.runs
            .filter((r) => !repo || r.repository === repo.name)
            .filter((r) => !q.get("state") || r.state === q.get("state"))
            .map(({ jobs: _j, polls: _p, outcome: _o, ...r }) => r),
        );
      },
    ],
    [
      "GET",
      /^\/api\/v1\/runs\/(\d+)$/,
      (_q, res, m) => {
        const run = byId(stub.runs, m[1]);
        if (!run) return fail(res, 404, "NOT_FOUND", `no run ${m[1]}`);
        advance(run);
        const { polls: _p, outcome: _o, ...shown } = run;
        send(res, 200, shown);
      },
    ],
    [
      "POST",
      /^\/api\/v1\/runs\/(\d+)\/cancel$/,
      (_q, res, m) =>
        byId(stub.runs, m[1]) ? send(res, 202, { ok: true }) : fail(res, 404, "NOT_FOUND", `no run ${m[1]}`),
    ],
    [
      "POST",
      /^\/api\/v1\/runs\/(\d+)\/rerun$/,
      (_q, res, m) =>
        byId(stub.runs, m[1])
          ? send(res, 201, { id: 900, state: "queued", conclusion: null })
          : fail(res, 404, "NOT_FOUND", `no run ${m[1]}`),
    ],
    [
      "GET",
      /^\/api\/v1\/jobs\/(\d+)\/logs$/,
      (req, res, m) => {
        const l = logs.get(Number(m[1]));
        if (!l) return fail(res, 404, "NOT_FOUND", `no job ${m[1]}`);
        const download = new URL(req.url ?? "", "http://x").searchParams.get("download") === "1";
        res.writeHead(200, {
          "content-type": "text/plain; charset=utf-8",
          ...(download ? { "content-disposition": `attachment; filename="job-${m[1]}.log"` } : {}),
        });
        res.end(l.chunks.map((c) => c.data).join(""));
      },
    ],
    [
      "GET",
      /^\/api\/v1\/jobs\/(\d+)\/logs\/stream$/,
      (req, res, m) => {
        const jobId = Number(m[1]);
        const l = logs.get(jobId);
        if (!l) return fail(res, 404, "NOT_FOUND", `no job ${m[1]}`);
        const n = (opens.get(jobId) ?? 0) + 1;
        opens.set(jobId, n);
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        const last = String(req.headers["last-event-id"] ?? "");
        const [la, ls] = last.split(":").map(Number);
        let from = last
          ? l.chunks.findIndex((c) => c.attempt > (la ?? 0) || (c.attempt === la && c.seq > (ls ?? 0)))
          : 0;
        if (from < 0) from = l.chunks.length;
        if (last && stub.drop?.jobId === jobId && stub.drop.resend)
          from = Math.max(0, from - stub.drop.resend);
        const backlog = l.chunks.slice(from);
        const drop = n === 1 && stub.drop?.jobId === jobId ? stub.drop : undefined;
        if (drop) {
          const text = backlog.slice(0, drop.afterChunks).map(event).join("");
          if (drop.how === "end") res.end(text);
          else res.write(text, () => res.socket?.destroy());
        } else {
          res.write(": hello\n\n" + backlog.map(event).join(""));
          if (l.completed) res.end(endEvent(l));
          else {
            l.followers.add(res);
            res.on("close", () => l.followers.delete(res));
          }
        }
        for (const w of waiters.filter((x) => x.jobId === jobId && n >= x.count)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      },
    ],
    ["GET", /^\/api\/v1\/nodes$/, (_q, res) => send(res, 200, stub.nodes)],
    [
      "POST",
      /^\/api\/v1\/nodes$/,
      (_q, res, _m, b) => {
        const node: Node = {
          id: nextId++,
          name: b.name,
          labels: b.labels ?? [],
          requiredLabels: b.requiredLabels ?? [],
          cpus: null,
          memoryMb: null,
          diskMb: null,
          provisioners: [],
          images: [],
          enabled: true,
          connected: false,
          lastSeenAt: null,
          running: 0,
        };
        stub.nodes.push(node);
        send(res, 201, { node, token: `node-token-${node.id}-secret` });
      },
    ],
    [
      "POST",
      /^\/api\/v1\/nodes\/(\d+)\/(enable|disable)$/,
      (_q, res, m) => {
        const node = byId(stub.nodes, m[1]);
        if (!node) return fail(res, 404, "NOT_FOUND", `no node ${m[1]}`);
        node.enabled = m[2] === "enable";
        send(res, 200, node);
      },
    ],
    ["GET", /^\/api\/v1\/images$/, (_q, res) => send(res, 200, stub.images)],
    [
      "POST",
      /^\/api\/v1\/images$/,
      (_q, res, _m, b) => {
        const image = {
          id: nextId++,
          name: b.name,
          labels: b.labels ?? [],
          requiredLabels: b.requiredLabels ?? [],
          provisioner: b.provisioner ?? "sandbox",
          source: b.source ?? "",
        };
        stub.images.push(image);
        send(res, 201, image);
      },
    ],
    ["GET", /^\/api\/v1\/flavours$/, (_q, res) => send(res, 200, stub.flavours)],
    [
      "POST",
      /^\/api\/v1\/flavours$/,
      (_q, res, _m, b) => {
        const flavour = {
          id: nextId++,
          ...b,
          labels: b.labels ?? [],
          requiredLabels: b.requiredLabels ?? [],
        };
        stub.flavours.push(flavour);
        send(res, 201, flavour);
      },
    ],
  ];

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0] ?? "";
    let raw = "";
    req.on("data", (d: Buffer) => (raw += d.toString()));
    req.on("end", () => {
      stub.requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: raw });
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return fail(res, 401, "UNAUTHORIZED", "bad token");
      for (const [method, re, handler] of routes) {
        const m = re.exec(path);
        if (m && method === req.method) return handler(req, res, m, raw ? JSON.parse(raw) : undefined);
      }
      fail(res, 404, "NOT_FOUND", `no route ${req.method} ${path}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  const stub: Stub = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: [],
    repos: [],
    runs: [],
    nodes: [],
    images: [],
    flavours: [],
    triggerOutcome: "success",
    drop: undefined,
    appendLog(jobId, data, attempt = 1) {
      const l = logOf(jobId);
      const c = { attempt, seq: l.chunks.filter((x) => x.attempt === attempt).length + 1, data };
      l.chunks.push(c);
      for (const f of l.followers) f.write(event(c));
    },
    completeJob(jobId, conclusion) {
      const l = logOf(jobId);
      Object.assign(l, { completed: true, conclusion });
      for (const f of l.followers) f.end(endEvent(l));
    },
    streamOpened(jobId, count) {
      if ((opens.get(jobId) ?? 0) >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ jobId, count, resolve }));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return stub;
}
