// The job source's git runner: argv arrays only, no prompts, no hooks, only ordinary transports,
// a time limit, and errors that never carry the command line (clone URLs may hold credentials).
import { execFile } from "node:child_process";
import { AirlockError, ErrorCode } from "../errors/index.js";

export interface GitOutput {
  stdout: string;
  stderr: string;
}

export class GitCommandFailed extends Error {
  constructor(
    readonly stderr: string,
    readonly exitCode: number | undefined,
    readonly timedOut: boolean,
  ) {
    super(`git failed: ${redact(stderr.trim()) || (timedOut ? "timed out" : `exit ${exitCode}`)}`);
    this.name = "GitCommandFailed";
  }
}

// Config that keeps a hostile remote from doing more than transferring objects.
const SAFE_CONFIG = [
  "-c",
  "core.hooksPath=/dev/null",
  "-c",
  "core.fsmonitor=false",
  "-c",
  "protocol.ext.allow=never",
  "-c",
  "credential.interactive=false",
];

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env };
  e.GIT_TERMINAL_PROMPT = "0";
  e.GIT_ASKPASS = "true";
  e.SSH_ASKPASS = "true";
  e.GCM_INTERACTIVE = "never";
  e.GIT_ALLOW_PROTOCOL = "file:git:http:https:ssh";
  e.GIT_LITERAL_PATHSPECS = "1";
  e.LC_ALL = "C";
  // ssh must never ask (host keys, passwords): fail instead.
  e.GIT_SSH_COMMAND ??= "ssh -o BatchMode=yes";
  for (const k of ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_NAMESPACE"])
    delete e[k];
  return e;
}

/** Runs `git --git-dir=<gitDir> <args>`; rejects with GitCommandFailed. */
export function runGit(gitDir: string, args: string[], timeoutMs = 60_000): Promise<GitOutput> {
  const argv = [...SAFE_CONFIG, `--git-dir=${gitDir}`, ...args];
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      argv,
      { env: env(), timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const code = typeof err.code === "number" ? err.code : undefined;
        reject(new GitCommandFailed(stderr, code, err.killed === true));
      },
    );
  });
}

/** Removes user:password@ from URLs in text. */
export function redact(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, "$1***@");
}

const NETWORKISH =
  /could not resolve host|connection (refused|reset|timed out)|timed out|failed to connect|early eof|remote end hung up|rpc failed|returned error: 5\d\d|temporary failure|network is unreachable|ssl/i;

export function fetchFailed(url: string, cause: unknown): AirlockError {
  const timedOut = cause instanceof GitCommandFailed && cause.timedOut;
  const stderr = cause instanceof GitCommandFailed ? cause.stderr : String(cause);
  return new AirlockError(
    ErrorCode.SOURCE_FETCH_FAILED,
    `fetching ${redact(url)} failed: ${redact(stderr.trim()).split("\n").slice(-3).join(" ")}`,
    { retryable: timedOut || NETWORKISH.test(stderr) },
  );
}
