// The actions module's git runner: argv arrays only (never a shell string), no prompts, no
// user-level transports, a time limit, and failures classified as retryable when they look
// like network trouble rather than a missing repository or ref.
import { execFile } from "node:child_process";

export interface GitRun {
  stdout: string;
  stderr: string;
}

export class GitFailure extends Error {
  readonly stderr: string;
  readonly networkish: boolean;
  // The execFile error is not kept as `cause`: its message holds the whole command line, URLs
  // with credentials included, and causes end up in logs.
  constructor(
    args: string[],
    stderr: string,
    failure: { code?: unknown; signal?: unknown; killed?: boolean },
  ) {
    const verb = args.find((a) => !a.startsWith("-") && !a.includes("=")) ?? "";
    const why = failure.killed ? "timed out" : `exit ${String(failure.code ?? failure.signal)}`;
    super(`git ${verb} failed: ${stderr.trim() || why}`);
    this.name = "GitFailure";
    this.stderr = stderr;
    this.networkish = NETWORKISH.test(stderr) || failure.killed === true;
  }
}

const NETWORKISH =
  /could not resolve host|connection (refused|reset|timed out)|timed out|failed to connect|early eof|remote end hung up|rpc failed|the requested url returned error: 5\d\d|temporary failure|network is unreachable|ssl/i;

// Options that keep a hostile repository or URL from doing more than transferring objects.
const SAFE_CONFIG = [
  "-c",
  "protocol.ext.allow=never",
  "-c",
  "core.fsmonitor=false",
  "-c",
  "core.hooksPath=/dev/null",
  "-c",
  "advice.detachedHead=false",
  "-c",
  "init.defaultBranch=main",
];

function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Never prompt for credentials: a missing repository must fail, not hang.
  env.GIT_TERMINAL_PROMPT = "0";
  env.GIT_ASKPASS = "true";
  env.SSH_ASKPASS = "true";
  env.GCM_INTERACTIVE = "never";
  env.LC_ALL = "C";
  delete env.GIT_DIR;
  delete env.GIT_WORK_TREE;
  delete env.GIT_INDEX_FILE;
  return env;
}

/** Runs `git <args>` in cwd. Rejects with GitFailure on a non-zero exit or the time limit. */
export function runGit(cwd: string, args: string[], timeoutMs = 300_000): Promise<GitRun> {
  const argv = [...SAFE_CONFIG, ...args];
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      argv,
      { cwd, env: gitEnv(), timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new GitFailure(args, stderr, err));
        else resolve({ stdout, stderr });
      },
    );
  });
}
