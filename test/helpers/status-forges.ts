// Local fake forges for commit statuses (the real ones cannot be reached from the tests): one
// node:http server per forge, each checking every call against that forge's documented API and
// recording it. A call outside the contract is answered 422 and listed in `violations`.
// - GitHub (docs.github.com REST "Create a commit status"): POST {api}/repos/{owner}/{repo}/statuses/{sha},
//   Authorization: Bearer, Accept: application/vnd.github+json, X-GitHub-Api-Version: 2022-11-28,
//   JSON {state: error|failure|pending|success, target_url, description (≤ 140), context} → 201.
// - GitLab (docs.gitlab.com "Commits API: set the pipeline status of a commit"): POST
//   {api}/projects/{URL-encoded path}/statuses/{sha}, PRIVATE-TOKEN (or Authorization: Bearer),
//   state: pending|running|success|failed|canceled, name, target_url, description, ref → 201;
//   400 "Cannot transition status via :enqueue from :pending" for pending over pending/running,
//   and via :run for running over running (its commit status state machine).
// - Gitea/Forgejo (swagger CreateStatusOption): POST {api}/repos/{owner}/{repo}/statuses/{sha},
//   Authorization: token …, {state: pending|success|error|failure|warning, target_url, description,
//   context} → 201.
// - Bitbucket Cloud (developer.atlassian.com "Create a build status for a commit"): POST
//   {api}/2.0/repositories/{workspace}/{repo_slug}/commit/{commit}/statuses/build, Authorization:
//   Bearer, {key, state: INPROGRESS|SUCCESSFUL|FAILED|STOPPED, url, name, description, refname} → 201.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type StatusForgeKind = "github" | "gitlab" | "gitea" | "bitbucket";

export interface StatusCall {
  /** The project path the call named (owner/repo; GitLab's decoded). */
  project: string;
  sha: string;
  state: string;
  /** context (GitHub, Gitea), name (GitLab), key (Bitbucket). */
  context: string;
  targetUrl: string;
  description: string;
  body: Record<string, unknown>;
  /** What this fake answered. */
  answered: number;
}

export interface StatusForge {
  kind: StatusForgeKind;
  /** The API base to configure (GitLab …/api/v4, Gitea …/api/v1, GitHub and Bitbucket the root). */
  apiUrl: string;
  calls: StatusCall[];
  violations: string[];
  /** Every raw request (method, URL, headers, body) as received: for the token-leak checks. */
  raw: string[];
  /** Answers the next calls with these statuses (then 201 again); `body` for them. */
  failNext(statuses: number[], body?: (token: string) => string): void;
  close(): Promise<void>;
}

const SHA = /^[0-9a-f]{40}$/;
const STATES: Record<StatusForgeKind, string[]> = {
  github: ["error", "failure", "pending", "success"],
  gitlab: ["pending", "running", "success", "failed", "canceled"],
  gitea: ["pending", "success", "error", "failure", "warning"],
  bitbucket: ["INPROGRESS", "SUCCESSFUL", "FAILED", "STOPPED"],
};
const FIELDS: Record<StatusForgeKind, string[]> = {
  github: ["state", "target_url", "description", "context"],
  gitlab: ["state", "ref", "name", "context", "target_url", "description", "coverage", "pipeline_id"],
  gitea: ["state", "target_url", "description", "context"],
  bitbucket: ["key", "state", "url", "name", "description", "refname"],
};

async function read(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts).toString("utf8");
}

/** One fake forge of `kind`, accepting only `token` for projects in `projects`. */
export async function startStatusForge(
  kind: StatusForgeKind,
  tokens: Record<string, string>,
): Promise<StatusForge> {
  const calls: StatusCall[] = [];
  const violations: string[] = [];
  const raw: string[] = [];
  let failing: number[] = [];
  let failBody: ((token: string) => string) | undefined;
  const gitlabStates = new Map<string, string>();
  const prefix = kind === "gitlab" ? "/api/v4" : kind === "gitea" ? "/api/v1" : "";

  const check = (req: IncomingMessage, body: string): Omit<StatusCall, "answered"> | string => {
    if (req.method !== "POST") return `method ${req.method}`;
    const url = req.url ?? "";
    if (!url.startsWith(prefix)) return `path ${url} outside ${prefix}`;
    const path = url.slice(prefix.length);
    let project: string;
    let sha: string;
    if (kind === "github" || kind === "gitea") {
      const m = /^\/repos\/([^/]+)\/([^/]+)\/statuses\/([^/?]+)$/.exec(path);
      if (!m) return `path ${url}`;
      project = `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
      sha = m[3]!;
    } else if (kind === "gitlab") {
      // The project id is the URL-encoded path: one segment, its slashes as %2F.
      const m = /^\/projects\/([^/]+)\/statuses\/([^/?]+)$/.exec(path);
      if (!m) return `path ${url}`;
      project = decodeURIComponent(m[1]!);
      sha = m[2]!;
    } else {
      const m = /^\/2\.0\/repositories\/([^/]+)\/([^/]+)\/commit\/([^/]+)\/statuses\/build$/.exec(path);
      if (!m) return `path ${url}`;
      project = `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
      sha = m[3]!;
    }
    if (!SHA.test(sha)) return `sha ${sha}`;
    const token = tokens[project];
    if (token === undefined) return `unknown project ${project}`;
    const h = req.headers;
    const auth =
      kind === "github"
        ? h.authorization === `Bearer ${token}` &&
          h.accept === "application/vnd.github+json" &&
          h["x-github-api-version"] === "2022-11-28"
        : kind === "gitlab"
          ? h["private-token"] === token || h.authorization === `Bearer ${token}`
          : kind === "gitea"
            ? h.authorization === `token ${token}`
            : h.authorization === `Bearer ${token}`;
    if (!auth) return `headers/authentication of ${project}`;
    if (!String(h["content-type"] ?? "").startsWith("application/json")) return "content-type";
    let b: Record<string, unknown>;
    try {
      b = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return "body is not JSON";
    }
    for (const k of Object.keys(b)) if (!FIELDS[kind].includes(k)) return `unknown field ${k}`;
    for (const [k, v] of Object.entries(b)) if (typeof v !== "string") return `${k} is not a string`;
    const f = b as Record<string, string | undefined>;
    const state = f.state ?? "";
    if (!STATES[kind].includes(state)) return `state ${state}`;
    const context = (kind === "gitlab" ? f.name : kind === "bitbucket" ? f.key : f.context) ?? "";
    if (context === "") return "no context/name/key";
    const targetUrl = (kind === "bitbucket" ? f.url : f.target_url) ?? "";
    if (!/^https?:\/\//.test(targetUrl)) return `target url ${targetUrl}`;
    const description = f.description ?? "";
    if (kind === "github" && description.length > 140) return "description over 140 characters";
    return { project, sha, state, context, targetUrl, description, body: b };
  };

  const server: Server = createServer((req, res) => {
    void read(req).then((body) => {
      raw.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)} ${body}`);
      const c = check(req, body);
      if (typeof c === "string") {
        violations.push(c);
        res.writeHead(422, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: "Validation Failed" }));
        return;
      }
      // GitLab's state machine refuses pending over pending/running and running over running.
      const key = `${c.project}@${c.sha}#${c.context}`;
      const now = gitlabStates.get(key);
      const refused =
        kind === "gitlab" &&
        ((c.state === "pending" && (now === "pending" || now === "running")) ||
          (c.state === "running" && now === "running"));
      if (refused) {
        calls.push({ ...c, answered: 400 });
        res.writeHead(400, { "content-type": "application/json" });
        const via = c.state === "pending" ? "enqueue" : "run";
        res.end(
          JSON.stringify({
            message: `Cannot transition status via :${via} from :${now} (Reason(s): Status cannot transition via "${via}")`,
          }),
        );
        return;
      }
      const status = failing.shift() ?? 201;
      if (status === 201 && kind === "gitlab") gitlabStates.set(key, c.state);
      calls.push({ ...c, answered: status });
      res.writeHead(status, { "content-type": "application/json" });
      const token = tokens[c.project] ?? "";
      res.end(
        status === 201 ? JSON.stringify({ id: calls.length, state: c.state }) : (failBody?.(token) ?? "{}"),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    kind,
    apiUrl: `http://127.0.0.1:${port}${prefix}`,
    calls,
    violations,
    raw,
    failNext(statuses, body) {
      failing = [...statuses];
      failBody = body;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
