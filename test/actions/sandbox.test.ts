// The actions module with real bubblewrap machines: the checked-out workspace is a working git
// repository inside the sandbox (HEAD, branch, origin), and a remote action's files are readable
// there at the inner path the loader returns.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createActionLoader, createGitWorkspaceSource } from "../../src/actions/index.js";
import { HOST_ROOT, createSandboxProvisioner, type Machine } from "../../src/provisioners/index.js";
import { sh } from "../provisioners/helpers.js";
import { commitFiles, initRepo, NODE_ACTION, rmDir, tempDir } from "./helpers.js";

let root: string;
let sandboxBase: string;
let repo: string;
let commit: string;
const machines: Machine[] = [];

before(async () => {
  root = tempDir();
  sandboxBase = await mkdtemp(join(tmpdir(), "airlock-actions-sbx-"));
  repo = join(root, "srv", "octo", "app");
  initRepo(repo, { "README.md": "one\n" });
  commit = commitFiles(repo, { "action.yml": NODE_ACTION, "index.js": "console.log(1)\n" }, "action");
});

after(async () => {
  for (const m of machines) await m.destroy();
  await rm(sandboxBase, { recursive: true, force: true });
  rmDir(root);
});

async function machine(): Promise<Machine> {
  const m = await createSandboxProvisioner({ baseDir: sandboxBase }).create({ name: "t", root: HOST_ROOT });
  machines.push(m);
  return m;
}

void test("checkout and remote actions inside a bubblewrap machine", async () => {
  const m = await machine();
  await createGitWorkspaceSource().checkout(m, {
    repository: repo,
    commit,
    ref: "refs/heads/main",
    path: m.paths.workspace,
    clean: true,
  });
  const r = await sh(
    m,
    "git rev-parse HEAD && git branch --show-current && git remote get-url origin && git status --porcelain",
  );
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, `${commit}\nmain\n${repo}\n`);

  const loaded = await createActionLoader({
    actionsUrl: `file://${root}/srv`,
    cacheDir: join(root, "cache"),
  }).load("octo/app@main", m);
  assert.equal(loaded.dir, `${m.paths.actions}/octo/app/${commit}`);
  const cat = await sh(m, `cat "${loaded.dir}/index.js"`);
  assert.equal(cat.stdout, "console.log(1)\n");
});
