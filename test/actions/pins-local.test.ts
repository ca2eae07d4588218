// The control plane's action pins for local (`./path`) actions (src/actions/pins.ts), against real
// git repositories: the workflow repository read through a real mirror at the run's commit (as
// the driver does), remote actions served from a file:// base. A local composite's remote actions
// are pinned; a local inside a local is walked; `./` inside a remote composite is the workflow
// repository's; a local path that is not in the repository at the commit, or whose manifest is
// broken, is left to the node without failing the job.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createActionPinner, type ReadRepoFile } from "../../src/actions/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import { openMirror } from "../../src/sources/index.js";
import { MAX_FILE_BYTES } from "../../src/workflow/index.js";
import type { ResolvedAction } from "../../src/runner/types.js";
import type { StepTemplate } from "../../src/workflow/model.js";
import { commitFiles, git, initRepo, NODE_ACTION, rmDir, tempDir } from "./helpers.js";

const composite = (...uses: string[]): string =>
  `name: c\ndescription: calls others\nruns:\n  using: composite\n  steps:\n${uses
    .map((u) => `    - uses: ${u}\n`)
    .join("")}    - run: echo hi\n      shell: bash\n`;

let root: string;
let base: string;
let helloV1: string;
let helloMain: string;
let leafV2: string;
let callsV1: string;
let readLocal: ReadRepoFile;
const reads: string[] = [];

before(async () => {
  root = tempDir();
  base = join(root, "server");
  const hello = join(base, "octo", "hello");
  helloV1 = initRepo(hello, { "action.yml": NODE_ACTION, "index.js": "console.log('v1')\n" });
  git(hello, "tag", "v1");
  helloMain = commitFiles(hello, { "index.js": "console.log('main')\n" }, "main");
  leafV2 = initRepo(join(base, "octo", "leaf"), { "action.yml": NODE_ACTION, "index.js": "\n" });
  git(join(base, "octo", "leaf"), "tag", "v2");
  // A remote composite calling `./.github/actions/leaf`: the workspace's, not this repository's
  // own (which would pin octo/leaf@main instead).
  callsV1 = initRepo(join(base, "octo", "calls"), {
    "action.yml": composite("./.github/actions/leaf"),
    ".github/actions/leaf/action.yml": composite("octo/leaf@main"),
  });
  git(join(base, "octo", "calls"), "tag", "v1");

  const app = join(root, "app");
  const commit = initRepo(app, {
    ".github/workflows/ci.yml": "on: push\n",
    // build → hello@main, inner (→ hello@v1, build again), a path made at run time, a broken one.
    ".github/actions/build/action.yml": composite(
      "octo/hello@main",
      "./.github/actions/inner",
      "./made-at-runtime",
      "./.github/actions/broken",
    ),
    ".github/actions/inner/action.yml": composite("octo/hello@v1", "./.github/actions/build/"),
    ".github/actions/broken/action.yml": `${composite("octo/wrong@v1")}      bogus: 1\n`,
    ".github/actions/leaf/action.yaml": composite("octo/leaf@v2"),
    ".github/actions/typo/action.yml": composite("octo/hello@no-such-tag", "octo/absent@v1"),
    ".github/actions/node/action.yml": NODE_ACTION,
  });
  const mirror = openMirror({ cacheDir: join(root, "mirrors"), cloneUrl: app });
  await mirror.fetch();
  // As the driver reads them: the repository at the run's commit, through the orchestrator's mirror.
  readLocal = async (file) => {
    reads.push(file);
    return await mirror.readFile(commit, file, { maxBytes: MAX_FILE_BYTES });
  };
});

after(() => rmDir(root));

const opts = (): { actionsUrl: string; cacheDir: string } => ({
  actionsUrl: `file://${base}`,
  cacheDir: join(root, "cache"),
});
const steps = (...uses: string[]): StepTemplate[] => uses.map((u) => ({ uses: u }));
const pin = (name: string, ref: string, commit: string): ResolvedAction => ({
  name: `octo/${name}`,
  ref,
  commit,
  url: `file://${base}/octo/${name}`,
});

void test("remote actions of local composites (and of locals inside them) are pinned to commits", async () => {
  const pins = await createActionPinner(opts(), { readLocal }).pin(
    steps("./.github/actions/build", "./.github/actions/node", "octo/calls@v1"),
  );
  assert.deepEqual(pins, [
    pin("hello", "main", helloMain),
    pin("hello", "v1", helloV1),
    pin("calls", "v1", callsV1),
    // `./` inside the remote composite: the workflow repository's leaf (action.yaml), not octo/calls' own.
    pin("leaf", "v2", leafV2),
  ]);
});

void test("a local path not in the repository, or with a broken manifest, is skipped without error", async () => {
  const pinner = createActionPinner(opts(), { readLocal });
  assert.deepEqual(await pinner.pin(steps("./made-at-runtime", "./.github/actions/broken", "./")), []);
  // Below a local action, an unknown ref or repository is left to the node (which reports it when
  // the step runs); the same action used by the job itself still fails as the loader would.
  assert.deepEqual(await pinner.pin(steps("./.github/actions/typo")), []);
  await assert.rejects(pinner.pin(steps("octo/hello@no-such-tag")), (e) =>
    isAirlockError(e, "ACTION_NOT_FOUND"),
  );
});

void test("each local manifest is read once per run; without readLocal locals are not walked", async () => {
  const pinner = createActionPinner(opts(), { readLocal });
  reads.length = 0;
  await pinner.pin(steps("./.github/actions/build"));
  const first = [...reads];
  assert.ok(first.includes(".github/actions/inner/action.yml"), first.join(" "));
  await pinner.pin(steps("./.github/actions/build", "./.github/actions/inner"));
  assert.deepEqual(reads, first);
  assert.deepEqual(await createActionPinner(opts()).pin(steps("./.github/actions/build")), []);
});
