// The WorkspaceSource: puts a repository at exactly one commit into a machine (the initial
// workspace and the built-in actions/checkout). The clone happens on the host in a temp folder;
// the machine only receives files. Credentials in the repository URL never reach the machine.
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { pathToFileURL } from "node:url";
import { AirlockError, ErrorCode } from "../errors/index.js";
import type { Machine } from "../provisioners/types.js";
import type { WorkspaceSource } from "../runner/types.js";
import { withGitAuth } from "../git/index.js";
import { git as gitRun, isNetworkish } from "./git.js";
import { stripCredentials } from "./location.js";
import { validateRef } from "./uses.js";

const COMMIT = /^[0-9a-f]{40}([0-9a-f]{24})?$/i;
// Config keys that could carry a secret: auth headers and credential helpers.
const SECRET_TEXT = /extraheader|credential|askpass|pushurl/i;
const SECRET_KEYS = /(^http\..*extraheader$)|(^credential\.)|(^core\.askpass$)|(\.pushurl$)/i;

function checkoutFailed(repository: string, err: unknown): AirlockError {
  const detail = (err instanceof Error ? err.message : String(err))
    .split(repository)
    .join(stripCredentials(repository));
  return new AirlockError(
    ErrorCode.ACTION_FETCH_FAILED,
    `cannot check out ${stripCredentials(repository)}: ${detail}`,
    {
      retryable: isNetworkish(err),
      cause: err,
    },
  );
}

export function createGitWorkspaceSource(): WorkspaceSource {
  return {
    async checkout(machine, opts) {
      if (!COMMIT.test(opts.commit)) {
        throw new AirlockError(
          ErrorCode.ACTION_INVALID,
          `checkout needs a full commit id, got "${opts.commit}"`,
        );
      }
      const tmp = await mkdtemp(join(tmpdir(), "airlock-checkout-"));
      try {
        const repo = join(tmp, "repo");
        // The repository's credential reaches git as files only for these commands (src/git/auth.ts).
        await withGitAuth(opts.auth, opts.repository, (env) =>
          cloneAt(repo, opts.repository, opts.commit, opts.ref, env),
        );
        if (opts.clean) await machine.copyIn(repo, opts.path);
        else await overlay(machine, repo, opts.path);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  };
}

/** Clones `repository` into the host folder `repo` at `commit` (a branch named after `ref`, as actions/checkout). */
export async function cloneAt(
  repo: string,
  repository: string,
  commit: string,
  ref: string,
  env: Record<string, string>,
): Promise<void> {
  const git = (cwd: string, args: string[]) => gitRun(cwd, args, undefined, env);
  // Few git processes on purpose: each costs a few ms, and small repositories should take tens of ms.
  const branch = ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : undefined;
  const named = branch !== undefined && validateRef(branch) === undefined;
  // Like actions/checkout's default fetch-depth 1: when the branch's tip is the commit (a push
  // that triggered the run), a shallow clone of just that commit; otherwise the whole history.
  if (!(named && (await shallowClone(repo, repository, branch, commit, env)))) {
    try {
      await git(tmpdir(), ["clone", "-q", "--no-hardlinks", "--no-checkout", "--", repository, repo]);
    } catch (err) {
      throw checkoutFailed(repository, err);
    }
  }
  // Like actions/checkout: a local branch named after the ref, so `git branch --show-current` works.
  const checkout = named
    ? ["checkout", "-q", "--force", "-B", branch, commit]
    : ["checkout", "-q", "--force", "--detach", commit];
  try {
    await git(repo, checkout);
  } catch {
    // A commit no branch or tag reaches (a PR merge ref, a detached HEAD) needs an explicit fetch.
    try {
      await git(repo, ["fetch", "-q", "--", "origin", commit]);
      await git(repo, checkout);
    } catch (err) {
      throw checkoutFailed(repository, err);
    }
  }
  // A ref named like a commit id could have been picked instead of the object: insist on the commit.
  const head = await readHead(repo);
  if (head !== commit.toLowerCase())
    throw checkoutFailed(repository, new Error(`HEAD is ${head}, not ${commit}`));
  const configPath = join(repo, ".git", "config");
  if (named && !(await readFile(configPath, "utf8")).includes(`[branch "${branch}"]`)) {
    await git(repo, ["branch", "-q", `--set-upstream-to=origin/${branch}`, branch]).catch(() => undefined);
  }
  const clean = stripCredentials(repository);
  if (clean !== repository) await git(repo, ["remote", "set-url", "origin", clean]);
  if (SECRET_TEXT.test(await readFile(configPath, "utf8"))) {
    const keys = await git(repo, ["config", "--local", "--name-only", "--list"]);
    for (const key of new Set(keys.stdout.split("\n").filter((k) => SECRET_KEYS.test(k)))) {
      await git(repo, ["config", "--local", "--unset-all", key]);
    }
  }
  await rm(join(repo, ".git", "FETCH_HEAD"), { force: true });
}

/** A depth-1 clone of `branch`; true when its tip is `commit` (else nothing is left behind). */
async function shallowClone(
  repo: string,
  repository: string,
  branch: string,
  commit: string,
  env: Record<string, string>,
): Promise<boolean> {
  const git = (cwd: string, args: string[]) => gitRun(cwd, args, undefined, env);
  // --depth is ignored for plain local paths: give git a file:// URL for them.
  const url = repository.startsWith("/") ? pathToFileURL(repository).href : repository;
  try {
    await git(tmpdir(), [
      "clone",
      "-q",
      "--depth",
      "1",
      "--no-checkout",
      "--single-branch",
      "--branch",
      branch,
      "--",
      url,
      repo,
    ]);
    if ((await readHead(repo)) === commit.toLowerCase()) {
      // The remote is recorded as given, not as the file:// URL made up for the clone.
      if (url !== repository) await git(repo, ["remote", "set-url", "origin", repository]);
      return true;
    }
  } catch {
    // the full clone below reports what is wrong
  }
  await rm(repo, { recursive: true, force: true });
  return false;
}

/** HEAD's commit, read from the files a fresh checkout writes (loose refs), else via git. */
async function readHead(repo: string): Promise<string> {
  const head = (await readFile(join(repo, ".git", "HEAD"), "utf8")).trim();
  if (!head.startsWith("ref: ")) return head.toLowerCase();
  const loose = await readFile(join(repo, ".git", head.slice(5)), "utf8").catch(() => undefined);
  return (loose ?? (await gitRun(repo, ["rev-parse", "HEAD"])).stdout).trim().toLowerCase();
}

/** clean=false: copy file by file so files already in the machine's folder stay. */
export async function overlay(machine: Machine, hostDir: string, innerDir: string): Promise<void> {
  for (const entry of await readdir(hostDir, { withFileTypes: true })) {
    const host = join(hostDir, entry.name);
    const inner = posix.join(innerDir, entry.name);
    if (entry.isDirectory()) await overlay(machine, host, inner);
    else await machine.copyIn(host, inner);
  }
}
