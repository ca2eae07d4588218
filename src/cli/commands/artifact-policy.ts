// `airlock repos artifact-policy <repo> [--quota 5GiB | --quota default] [--require-status
// corroborated,trusted] [--allow-untrusted-runs | --no-allow-untrusted-runs]`: a repository's
// artifact quota and promotion gate (docs/integrity.md). Without options it shows the policy, the
// quota in force and the bytes it counts; with options it changes only what they name (the rest
// is read first and sent back as it was). Setting it is for server administrators.
import type { Command } from "commander";
import { AirlockError, ErrorCode } from "../../errors/index.js";
import { artifactPolicy, setArtifactPolicy, type ArtifactPolicyView } from "../api/index.js";
import { apiOptions, connect, findByRef, printJson, type CliIo, type CommonOptions } from "./context.js";

interface PolicyOptions extends CommonOptions {
  quota?: string;
  requireStatus?: string;
  allowUntrustedRuns?: boolean;
  builds?: string;
  agree?: string;
  trustedBuild?: boolean;
  workflow?: string[];
  allWorkflows?: boolean;
}

function count(flag: string, text: string): number {
  if (!/^[1-9]$/.test(text.trim()))
    throw new AirlockError(ErrorCode.USAGE, `${flag}: expected a whole number from 1 to 9; got '${text}'`);
  return Number(text.trim());
}

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
};

/** "5GiB", "500MB", "1048576"; "default": the server's default (null). */
export function parseSize(text: string): number | null {
  if (text === "default") return null;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  const n = m && unit !== undefined ? Math.round(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(n) || n < 0)
    throw new AirlockError(
      ErrorCode.USAGE,
      `--quota: expected a size such as 5GiB, 500MB or 1048576, or 'default'; got '${text}'`,
    );
  return n;
}

const STATUSES = ["corroborated", "trusted", "unverified"] as const;
type Status = (typeof STATUSES)[number];

function statusesOf(text: string): Status[] {
  const list = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const bad = list.find((s) => !(STATUSES as readonly string[]).includes(s));
  if (list.length === 0 || bad !== undefined)
    throw new AirlockError(
      ErrorCode.USAGE,
      `--require-status: a comma-separated list of ${STATUSES.join(", ")} (mismatch is never promotable)${bad ? `; got '${bad}'` : ""}`,
    );
  return list as Status[];
}

const human = (n: number): string =>
  n >= 1024 ** 3
    ? `${(n / 1024 ** 3).toFixed(2)} GiB`
    : n >= 1024 ** 2
      ? `${(n / 1024 ** 2).toFixed(1)} MiB`
      : `${n} B`;

function show(name: string, p: ArtifactPolicyView): string {
  const quota = `${human(p.effectiveQuotaBytes)}${p.quotaBytes === null ? " (server default)" : ""}`;
  return (
    `Repository ${name}: artifacts use ${human(p.usedBytes)} of ${quota}.\n` +
    `Promotion: status ${p.promote.requireStatus.join(" or ")}; ` +
    `${p.promote.allowUntrustedRuns ? "untrusted runs allowed" : "trusted runs only"}; mismatch never.\n` +
    `Corroboration: ${corroboration(p.corroborate)}.\n`
  );
}

function corroboration(c: ArtifactPolicyView["corroborate"]): string {
  const parts: string[] = [];
  if (c.builds > 1)
    parts.push(`${c.builds} builds by different operators, ${c.agree} identical for corroborated`);
  if (c.trustedBuild) parts.push("a trusted worker rebuilds what an untrusted one built");
  if (parts.length === 0) return "none (one build per job)";
  return `${parts.join("; ")}; ${c.workflows === null ? "every workflow" : `workflows ${c.workflows.join(", ")}`}`;
}

export function registerArtifactPolicy(repos: Command, io: CliIo): void {
  apiOptions(
    repos
      .command("artifact-policy")
      .description(
        "show or set a repository's artifact quota and promotion gate (setting: server administrators)",
      )
      .argument("<repo>", "id or owner/repo")
      .option("--quota <size>", "finalized artifact bytes it may keep, e.g. 5GiB; 'default': the server's")
      .option("--require-status <list>", "statuses that may be promoted: corroborated,trusted,unverified")
      .option("--allow-untrusted-runs", "artifacts of untrusted runs may be promoted")
      .option("--no-allow-untrusted-runs", "only artifacts of trusted runs may be promoted")
      .option("--builds <n>", "independent builds of each job that uploads artifacts (1: no replicas)")
      .option("--agree <k>", "identical builds that make an artifact corroborated (default: all builds)")
      .option("--trusted-build", "a trusted worker rebuilds what an untrusted one built")
      .option("--no-trusted-build", "no extra build on a trusted worker")
      .option(
        "--workflow <file>",
        "corroborate only this workflow's jobs (repeatable)",
        (v: string, acc: string[] = []) => [...acc, v],
      )
      .option("--all-workflows", "corroborate the jobs of every workflow"),
  ).action(async (ref: string, opts: PolicyOptions) => {
    const quota = opts.quota === undefined ? undefined : parseSize(opts.quota);
    const require = opts.requireStatus === undefined ? undefined : statusesOf(opts.requireStatus);
    const builds = opts.builds === undefined ? undefined : count("--builds", opts.builds);
    const agree = opts.agree === undefined ? undefined : count("--agree", opts.agree);
    if (opts.workflow !== undefined && opts.allWorkflows)
      throw new AirlockError(ErrorCode.USAGE, "--workflow and --all-workflows cannot be used together");
    const client = await connect(opts, io);
    const repo = await findByRef(ref, () => client.listRepositories(), "repository");
    let p = await artifactPolicy(client, repo.id);
    const changes = [
      quota,
      require,
      opts.allowUntrustedRuns,
      builds,
      agree,
      opts.trustedBuild,
      opts.workflow,
    ];
    if (changes.some((c) => c !== undefined) || opts.allWorkflows) {
      const nextBuilds = builds ?? p.corroborate.builds;
      p = await setArtifactPolicy(client, repo.id, {
        quotaBytes: quota === undefined ? p.quotaBytes : quota,
        promote: {
          requireStatus: require ?? p.promote.requireStatus,
          allowUntrustedRuns: opts.allowUntrustedRuns ?? p.promote.allowUntrustedRuns,
        },
        corroborate: {
          builds: nextBuilds,
          // Changing the builds alone asks all of them to agree.
          agree: agree ?? (builds !== undefined ? nextBuilds : p.corroborate.agree),
          trustedBuild: opts.trustedBuild ?? p.corroborate.trustedBuild,
          workflows: opts.allWorkflows ? null : (opts.workflow ?? p.corroborate.workflows),
        },
      });
    }
    if (opts.json) printJson(io, { id: repo.id, name: repo.name, ...p });
    else io.stdout.write(show(repo.name, p));
  });
}
