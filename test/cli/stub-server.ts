// A tiny real HTTP server (node:http on 127.0.0.1:0) speaking the REST API v1 contract over
// in-memory data, for the CLI tests. Runs move queued → running → completed one step per
// GET (by request count, never by time); the log stream sends backlog, live chunks and `end`,
// and can be told to drop a connection once to exercise the client's resume (stub-logs.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ListedNode, NodeRegistration } from "../../src/cli/api/index.js";
import { advance, makeJob, summary, T0, type StubRun } from "./stub-runs.js";
import { createLogStore, type LogStore } from "./stub-logs.js";

export const TOKEN = "admin-token-for-tests";

export interface Stub {
  url: string;
  requests: { method: string; path: string; headers: IncomingMessage["headers"]; body: string }[];
  repos: { id: number; name: string; [k: string]: unknown }[];
  runs: StubRun[];
  nodes: ListedNode[];
  registrations: NodeRegistration[];
  images: Record<string, unknown>[];
  flavours: Record<string, unknown>[];
  /** Conclusion of the runs the next trigger creates. */
  triggerOutcome: string;
  /** Re-runs asked for (POST /runs/:id/rerun). */
  reruns: { id: number; failedOnly: boolean; job?: string }[];
  /** Stored logs and the SSE stream; `logs.drop` cuts a stream's first connection. */
  logs: LogStore;
  close(): Promise<void>;
}

// Request bodies are read loosely: the stub trusts the CLI under test to send the contract's shapes.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (req: IncomingMessage, res: ServerResponse, m: RegExpExecArray, body: any) => void;

export async function startStub(): Promise<Stub> {
  const logs = createLogStore();
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
  const webhookUrls = (id: number) =>
    Object.fromEntries(
      ["github", "gitlab", "gitea", "bitbucket"].map((p) => [p, `${stub.url}/api/v1/webhooks/${p}/${id}`]),
    );

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
          visibility: "private",
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
      // repository_dispatch: one run for event_type "deploy", none for any other.
      "POST",
      /^\/api\/v1\/repositories\/(\d+)\/dispatches$/,
      (_q, res, m, b) => {
        const repo = byId(stub.repos, m[1]);
        if (!repo) return fail(res, 404, "NOT_FOUND", `no repository ${m[1]}`);
        if (typeof b?.event_type !== "string" || b.event_type === "")
          return fail(res, 400, "USAGE", "event_type is required");
        const runs =
          b.event_type === "deploy"
            ? [
                {
                  id: nextId++,
                  repositoryId: repo.id,
                  number: 1,
                  event: "repository_dispatch",
                  ref: "refs/heads/main",
                  commit: "0123456789abcdef0123456789abcdef01234567",
                  state: "queued",
                  conclusion: null,
                  url: `${stub.url}/runs/dispatched`,
                },
              ]
            : [];
        send(res, 201, { runs });
      },
    ],
    [
      "POST",
      /^\/api\/v1\/repositories\/(\d+)\/runs$/,
      (_q, res, m, b) => {
        const repo = byId(stub.repos, m[1]);
        if (!repo) return fail(res, 404, "NOT_FOUND", `no repository ${m[1]}`);
        const id = nextId++;
        const job = makeJob(nextId++, id, stub.url);
        const run: StubRun = {
          id,
          graph: [{ id: job.jobId, name: job.name, needs: [], calls: false }],
          repositoryId: repo.id,
          number: stub.runs.filter((r) => r.repositoryId === repo.id).length + 1,
          event: b?.event ?? "push",
          ref: `refs/heads/${b?.ref ?? "main"}`,
          commit: b?.commit ?? "0123456789abcdef0123456789abcdef01234567",
          state: "queued",
          conclusion: null,
          attempt: 1,
          shownAttempt: 1,
          attempts: [
            {
              attempt: 1,
              mode: "all",
              job: null,
              triggeringActor: "admin",
              state: "queued",
              conclusion: null,
              error: null,
              createdAt: T0,
              startedAt: null,
              finishedAt: null,
            },
          ],
          url: `${stub.url}/runs/${id}`,
          repository: repo.name,
          title: `Fix the build`,
          trigger: "manual",
          actor: "admin",
          createdAt: T0,
          startedAt: null,
          finishedAt: null,
          error: null,
          workflowName: "CI",
          workflowFile: ".github/workflows/ci.yml",
          trustTier: "trusted",
          approval: null,
          approvalReason: null,
          approvedBy: null,
          waitReason: null,
          branch: b?.ref ?? "main",
          durationMs: null,
          artifactMismatchAt: null,
          jobs: [job],
          polls: 0,
          outcome: stub.triggerOutcome,
          inputs: b?.inputs ?? null,
        };
        stub.runs.push(run);
        send(res, 201, { runs: [summary(run)] });
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
            .map(({ jobs: _j, polls: _p, outcome: _o, inputs: _i, ...r }) => r),
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
        const { polls: _p, outcome: _o, inputs: _i, ...shown } = run;
        send(res, 200, shown);
      },
    ],
    [
      "POST",
      /^\/api\/v1\/runs\/(\d+)\/cancel$/,
      (_q, res, m) => {
        const run = byId(stub.runs, m[1]);
        if (!run) return fail(res, 404, "NOT_FOUND", `no run ${m[1]}`);
        if (run.state === "completed") {
          const why = `run ${run.id} has already finished (${run.conclusion ?? "no conclusion"}): nothing to cancel`;
          return fail(res, 409, "CONFLICT", why);
        }
        send(res, 202, { ok: true });
      },
    ],
    [
      // The run's next attempt, as the server does: same id and number, refused while it runs.
      "POST",
      /^\/api\/v1\/runs\/(\d+)\/rerun$/,
      (_q, res, m, b) => {
        const run = byId(stub.runs, m[1]);
        if (!run) return fail(res, 404, "NOT_FOUND", `no run ${m[1]}`);
        if (run.state !== "completed")
          return fail(
            res,
            409,
            "CONFLICT",
            `run ${run.id} is ${run.state}: only a finished run can be re-run`,
          );
        stub.reruns.push({
          id: run.id,
          failedOnly: b?.failedOnly === true,
          ...(b?.job ? { job: b.job } : {}),
        });
        Object.assign(run, { attempt: run.attempt + 1, state: "queued", conclusion: null });
        send(res, 201, summary(run));
      },
    ],
    [
      "GET",
      /^\/api\/v1\/jobs\/(\d+)\/logs$/,
      (req, res, m) =>
        void (logs.serveLog(req, res, Number(m[1])) || fail(res, 404, "NOT_FOUND", `no job ${m[1]}`)),
    ],
    [
      "GET",
      /^\/api\/v1\/jobs\/(\d+)\/logs\/stream$/,
      (req, res, m) =>
        void (logs.serveStream(req, res, Number(m[1])) || fail(res, 404, "NOT_FOUND", `no job ${m[1]}`)),
    ],
    ["GET", /^\/api\/v1\/nodes$/, (_q, res) => send(res, 200, stub.nodes)],
    [
      "POST",
      /^\/api\/v1\/nodes\/registrations$/,
      (_q, res, _m, b) => {
        const reg: NodeRegistration = {
          id: nextId++,
          name: b.name,
          labels: b.labels ?? [],
          requiredLabels: b.requiredLabels ?? [],
          pool: b.pool ?? "default",
          workerTrust: b.workerTrust ?? "trusted",
          operator: b.operator ?? null,
          state: "pending",
          createdAt: T0,
          expiresAt: new Date(Date.parse(T0) + (b.expiresInMinutes ?? 60) * 60_000).toISOString(),
          usedAt: null,
          revokedAt: null,
          nodeId: null,
        };
        stub.registrations.push(reg);
        send(res, 201, { ...reg, token: `alk_reg_stub${reg.id}_secret` });
      },
    ],
    ["GET", /^\/api\/v1\/nodes\/registrations$/, (_q, res) => send(res, 200, stub.registrations)],
    [
      "DELETE",
      /^\/api\/v1\/nodes\/registrations\/(\d+)$/,
      (_q, res, m) => {
        const reg = byId(stub.registrations, m[1]);
        if (!reg) return fail(res, 404, "NOT_FOUND", `registration ${m[1]} not found`);
        if (reg.state === "used") return fail(res, 409, "CONFLICT", `registration ${m[1]} was used already`);
        reg.state = "revoked";
        reg.revokedAt = T0;
        send(res, 204);
      },
    ],
    [
      "DELETE",
      /^\/api\/v1\/nodes\/(\d+)$/,
      (_q, res, m) => {
        const i = stub.nodes.findIndex((n) => n.id === Number(m[1]));
        if (i < 0) return fail(res, 404, "NOT_FOUND", `no node ${m[1]}`);
        stub.nodes.splice(i, 1);
        send(res, 204);
      },
    ],
    [
      "POST",
      /^\/api\/v1\/nodes\/(\d+)\/revoke$/,
      (_q, res, m) => {
        const node = byId(stub.nodes, m[1]);
        if (!node) return fail(res, 404, "NOT_FOUND", `no node ${m[1]}`);
        node.revokedAt = T0;
        node.connected = false;
        send(res, 200, node);
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
    [
      "PUT",
      /^\/api\/v1\/nodes\/(\d+)\/worker$/,
      (_q, res, m, b) => {
        const node = byId(stub.nodes, m[1]);
        if (!node) return fail(res, 404, "NOT_FOUND", `no node ${m[1]}`);
        node.workerTrust = b.workerTrust;
        if (b.operator !== undefined) node.operator = b.operator;
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
    registrations: [],
    images: [],
    flavours: [],
    triggerOutcome: "success",
    reruns: [],
    logs,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return stub;
}
