// Hostile names through a signed webhook (issue 6, item 6, last point): branch names, commit and
// pull-request titles and image names carrying shell metacharacters and leading dashes go through
// the real webhook route to a real run. Each payload, were it ever run by a shell or read by git
// as an option, would create a file under /tmp on the host (or delete a folder the test made):
// after each case none exists (and the folder is still there), and the delivery was either
// refused with a clear 4xx or made a run that behaves normally.
import { execFileSync } from "node:child_process";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import type { EscapeNode, RunView } from "./node.js";
import { until } from "./node.js";

export interface HostileInput {
  id: string;
  what: string;
  /** Given the payload tokens, makes the delivery (and anything else) and returns what happened. */
  run(h: Hostile): Promise<string[]>;
}

/** Payloads each of which leaves a trace on the host if executed; `traces()` lists those found. */
export class Hostile {
  readonly nonce = randomBytes(6).toString("hex");
  readonly victimDir = `/tmp/airlock-victim-${this.nonce}`;
  private n = 0;
  private readonly files: string[] = [];
  constructor(readonly node: EscapeNode) {
    mkdirSync(this.victimDir, { recursive: true });
  }
  /** A fresh file name under /tmp that the payload would create. */
  private file(): string {
    const f = `/tmp/airlock-pwned-${this.nonce}-${++this.n}`;
    this.files.push(f);
    return f;
  }
  /** Shell and git payloads without spaces (valid-looking ref names) or with them (titles). */
  payloads(spaces: boolean): string[] {
    const sp = spaces ? " " : "${IFS}";
    return [
      `$(touch${sp}${this.file()})`,
      `\`touch${sp}${this.file()}\``,
      `;touch${sp}${this.file()};`,
      `--upload-pack=touch${sp}${this.file()}`,
      `-c${sp}core.sshCommand=touch${sp}${this.file()}`,
      `;rm${sp}-rf${sp}${this.victimDir}`,
      `|touch${sp}${this.file()}`,
      `&&touch${sp}${this.file()}`,
    ];
  }
  /** Removes the folder the payloads aim at (call after traces()). */
  remove(): void {
    rmSync(this.victimDir, { recursive: true, force: true });
  }
  traces(): string[] {
    const t = this.files.filter((f) => existsSync(f)).map((f) => `${f} was created on the host`);
    if (!existsSync(this.victimDir)) t.push(`${this.victimDir} was removed`);
    return t;
  }
}

const WORKFLOW = `on: [push, pull_request]
jobs:
  echo:
    runs-on: ubuntu-latest
    steps:
      - env:
          TITLE: \${{ github.event.head_commit.message || github.event.pull_request.title }}
          REF: \${{ github.ref }}
        run: |
          printf 'title=[%s]\\n' "$TITLE"
          printf 'ref=[%s]\\n' "$REF"
`;

interface Repo {
  id: number;
  secret: string;
  dir: string;
  git(...args: string[]): string;
}

async function repoFor(n: EscapeNode, name: string): Promise<Repo> {
  const r = n.newRepo({ ".github/workflows/ci.yml": WORKFLOW });
  const { id, secret } = await n.addRepository(name, r.dir);
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@airlock.invalid", ...args], {
      cwd: r.dir,
      encoding: "utf8",
    }).trim();
  return { id, secret, dir: r.dir, git };
}

function examples(name: string): Record<string, unknown> {
  const require = createRequire(import.meta.url);
  const all = require("@octokit/webhooks-examples") as Array<{
    name: string;
    examples: Array<Record<string, unknown>>;
  }>;
  const found = all
    .find((d) => d.name === name)
    ?.examples.find((e) => (name === "push" ? e.deleted === false && e.head_commit : e.action === "opened"));
  if (!found) throw new Error(`no ${name} example`);
  return structuredClone(found);
}

async function deliver(
  n: EscapeNode,
  repo: Repo,
  event: string,
  payload: unknown,
): Promise<{ status: number; body: { runs?: Array<{ id: number }>; code?: string; error?: string } }> {
  const body = Buffer.from(JSON.stringify(payload));
  const res = await fetch(`${n.service.url}/api/v1/webhooks/github/${repo.id}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": `sha256=${createHmac("sha256", repo.secret).update(body).digest("hex")}`,
    },
    body,
  });
  const text = await res.text();
  let parsed: unknown = {};
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: reported below by the status check
  }
  return { status: res.status, body: parsed as never };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON payloads edited in place
type Json = Record<string, any>;

function pushPayload(repo: Repo, ref: string, commit: string, message: string): Json {
  const p = examples("push") as Json;
  p.ref = ref;
  p.before = "0".repeat(40);
  p.after = commit;
  p.created = true;
  p.head_commit = { ...p.head_commit, id: commit, message };
  p.commits = [p.head_commit];
  p.repository = { ...p.repository, full_name: "acme/hostile", clone_url: repo.dir };
  return p;
}

function prPayload(repo: Repo, title: string, headRef: string, commit: string): Json {
  const p = examples("pull_request") as Json;
  p.number = 1;
  p.pull_request = {
    ...p.pull_request,
    number: 1,
    title,
    head: {
      ...p.pull_request.head,
      ref: headRef,
      sha: commit,
      // A branch of the repository itself (a trusted run): fork pull requests wait for approval.
      repo: { ...p.pull_request.head.repo, full_name: "acme/hostile", clone_url: repo.dir },
    },
    base: {
      ...p.pull_request.base,
      ref: "main",
      repo: { ...p.pull_request.base.repo, full_name: "acme/hostile", clone_url: repo.dir },
    },
  };
  p.repository = { ...p.repository, full_name: "acme/hostile", clone_url: repo.dir };
  return p;
}

/** A refusal must be a 4xx with an error code; a run must complete with every job succeeding. */
async function outcome(
  n: EscapeNode,
  res: Awaited<ReturnType<typeof deliver>>,
  allowed: "refused" | "run" | "either",
  logMustShow: string[] = [],
): Promise<string[]> {
  const problems: string[] = [];
  const refused = res.status >= 400 && res.status < 500;
  if (refused) {
    if (allowed === "run")
      problems.push(`refused with ${res.status} ${JSON.stringify(res.body)}, expected a run`);
    else if (!res.body.code && !res.body.error)
      problems.push(`refused with ${res.status} but without saying why`);
    return problems;
  }
  if (res.status >= 500) return [`the server failed: ${res.status} ${JSON.stringify(res.body)}`];
  if (allowed === "refused")
    problems.push(`accepted (${res.status} ${JSON.stringify(res.body)}), expected a refusal`);
  for (const r of res.body.runs ?? []) {
    const run: RunView = await n.waitRun(r.id);
    for (const j of run.jobs) {
      const log = await n.jobLog(j.id);
      if (j.conclusion !== "success")
        problems.push(`job ${j.name} concluded ${j.conclusion}:\n${log.slice(-1500)}`);
      for (const s of logMustShow)
        if (!log.includes(s)) problems.push(`job ${j.name}'s log does not show ${s}`);
    }
  }
  return problems;
}

export const HOSTILE_INPUTS: readonly HostileInput[] = [
  {
    id: "branch-names",
    what: "branch names with shell metacharacters and leading dashes (push)",
    async run(h) {
      const repo = await repoFor(h.node, `hostile/branches-${h.nonce}`);
      const commit = repo.git("rev-parse", "HEAD");
      const problems: string[] = [];
      for (const p of h.payloads(false)) {
        for (const ref of [`refs/heads/${p}`, `refs/heads/feature/${p}`]) {
          const res = await deliver(h.node, repo, "push", pushPayload(repo, ref, commit, "a branch"));
          problems.push(...(await outcome(h.node, res, "refused")).map((x) => `${ref}: ${x}`));
        }
      }
      return problems;
    },
  },
  {
    id: "commit-title",
    what: "a commit title with shell metacharacters and leading dashes (push)",
    async run(h) {
      const repo = await repoFor(h.node, `hostile/title-${h.nonce}`);
      const title = h.payloads(true).join(" ");
      repo.git("commit", "-q", "--allow-empty", "-m", title);
      const commit = repo.git("rev-parse", "HEAD");
      const res = await deliver(h.node, repo, "push", pushPayload(repo, "refs/heads/main", commit, title));
      return outcome(h.node, res, "run", [`title=[${title}]`, "ref=[refs/heads/main]"]);
    },
  },
  {
    id: "pr-title",
    what: "a pull-request title with shell metacharacters and leading dashes",
    async run(h) {
      const repo = await repoFor(h.node, `hostile/pr-${h.nonce}`);
      repo.git("commit", "-q", "--allow-empty", "-m", "change");
      const commit = repo.git("rev-parse", "HEAD");
      repo.git("update-ref", "refs/pull/1/head", commit);
      const title = h.payloads(true).join(" ");
      const res = await deliver(h.node, repo, "pull_request", prPayload(repo, title, "feature", commit));
      return outcome(h.node, res, "run", [`title=[${title}]`]);
    },
  },
  {
    id: "pr-head-branch",
    what: "a pull request whose head branch name carries metacharacters and leading dashes",
    async run(h) {
      const repo = await repoFor(h.node, `hostile/pr-head-${h.nonce}`);
      const commit = repo.git("rev-parse", "HEAD");
      repo.git("update-ref", "refs/pull/1/head", commit);
      const problems: string[] = [];
      for (const p of h.payloads(false)) {
        const res = await deliver(h.node, repo, "pull_request", prPayload(repo, "a pull request", p, commit));
        problems.push(...(await outcome(h.node, res, "either")).map((x) => `head ${p}: ${x}`));
      }
      return problems;
    },
  },
  {
    id: "image-names",
    what: "image names with shell metacharacters and leading dashes (runs-on, the images API)",
    async run(h) {
      const problems: string[] = [];
      for (const p of h.payloads(false)) {
        const res = await h.node.api<{ code?: string }>("POST", "/api/v1/images", { name: p, source: p });
        if (res.status !== 400) problems.push(`POST /images ${p}: ${res.status} ${res.text}, expected 400`);
      }
      // A workflow asking for such an image either waits, saying so (then it is cancelled), or,
      // as no image carries those labels, runs on the default image: either way, cleanly.
      const labels = h.payloads(false);
      const r = h.node.newRepo({
        ".github/workflows/ci.yml": `on: push\njobs:\n  a:\n    runs-on: ${JSON.stringify(labels)}\n    steps:\n      - run: true\n`,
      });
      const { id } = await h.node.addRepository(`hostile/image-${h.nonce}`, r.dir);
      const trig = await h.node.api<{ runs: Array<{ id: number }> }>(
        "POST",
        `/api/v1/repositories/${id}/runs`,
        {},
      );
      const runId = trig.body.runs?.[0]?.id;
      if (trig.status !== 201 || runId === undefined)
        return [...problems, `trigger: ${trig.status} ${trig.text}`];
      const seen = await until(async () => {
        const v = await h.node.api<RunView & { jobs: Array<{ waitReason: string | null }> }>(
          "GET",
          `/api/v1/runs/${runId}`,
        );
        if (v.body.state === "completed") return { run: v.body, waiting: undefined };
        const waiting = v.body.jobs?.[0]?.waitReason;
        return waiting ? { run: v.body, waiting } : undefined;
      }, "the run to complete or wait");
      if (seen.waiting !== undefined) {
        if (!seen.waiting.includes(labels[0] as string))
          problems.push(`the wait reason does not quote the label: ${seen.waiting}`);
        const cancel = await h.node.api("POST", `/api/v1/runs/${runId}/cancel`);
        if (cancel.status >= 300) problems.push(`cancel: ${cancel.status} ${cancel.text}`);
        const run = await h.node.waitRun(runId);
        if (run.conclusion !== "cancelled")
          problems.push(`the run concluded ${run.conclusion}, expected cancelled`);
      } else if (seen.run.conclusion !== "success") {
        problems.push(`the run concluded ${seen.run.conclusion}: ${JSON.stringify(seen.run)}`);
      }
      return problems;
    },
  },
];
