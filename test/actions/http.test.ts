// Remote actions and files over a real `git http-backend` on loopback: the request counter proves
// that a cached full-SHA ref makes no request at all, while branch refs are re-resolved per run.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createActionLoader, fetchRemoteFile } from "../../src/actions/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import { HOST_ROOT, createFakeProvisioner, type Machine } from "../../src/provisioners/index.js";
import { git, initRepo, NODE_ACTION, rmDir, startGitHttp, tempDir, type GitHttpServer } from "./helpers.js";

let root: string;
let server: GitHttpServer;
let commit: string;
const machines: Machine[] = [];

async function machine(): Promise<Machine> {
  const m = await createFakeProvisioner().create({ name: "t", root: HOST_ROOT });
  machines.push(m);
  return m;
}

before(async () => {
  root = tempDir();
  const repo = join(root, "srv", "octo", "tools");
  commit = initRepo(repo, {
    "action.yml": NODE_ACTION,
    ".github/workflows/reuse.yml": "on: workflow_call\njobs: {}\n",
  });
  git(repo, "tag", "v2");
  server = await startGitHttp(join(root, "srv"));
});

after(async () => {
  await server.close();
  for (const m of machines) await m.destroy();
  rmDir(root);
});

void test("loads over http; a cached full-SHA ref makes no request", async () => {
  const opts = { actionsUrl: server.url, cacheDir: join(root, "cache") };
  const m = await machine();
  const loaded = await createActionLoader(opts).load("octo/tools@v2", m);
  assert.equal(loaded.dir, join(m.paths.actions, "octo", "tools", commit));
  assert.ok(
    existsSync(join(opts.cacheDir, "127.0.0.1_" + new URL(server.url).port, "octo", "tools", commit)),
  );
  const before = server.requests();
  assert.ok(before > 0);

  const m2 = await machine();
  const again = await createActionLoader(opts).load(`octo/tools@${commit}`, m2);
  assert.ok(existsSync(join(again.dir, "action.yml")));
  assert.equal(server.requests(), before);

  // A tag is resolved again by a new loader (a new run), but the tree comes from the cache.
  await createActionLoader(opts).load("octo/tools@v2", m2);
  assert.ok(server.requests() > before);
});

void test("an unknown repository is ACTION_FETCH_FAILED, not retryable", async () => {
  const opts = { actionsUrl: server.url, cacheDir: join(root, "cache") };
  await assert.rejects(
    createActionLoader(opts).load("octo/missing@v1", await machine()),
    (e) => isAirlockError(e, "ACTION_FETCH_FAILED") && !e.retryable,
  );
});

void test("an unreachable server is ACTION_FETCH_FAILED and retryable", async () => {
  const dead = await startGitHttp(root);
  const url = dead.url;
  await dead.close();
  const opts = { actionsUrl: url, cacheDir: join(root, "cache") };
  await assert.rejects(
    createActionLoader(opts).load("octo/tools@v2", await machine()),
    (e) => isAirlockError(e, "ACTION_FETCH_FAILED") && e.retryable,
  );
});

void test("fetchRemoteFile reads a reusable workflow at a ref", async () => {
  const opts = { actionsUrl: server.url, cacheDir: join(root, "cache") };
  const file = await fetchRemoteFile(opts, "octo", "tools", "v2", ".github/workflows/reuse.yml");
  assert.equal(file.commit, commit);
  assert.match(file.content, /workflow_call/);
  await assert.rejects(fetchRemoteFile(opts, "octo", "tools", "v2", ".github/workflows/none.yml"), (e) =>
    isAirlockError(e, "WORKFLOW_NOT_FOUND"),
  );
  await assert.rejects(fetchRemoteFile(opts, "octo", "tools", "v2", "../../etc/passwd"), (e) =>
    isAirlockError(e, "ACTION_INVALID"),
  );
  await assert.rejects(fetchRemoteFile(opts, "octo", "tools", "-v2", "x.yml"), (e) =>
    isAirlockError(e, "ACTION_INVALID"),
  );
});
