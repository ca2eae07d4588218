// A job on the default image through the real `airlock run` (no --host-root): it runs as the
// image's runner user (whoami, uid 1001, HOME, SHELL), has the default toolset, cannot see the
// host's files, and a JavaScript action runs on the node's own Node at
// /airlock/externals/node/bin/node although the image has no node.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { makeRepo, runAirlock, type TempRepo } from "../helpers/repo.js";
import { defaultImage } from "../helpers/images.js";

const workflow = `on: push
jobs:
  who:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: identity
        run: |
          echo "whoami=$(whoami) uid=$(id -u) gid=$(id -g) home=$HOME shell=$SHELL"
          touch "$HOME/written" && echo home-writable
          getent passwd runner
      - name: tools
        run: |
          for t in bash git curl python3 jq gcc make tar gzip xz zstd ps; do command -v $t >/dev/null || echo "missing $t"; done
          echo 'int main(void){return 0;}' > c.c && gcc c.c -o c && ./c && echo c-toolchain-ok
          if command -v node; then echo "node-in-image"; fi
          if test -e /work/main || test -e ${JSON.stringify(process.cwd())}/package.json; then echo host-visible; fi
          /airlock/externals/node/bin/node -e 'console.log("externals-node=" + process.version)'
      - id: js
        uses: ./.github/actions/js
`;

const action = `name: js
outputs:
  node:
    description: the node that ran the action
runs:
  using: node20
  main: main.js
`;

const main = `const fs = require("fs");
console.log("action-node=" + process.execPath + " " + process.version);
fs.appendFileSync(process.env.GITHUB_OUTPUT, "node=" + process.execPath + "\\n");
`;

describe("a job on the debian-12 image", () => {
  let repo: TempRepo;
  before(async () => {
    await defaultImage();
    repo = makeRepo({
      ".github/workflows/w.yml": workflow,
      ".github/actions/js/action.yml": action,
      ".github/actions/js/main.js": main,
    });
  });
  after(() => repo.remove());

  it("runs as runner (1001, /home/runner, /bin/bash) with the default tools and the externals node", async () => {
    const res = await runAirlock(repo.dir, ["run", "--json"]);
    const log = res.stderr;
    assert.equal(res.code, 0, log);
    assert.ok(log.includes("| whoami=runner uid=1001 gid=1001 home=/home/runner shell=/bin/bash"), log);
    assert.ok(log.includes("| home-writable"), log);
    assert.ok(log.includes("| runner:x:1001:1001:"), log);
    assert.ok(!log.includes("| missing "), log);
    assert.ok(log.includes("| c-toolchain-ok"), log);
    assert.ok(!log.includes("| node-in-image"), log);
    assert.ok(!log.includes("| host-visible"), log);
    assert.ok(log.includes(`| externals-node=${process.version}`), log);
    assert.ok(log.includes(`| action-node=/airlock/externals/node/bin/node ${process.version}`), log);
    assert.ok(!log.includes("warning: --host-root"), log);
    const doc = JSON.parse(res.stdout) as {
      jobs: Array<{ steps: Array<{ outputs?: Record<string, string> }> }>;
    };
    assert.ok(JSON.stringify(doc).includes("/airlock/externals/node/bin/node"));
  });
});
