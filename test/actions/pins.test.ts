// The control plane's action pins (src/actions/pins.ts) against real git repositories served from
// a file:// base: a job's remote actions, and those its remote composite actions call, resolved to
// commits (tag, branch, full SHA); checkout, local and docker:// steps left out; a composite that
// calls itself is walked once; an unknown ref fails as the loader would. Then the loader given
// the pins fetches the pinned commit even after the branch moved on.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createActionLoader, createActionPinner } from "../../src/actions/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import { HOST_ROOT, createFakeProvisioner, type Machine } from "../../src/provisioners/index.js";
import type { StepTemplate } from "../../src/workflow/model.js";
import { commitFiles, git, initRepo, NODE_ACTION, rmDir, tempDir } from "./helpers.js";

let root: string;
let base: string;
let helloV1: string;
let helloMain: string;
let compositeV2: string;
const machines: Machine[] = [];

const COMPOSITE = `name: wrap
description: calls hello and itself
runs:
  using: composite
  steps:
    - uses: octo/hello@v1
    - uses: octo/wrap/inner@v2
    - uses: actions/checkout@v4
    - run: echo hi
      shell: bash
`;
const INNER = `name: inner
description: calls wrap again
runs:
  using: composite
  steps:
    - uses: octo/wrap@v2
`;

before(() => {
  root = tempDir();
  base = join(root, "server");
  const hello = join(base, "octo", "hello");
  helloV1 = initRepo(hello, { "action.yml": NODE_ACTION, "index.js": "console.log('v1')\n" });
  git(hello, "tag", "v1");
  helloMain = commitFiles(hello, { "index.js": "console.log('main')\n" }, "main");
  const wrap = join(base, "octo", "wrap");
  compositeV2 = initRepo(wrap, { "action.yml": COMPOSITE, "inner/action.yml": INNER });
  git(wrap, "tag", "-a", "v2", "-m", "v2");
});

after(async () => {
  for (const m of machines) await m.destroy();
  rmDir(root);
});

const opts = (cache = "orchestrator"): { actionsUrl: string; cacheDir: string } => ({
  actionsUrl: `file://${base}`,
  cacheDir: join(root, cache),
});
const steps = (...uses: string[]): StepTemplate[] => uses.map((u) => ({ uses: u }));

void test("remote actions, and those of remote composites, are pinned to commits; others are not", async () => {
  const pins = await createActionPinner(opts()).pin(
    steps(
      "actions/checkout@v4",
      "./local",
      "docker://alpine:3",
      "octo/hello@main",
      "octo/wrap@v2",
      `octo/hello@${helloV1}`,
    ),
  );
  const url = (r: string): string => `file://${base}/octo/${r}`;
  assert.deepEqual(pins, [
    { name: "octo/hello", ref: "main", commit: helloMain, url: url("hello") },
    { name: "octo/wrap", ref: "v2", commit: compositeV2, url: url("wrap") },
    { name: "octo/hello", ref: "v1", commit: helloV1, url: url("hello") },
    { name: "octo/hello", ref: helloV1, commit: helloV1, url: url("hello") },
  ]);
});

void test("an unknown ref fails the way the node's loader fails", async () => {
  await assert.rejects(createActionPinner(opts()).pin(steps("octo/hello@nope")), (e) =>
    isAirlockError(e, "ACTION_NOT_FOUND"),
  );
  await assert.rejects(
    createActionPinner(opts()).pin(steps("octo/missing@v1")),
    (e) => isAirlockError(e) && e.code.startsWith("ACTION_"),
  );
});

void test("the node's loader fetches the pinned commit, not where the branch is now", async () => {
  const [pin] = await createActionPinner(opts()).pin(steps("octo/hello@main"));
  assert.equal(pin?.commit, helloMain);
  const moved = commitFiles(join(base, "octo", "hello"), { "index.js": "console.log('moved')\n" }, "moved");
  const m = await createFakeProvisioner().create({ name: "pins", root: HOST_ROOT });
  machines.push(m);
  const loader = createActionLoader(opts("node"));
  const pinned = await loader.load("octo/hello@main", m, [pin]);
  assert.equal(pinned.uses, "octo/hello@main");
  assert.equal(pinned.dir, join(m.paths.actions, "octo", "hello", helloMain));
  assert.equal(readFileSync(join(pinned.dir, "index.js"), "utf8"), "console.log('main')\n");
  // Without a pin (a local run), the ref is resolved where it is now.
  const unpinned = await loader.load("octo/hello@main", m);
  assert.equal(unpinned.dir, join(m.paths.actions, "octo", "hello", moved));
});
