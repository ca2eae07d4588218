// The one way Airlock runs git: argv arrays only (never a shell string), config that keeps a
// hostile repository or remote from doing more than transferring objects, an environment that
// can never prompt or be steered by inherited GIT_* variables, a time limit enforced with SIGKILL,
// and one error type whose message never holds the command line (clone URLs carry credentials).
import { execFile } from "node:child_process";
import { redactUrls } from "./url.js";

export interface GitResult {
  stdout: string;
  stderr: string;
}

export interface GitRunOptions {
  /** Working folder (default: this process's). */
  cwd?: string;
  /** Passed as --git-dir (bare mirrors, or to pin the repository regardless of cwd). */
  gitDir?: string;
  /** Time limit; the process is killed with SIGKILL after it (default 5 minutes). */
  timeoutMs?: number;
  /** Extra variables; they cannot undo the protections below (prompts, protocols, GIT_DIR...). */
  env?: Record<string, string>;
}

export const DEFAULT_GIT_TIMEOUT_MS = 300_000;
const MAX_BUFFER = 256 * 1024 * 1024;

// Transports a remote URL may use; `ext::` (runs a command) and anything unknown are refused.
export const ALLOWED_PROTOCOLS = "file:git:http:https:ssh";

// Config that no repository, remote or user-level file can override for our processes.
const SAFE_CONFIG = [
  "-c",
  "protocol.ext.allow=never",
  "-c",
  "core.hooksPath=/dev/null",
  "-c",
  "core.fsmonitor=false",
  "-c",
  "credential.interactive=false",
];

// Inherited, these would point git at another repository than the one asked for (e.g. when
// Airlock itself runs inside a git hook).
const REPOSITORY_VARS = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
];

const NETWORKISH =
  /could not resolve host|connection (refused|reset|timed out)|timed out|failed to connect|early eof|remote end hung up|rpc failed|returned error: 5\d\d|temporary failure|network is unreachable|ssl/i;

export class GitCommandError extends Error {
  /** stderr with user:password@ of URLs redacted (the error may be logged whole). */
  readonly stderr: string;
  readonly exitCode: number | undefined;
  readonly timedOut: boolean;
  /** Looks like network trouble (worth retrying), not a missing repository or ref. */
  readonly networkish: boolean;
  // The execFile error is not kept as `cause`: its message holds the whole command line.
  constructor(
    verb: string,
    stderr: string,
    exitCode: number | undefined,
    timedOut: boolean,
    /** Why, when stderr says nothing (e.g. "exit 128", "SIGTERM", "ENOENT"). */
    reason = timedOut ? "timed out" : `exit ${exitCode ?? "?"}`,
  ) {
    super(`git ${verb} failed: ${redactUrls(stderr.trim()) || reason}`);
    this.name = "GitCommandError";
    this.stderr = redactUrls(stderr);
    this.exitCode = exitCode;
    this.timedOut = timedOut;
    this.networkish = timedOut || NETWORKISH.test(stderr);
  }
}

/** The environment every git process gets: the caller's additions, then the protections. */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  // Never prompt for credentials: a missing repository must fail, not hang.
  env.GIT_TERMINAL_PROMPT = "0";
  env.GIT_ASKPASS = "true";
  env.SSH_ASKPASS = "true";
  env.GCM_INTERACTIVE = "never";
  env.GIT_ALLOW_PROTOCOL = ALLOWED_PROTOCOLS;
  // Paths from job sources are data, never glob patterns.
  env.GIT_LITERAL_PATHSPECS = "1";
  env.LC_ALL = "C";
  // ssh must never ask (host keys, passwords): fail instead.
  env.GIT_SSH_COMMAND ??= "ssh -o BatchMode=yes";
  for (const k of REPOSITORY_VARS) delete env[k];
  return env;
}

/** The subcommand, for messages: the first argument that is not an option or an option's value. */
function verbOf(args: string[]): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    if (a === "-c" || a === "-C") i++;
    else if (!a.startsWith("-")) return a;
  }
  return "";
}

/** Runs `git <args>`; rejects with GitCommandError on a non-zero exit or the time limit. */
export function runGit(args: string[], opts: GitRunOptions = {}): Promise<GitResult> {
  const argv = [...SAFE_CONFIG, ...(opts.gitDir === undefined ? [] : [`--git-dir=${opts.gitDir}`]), ...args];
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      argv,
      {
        cwd: opts.cwd,
        env: gitEnv(opts.env),
        timeout: opts.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS,
        killSignal: "SIGKILL",
        maxBuffer: MAX_BUFFER,
      },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const exitCode = typeof err.code === "number" ? err.code : undefined;
        const timedOut = err.killed === true;
        const reason = timedOut
          ? "timed out"
          : exitCode !== undefined
            ? `exit ${exitCode}`
            : String(err.code ?? err.signal ?? "failed");
        reject(new GitCommandError(verbOf(args), stderr, exitCode, timedOut, reason));
      },
    );
  });
}
