// WorkspaceSource against real repositories (local path and a real git http-backend with basic
// auth): exact commit, branch named after the ref, no credentials left in .git, clean vs overlay.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createGitWorkspaceSource, stripCredentials } from "../../src/actions/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import { HOST_ROOT, createFakeProvisioner, type Machine } from "../../src/provisioners/index.js";
import { commitFiles, git, initRepo, rmDir, startGitHttp, tempDir, type GitHttpServer } from "./helpers.js";

let root: string;
let repo: string;
let first: string;
let second: string;
let server: GitHttpServer;
const machines: Machine[] = [];
const source = createGitWorkspaceSource();

async function machine(): Promise<Machine> {
  const m = await createFakeProvisioner().create({ name: "t", root: HOST_ROOT });
  machines.push(m);
  return m;
}

before(async () => {
  root = tempDir();
  repo = join(root, "srv", "octo", "app");
  first = initRepo(repo, { "README.md": "one\n" });
  second = commitFiles(repo, { "README.md": "two\n", "src/a.txt": "a\n" }, "second");
  git(repo, "tag", "v1", first);
  server = await startGitHttp(join(root, "srv"), { user: "user", password: "s3cr3t-token" });
});

after(async () => {
  await server.close();
  for (const m of machines) await m.destroy();
  rmDir(root);
});

void test("checks out the commit on a local branch named after the ref", async () => {
  const m = await machine();
  await source.checkout(m, {
    repository: repo,
    commit: first,
    ref: "refs/heads/main",
    path: m.paths.workspace,
    clean: true,
  });
  const ws = m.paths.workspace;
  assert.equal(git(ws, "rev-parse", "HEAD"), first);
  assert.equal(git(ws, "branch", "--show-current"), "main");
  assert.equal(readFileSync(join(ws, "README.md"), "utf8"), "one\n");
  assert.equal(git(ws, "status", "--porcelain"), "");
  assert.equal(git(ws, "remote", "get-url", "origin"), repo);
});

void test("a tag ref gives a detached HEAD at the commit", async () => {
  const m = await machine();
  await source.checkout(m, {
    repository: repo,
    commit: first,
    ref: "refs/tags/v1",
    path: m.paths.workspace,
    clean: true,
  });
  assert.equal(git(m.paths.workspace, "rev-parse", "HEAD"), first);
  assert.equal(git(m.paths.workspace, "branch", "--show-current"), "");
});

void test("a commit no branch reaches is fetched explicitly", async () => {
  git(repo, "update-ref", "refs/pull/1/merge", second);
  const side = commitFiles(repo, { "side.txt": "side\n" }, "side");
  git(repo, "update-ref", "refs/pull/2/head", side);
  git(repo, "reset", "-q", "--hard", second);
  const m = await machine();
  await source.checkout(m, {
    repository: repo,
    commit: side,
    ref: "refs/pull/2/merge",
    path: m.paths.workspace,
    clean: true,
  });
  assert.equal(git(m.paths.workspace, "rev-parse", "HEAD"), side);
});

void test("credentials in the repository URL never reach the machine", async () => {
  const m = await machine();
  const url = `${server.url.replace("http://", "http://user:s3cr3t-token@")}/octo/app`;
  await source.checkout(m, {
    repository: url,
    commit: second,
    ref: "refs/heads/main",
    path: m.paths.workspace,
    clean: true,
  });
  const ws = m.paths.workspace;
  assert.equal(git(ws, "rev-parse", "HEAD"), second);
  assert.equal(git(ws, "remote", "get-url", "origin"), `${server.url}/octo/app`);
  // Nothing anywhere in the checkout (config, logs, refs, objects listing) mentions the token.
  const grep = spawnSync("grep", ["-rl", "--", "s3cr3t-token", ws], { encoding: "utf8" });
  assert.equal(grep.status, 1, `token found in: ${grep.stdout}`);
});

void test("wrong credentials fail with ACTION_FETCH_FAILED", async () => {
  const m = await machine();
  const url = `${server.url.replace("http://", "http://user:wrong@")}/octo/app`;
  await assert.rejects(
    source.checkout(m, {
      repository: url,
      commit: second,
      ref: "refs/heads/main",
      path: m.paths.workspace,
      clean: true,
    }),
    (e) =>
      isAirlockError(e, "ACTION_FETCH_FAILED") &&
      !JSON.stringify([e.message, String(e.cause)]).includes("wrong"),
  );
});

void test("clean replaces the folder; clean=false keeps files already there", async () => {
  const m = await machine();
  const path = join(m.paths.workspace, "sub");
  await m.writeFile(join(path, "stale.txt"), "stale\n");
  await source.checkout(m, { repository: repo, commit: second, ref: "refs/heads/main", path, clean: false });
  assert.equal(readFileSync(join(path, "stale.txt"), "utf8"), "stale\n");
  assert.equal(readFileSync(join(path, "src", "a.txt"), "utf8"), "a\n");
  assert.equal(git(path, "rev-parse", "HEAD"), second);
  await source.checkout(m, { repository: repo, commit: first, ref: "refs/heads/main", path, clean: true });
  assert.equal(existsSync(join(path, "stale.txt")), false);
  assert.equal(existsSync(join(path, "src")), false);
  assert.equal(git(path, "rev-parse", "HEAD"), first);
});

void test("refuses a non-commit id and an unknown commit", async () => {
  const m = await machine();
  const base = { repository: repo, ref: "refs/heads/main", path: m.paths.workspace, clean: true };
  await assert.rejects(source.checkout(m, { ...base, commit: "--upload-pack=x" }), (e) =>
    isAirlockError(e, "ACTION_INVALID"),
  );
  await assert.rejects(source.checkout(m, { ...base, commit: "e".repeat(40) }), (e) =>
    isAirlockError(e, "ACTION_FETCH_FAILED"),
  );
  // A branch named like the requested commit id must not stand in for the missing commit.
  git(repo, "branch", "d".repeat(40), first);
  await assert.rejects(source.checkout(m, { ...base, commit: "d".repeat(40) }), (e) =>
    isAirlockError(e, "ACTION_FETCH_FAILED"),
  );
});

void test("stripCredentials removes userinfo only", () => {
  assert.equal(stripCredentials("https://x-access-token:abc@github.com/o/r"), "https://github.com/o/r");
  assert.equal(stripCredentials("https://github.com/o/r"), "https://github.com/o/r");
  assert.equal(stripCredentials("/srv/repo"), "/srv/repo");
});
