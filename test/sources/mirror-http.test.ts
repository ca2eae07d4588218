// The mirror over a real `git http-backend` on loopback: fetching, fetchRef for pull-request refs,
// classified failures without leaked credentials, and concurrent fetches of one mirror, in this
// process and across a lock file held by another process.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { openMirror } from "../../src/sources/index.js";
import {
  commitFiles,
  git,
  initRepo,
  rmDir,
  startGitHttp,
  tempDir,
  type GitHttpServer,
} from "../actions/helpers.js";

let root: string;
let repo: string;
let head: string;
let server: GitHttpServer;
let authServer: GitHttpServer;

before(async () => {
  root = tempDir("airlock-sources-http-");
  repo = join(root, "srv", "octo", "app");
  initRepo(repo, { ".github/workflows/ci.yml": "on: push\n" });
  head = commitFiles(repo, { "b.txt": "b\n" }, "second");
  // A pull request's head, kept by the server under refs/pull/N/head and on no branch.
  git(repo, "checkout", "-q", "-b", "pr");
  const prHead = commitFiles(repo, { "pr.txt": "from a fork\n" }, "pr");
  git(repo, "update-ref", "refs/pull/7/head", prHead);
  git(repo, "checkout", "-q", "main");
  git(repo, "branch", "-D", "pr");
  server = await startGitHttp(join(root, "srv"));
  authServer = await startGitHttp(join(root, "srv"), { user: "ci", password: "s3cret-pass" });
});

after(async () => {
  await server.close();
  await authServer.close();
  rmDir(root);
});

void test("fetches over http and reads at a commit", async () => {
  const m = openMirror({ cacheDir: join(root, "cache"), cloneUrl: `${server.url}/octo/app` });
  await m.fetch();
  assert.equal(await m.resolve("main"), head);
  assert.equal(await m.readFile(head, "b.txt"), "b\n");
  // Branches and tags only: the pull-request ref is not mirrored by fetch().
  assert.equal(await m.resolve("refs/pull/7/head"), undefined);
});

void test("fetchRef brings a pull-request head into the mirror", async () => {
  const m = openMirror({ cacheDir: join(root, "cache"), cloneUrl: `${server.url}/octo/app` });
  const prHead = git(repo, "rev-parse", "refs/pull/7/head");
  assert.equal(await m.fetchRef("refs/pull/7/head"), prHead);
  assert.equal(await m.hasCommit(prHead), true);
  assert.equal(await m.readFile(prHead, "pr.txt"), "from a fork\n");
  assert.equal(await m.fetchRef("refs/pull/8/head"), undefined);
  // A later full fetch keeps it (only heads and tags are pruned).
  await m.fetch();
  assert.equal(await m.resolve("refs/pull/7/head"), prHead);
});

void test("credentials in the URL work and never appear in errors", async () => {
  const good = openMirror({
    cacheDir: join(root, "cache"),
    cloneUrl: authServer.url.replace("//", "//ci:s3cret-pass@") + "/octo/app",
  });
  await good.fetch();
  assert.equal(await good.resolve("main"), head);
  const bad = openMirror({
    cacheDir: join(root, "cache"),
    cloneUrl: authServer.url.replace("//", "//ci:wrong-pass@") + "/octo/app",
  });
  await assert.rejects(bad.fetch(), (e) => {
    assert.ok(isAirlockError(e, "SOURCE_FETCH_FAILED"));
    assert.ok(!e.message.includes("wrong-pass"), e.message);
    return !e.retryable;
  });
});

void test("a missing repository is not retryable; an unreachable server is", async () => {
  const missing = openMirror({ cacheDir: join(root, "cache"), cloneUrl: `${server.url}/octo/missing` });
  await assert.rejects(missing.fetch(), (e) => isAirlockError(e, "SOURCE_FETCH_FAILED") && !e.retryable);
  const dead = await startGitHttp(join(root, "srv"));
  await dead.close();
  const unreachable = openMirror({ cacheDir: join(root, "cache"), cloneUrl: `${dead.url}/octo/app` });
  await assert.rejects(unreachable.fetch(), (e) => isAirlockError(e, "SOURCE_FETCH_FAILED") && e.retryable);
});

void test("concurrent fetches of one mirror are serialised and leave it intact", async () => {
  const cloneUrl = `${server.url}/octo/app`;
  const cacheDir = join(root, "cache-concurrent");
  const a = openMirror({ cacheDir, cloneUrl });
  const b = openMirror({ cacheDir, cloneUrl });
  await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? a : b).fetch()));
  const m = a;
  assert.equal(await m.resolve("main"), head);
  git(m.dir, "fsck", "--no-progress");
  assert.equal(existsSync(`${m.dir}.airlock-lock`), false);
});

void test("a lock held by a live process is waited for; a dead holder's lock is broken", async () => {
  const cacheDir = join(root, "cache-lock");
  const m = openMirror({ cacheDir, cloneUrl: `${server.url}/octo/app` });
  await m.fetch();
  const lockPath = `${m.dir}.airlock-lock`;

  const holder = spawn("sleep", ["30"], { stdio: "ignore" });
  writeFileSync(lockPath, `${holder.pid} other-process\n`);
  let released = false;
  const fetching = m.fetch().then(() => assert.ok(released, "fetched while another process held the lock"));
  await new Promise((r) => setTimeout(r, 300));
  released = true;
  holder.kill("SIGKILL");
  await fetching;
  assert.equal(existsSync(lockPath), false);

  // A holder that is already gone (pid of an exited process) does not block anyone.
  const gone = spawn("true");
  await new Promise((r) => gone.on("close", r));
  writeFileSync(lockPath, `${gone.pid} crashed\n`);
  await m.fetch();
  assert.equal(existsSync(lockPath), false);
});
