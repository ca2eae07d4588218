// ActionLoader against real git repositories served from a file:// base and real fake-provisioner
// machines: refs (branch, tag, SHA; a short SHA refused), the host cache, nested paths, local actions, errors.
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createActionLoader } from "../../src/actions/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import { HOST_ROOT, createFakeProvisioner, type Machine } from "../../src/provisioners/index.js";
import { commitFiles, git, initRepo, NODE_ACTION, rmDir, tempDir, writeFiles } from "./helpers.js";

let root: string;
let base: string;
let v1: string; // commit tagged v1
let head: string; // tip of main
const machines: Machine[] = [];
const provisioner = createFakeProvisioner();

async function machine(): Promise<Machine> {
  const m = await provisioner.create({ name: "t", root: HOST_ROOT });
  machines.push(m);
  return m;
}

function options(cacheName = "cache") {
  return { actionsUrl: `file://${base}`, cacheDir: join(root, cacheName) };
}

before(() => {
  root = tempDir();
  base = join(root, "server");
  const repo = join(base, "octo", "hello");
  v1 = initRepo(repo, { "action.yml": NODE_ACTION, "index.js": "console.log('v1')\n" });
  git(repo, "tag", "-a", "v1", "-m", "v1");
  head = commitFiles(
    repo,
    {
      "index.js": "console.log('main')\n",
      "tools/lint/action.yaml": "name: lint\ndescription: lint\nruns:\n  using: composite\n  steps: []\n",
      "broken/action.yml": "name: broken\ndescription: b\nruns: [1, 2\n",
      "empty/README.md": "no action here\n",
    },
    "second",
  );
  symlinkSync("/etc/passwd", join(repo, "evil-action.yml"));
  writeFiles(repo, { "evil/x": "" });
  symlinkSync("../evil-action.yml", join(repo, "evil", "action.yml"));
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "evil");
  head = git(repo, "rev-parse", "HEAD");
});

after(async () => {
  for (const m of machines) await m.destroy();
  rmDir(root);
});

void test("loads a remote action by branch, tag and full SHA, and refuses a short SHA like GitHub", async () => {
  const loader = createActionLoader(options());
  const m = await machine();
  const byBranch = await loader.load("octo/hello@main", m);
  assert.equal(byBranch.uses, "octo/hello@main");
  assert.equal(byBranch.manifest.runs.using, "node20");
  assert.equal(byBranch.dir, join(m.paths.actions, "octo", "hello", head));
  assert.equal(readFileSync(join(byBranch.dir, "index.js"), "utf8"), "console.log('main')\n");
  assert.equal(existsSync(join(byBranch.dir, ".git")), false);

  const byTag = await loader.load("octo/hello@v1", m);
  assert.equal(byTag.dir, join(m.paths.actions, "octo", "hello", v1));
  assert.equal(readFileSync(join(byTag.dir, "index.js"), "utf8"), "console.log('v1')\n");

  const bySha = await loader.load(`octo/hello@${v1}`, m);
  assert.equal(bySha.dir, byTag.dir);
  // GitHub: "the provided ref ... is the shortened version of a commit SHA, which is not
  // supported. Please use the full commit SHA ... instead."
  await assert.rejects(
    loader.load(`octo/hello@${v1.slice(0, 9)}`, m),
    (e) => isAirlockError(e, "ACTION_INVALID") && e.message.includes(v1) && !e.message.includes("\n"),
  );
});

void test("a tag that merely looks like a short SHA is still a tag", async () => {
  const repo = join(base, "octo", "hello");
  git(repo, "tag", "cafe1234", v1);
  const m = await machine();
  const byHexTag = await createActionLoader(options()).load("octo/hello@cafe1234", m);
  assert.equal(byHexTag.dir, join(m.paths.actions, "octo", "hello", v1));
});

void test("nested action paths resolve inside the repository copy", async () => {
  const loader = createActionLoader(options());
  const m = await machine();
  const lint = await loader.load("octo/hello/tools/lint@main", m);
  assert.equal(lint.dir, join(m.paths.actions, "octo", "hello", head, "tools", "lint"));
  assert.equal(lint.manifest.runs.using, "composite");
  assert.equal(existsSync(join(lint.dir, "action.yaml")), true);
});

void test("a cached full-SHA ref does not touch the source again", async () => {
  const opts = options("cache-offline");
  const repo2 = join(base, "octo", "gone");
  const commit = initRepo(repo2, { "action.yml": NODE_ACTION });
  await createActionLoader(opts).load("octo/gone@main", await machine());
  assert.deepEqual(readdirSync(join(opts.cacheDir, "file", "octo", "gone")), [commit]);
  rmDir(repo2);
  // A fresh loader (no in-memory state) and a fresh machine: the host cache alone serves it.
  const m = await machine();
  const again = await createActionLoader(opts).load(`octo/gone@${commit}`, m);
  assert.equal(again.dir, join(m.paths.actions, "octo", "gone", commit));
  assert.equal(existsSync(join(again.dir, "action.yml")), true);
  // A branch still needs the (now missing) source.
  await assert.rejects(createActionLoader(opts).load("octo/gone@main", m), (e) =>
    isAirlockError(e, "ACTION_FETCH_FAILED"),
  );
});

void test("concurrent loads of the same action share one complete cache entry", async () => {
  const opts = options("cache-concurrent");
  const loaders = [createActionLoader(opts), createActionLoader(opts), createActionLoader(opts)];
  const ms = await Promise.all([machine(), machine(), machine()]);
  const results = await Promise.all(
    ms.flatMap((m, i) => [
      loaders[i]!.load("octo/hello@main", m),
      loaders[i]!.load(`octo/hello@${head}`, m),
      loaders[(i + 1) % 3]!.load("octo/hello/tools/lint@main", m),
    ]),
  );
  for (const r of results)
    assert.ok(existsSync(join(r.dir, r.uses.includes("lint") ? "action.yaml" : "action.yml")));
  assert.deepEqual(readdirSync(join(opts.cacheDir, "file", "octo", "hello")), [head]);
  assert.deepEqual(readdirSync(join(opts.cacheDir, ".staging")), []);
});

void test("errors: unknown repo, unknown ref, missing and invalid manifests, symlink escapes", async () => {
  const loader = createActionLoader(options());
  const m = await machine();
  const code = (c: string) => (e: unknown) => isAirlockError(e, c as never);
  await assert.rejects(loader.load("octo/nope@v1", m), code("ACTION_FETCH_FAILED"));
  await assert.rejects(loader.load("octo/hello@v9", m), code("ACTION_NOT_FOUND"));
  await assert.rejects(loader.load(`octo/hello@${"f".repeat(40)}`, m), code("ACTION_NOT_FOUND"));
  // A tag named like a commit id must not be cached as that commit.
  git(join(base, "octo", "hello"), "tag", "c".repeat(40), v1);
  await assert.rejects(loader.load(`octo/hello@${"c".repeat(40)}`, m), code("ACTION_NOT_FOUND"));
  git(join(base, "octo", "hello"), "tag", "-d", "c".repeat(40));
  await assert.rejects(loader.load("octo/hello/empty@main", m), code("ACTION_NOT_FOUND"));
  await assert.rejects(loader.load("octo/hello/missing@main", m), code("ACTION_NOT_FOUND"));
  await assert.rejects(loader.load("octo/hello/broken@main", m), code("ACTION_INVALID"));
  await assert.rejects(loader.load("octo/hello/evil@main", m), code("ACTION_INVALID"));
  await assert.rejects(loader.load("octo/hello@--upload-pack=touch", m), code("ACTION_INVALID"));
  await assert.rejects(loader.load("octo/hello@main..v1", m), code("ACTION_INVALID"));
});

void test("local actions are read from the workspace; .. escapes are refused", async () => {
  const loader = createActionLoader(options());
  const m = await machine();
  await m.writeFile(join(m.paths.workspace, ".github/actions/greet/action.yml"), NODE_ACTION);
  const local = await loader.load("./.github/actions/greet", m);
  assert.equal(local.dir, join(m.paths.workspace, ".github/actions/greet"));
  assert.equal(local.manifest.runs.using, "node20");
  await assert.rejects(loader.load("./.github/actions/none", m), (e) =>
    isAirlockError(e, "ACTION_NOT_FOUND"),
  );
  await assert.rejects(loader.load("./../escape", m), (e) => isAirlockError(e, "ACTION_INVALID"));
  await assert.rejects(loader.load("./a/../../escape", m), (e) => isAirlockError(e, "ACTION_INVALID"));
});

void test("docker:// references load as docker actions", async () => {
  const loaded = await createActionLoader(options()).load("docker://alpine:3.20", await machine());
  assert.equal(loaded.manifest.runs.using, "docker");
});
