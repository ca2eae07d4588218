// The shared git runner against real git: inherited repository variables are ignored, the
// time limit kills, only ordinary transports are allowed, hooks never run, and error messages
// carry neither the command line nor credentials.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { GitCommandError, gitEnv, redactUrls, runGit } from "../../src/git/index.js";
import { makeRepo } from "../helpers/repo.js";

const a = makeRepo({ "a.txt": "a\n" });
const b = makeRepo({ "b.txt": "b\n" });
const scratch = mkdtempSync(join(tmpdir(), "airlock-git-run-"));
after(() => {
  a.remove();
  b.remove();
  rmSync(scratch, { recursive: true, force: true });
});

const isGitError = (e: unknown): e is GitCommandError => e instanceof GitCommandError;

void test("inherited GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE do not redirect git", async () => {
  const hostile = {
    GIT_DIR: join(b.dir, ".git"),
    GIT_WORK_TREE: b.dir,
    GIT_INDEX_FILE: join(b.dir, ".git", "index"),
    GIT_OBJECT_DIRECTORY: join(b.dir, ".git", "objects"),
  };
  const r = await runGit(["rev-parse", "--absolute-git-dir"], { cwd: a.dir, env: hostile });
  assert.equal(r.stdout.trim(), join(realpathSync(a.dir), ".git"));
  // The same through the process environment (Airlock started from inside a git hook).
  const saved = process.env.GIT_DIR;
  process.env.GIT_DIR = hostile.GIT_DIR;
  try {
    const files = await runGit(["ls-files"], { cwd: a.dir });
    assert.equal(files.stdout.trim(), "a.txt");
  } finally {
    if (saved === undefined) delete process.env.GIT_DIR;
    else process.env.GIT_DIR = saved;
  }
});

void test("the environment cannot re-enable prompts or other transports", () => {
  const env = gitEnv({ GIT_TERMINAL_PROMPT: "1", GIT_ALLOW_PROTOCOL: "ext", GIT_DIR: "/x", LC_ALL: "de_DE" });
  assert.equal(env.GIT_TERMINAL_PROMPT, "0");
  assert.equal(env.GIT_ALLOW_PROTOCOL, "file:git:http:https:ssh");
  assert.equal(env.GIT_DIR, undefined);
  assert.equal(env.LC_ALL, "C");
  assert.match(env.GIT_SSH_COMMAND ?? "", /BatchMode=yes/);
});

void test("gitDir runs against that repository whatever the working folder", async () => {
  const r = await runGit(["rev-parse", "--absolute-git-dir"], {
    cwd: a.dir,
    gitDir: join(b.dir, ".git"),
  });
  assert.equal(r.stdout.trim(), join(realpathSync(b.dir), ".git"));
});

void test("an ext:: remote is refused even when the command line allows it", async () => {
  const marker = join(scratch, "pwned");
  const url = `ext::sh -c touch% ${marker}`;
  for (const env of [{}, { GIT_ALLOW_PROTOCOL: "ext" }] as Array<Record<string, string>>) {
    await assert.rejects(
      runGit(["-c", "protocol.ext.allow=always", "ls-remote", "--", url], { cwd: scratch, env }),
      (e) => isGitError(e) && e.exitCode !== 0 && !e.timedOut,
    );
  }
  assert.equal(existsSync(marker), false);
});

void test("repository hooks never run", async () => {
  const marker = join(scratch, "hook-ran");
  const hook = join(a.dir, ".git", "hooks", "pre-commit");
  writeFileSync(hook, `#!/bin/sh\ntouch '${marker}'\n`);
  chmodSync(hook, 0o755);
  await runGit(
    ["-c", "user.name=T", "-c", "user.email=t@airlock.invalid", "commit", "-q", "--allow-empty", "-m", "x"],
    { cwd: a.dir },
  );
  assert.equal(existsSync(marker), false);
  // The hook is real: plain git would have run it.
  execFileSync(
    "git",
    ["-c", "user.name=T", "-c", "user.email=t@x", "commit", "-q", "--allow-empty", "-m", "y"],
    {
      cwd: a.dir,
    },
  );
  assert.equal(existsSync(marker), true);
});

void test("the time limit kills git and says so", async () => {
  // cat-file --batch waits on stdin forever; nothing ever writes to it.
  await assert.rejects(
    runGit(["cat-file", "--batch"], { cwd: a.dir, timeoutMs: 200 }),
    (e) => isGitError(e) && e.timedOut && e.networkish && e.exitCode === undefined,
  );
});

void test("failure messages hold neither the command line nor credentials", async () => {
  const url = "https://ci-user:hunter2-token@git.example.invalid/o/r.git";
  await assert.rejects(
    runGit(["show", "--format=tformat:cmdline-marker", `HEAD:${url}`], { cwd: a.dir }),
    (e) =>
      isGitError(e) &&
      e.exitCode === 128 &&
      !e.networkish &&
      e.stderr.includes("https://***@git.example.invalid/o/r.git") && // git did echo it ...
      !e.stderr.includes("hunter2-token") && // ... and neither stderr (logged with the error)
      !e.message.includes("hunter2-token") && // ... nor the message holds it
      !e.message.includes("cmdline-marker") &&
      !String(e).includes("hunter2-token"),
  );
});

void test("an unreachable server is networkish", async () => {
  await assert.rejects(
    runGit(["ls-remote", "--", "http://127.0.0.1:1/o/r.git"], { cwd: scratch, timeoutMs: 30_000 }),
    (e) => isGitError(e) && e.networkish && !e.timedOut,
  );
});

void test("redactUrls removes user:password@ from every URL", () => {
  const out = redactUrls("a https://u:p@h/x and ssh://tok@h2/y, git@h3:z");
  assert.equal(out, "a https://***@h/x and ssh://***@h2/y, git@h3:z");
});
