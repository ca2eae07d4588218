// `airlock run` as act runs: the working tree as it is (uncommitted, untracked, deleted files; not
// what .gitignore leaves out; github.sha still HEAD), said in its first line; -l, -g, -n, --matrix,
// .env/.vars/.input and their options, --version; the user's mistakes end in one line, exit 2.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { makeRepo, runAirlock } from "../helpers/repo.js";

const WORKFLOW = `name: Local
on:
  push:
  workflow_dispatch:
    inputs:
      greeting:
        type: string
env:
  OVERRIDE: workflow
jobs:
  check:
    name: check \${{ matrix.os }} \${{ inputs.greeting }}
    runs-on: ubuntu-latest
    strategy:
      matrix:
        os: [linux, mac]
    outputs:
      report: \${{ steps.s.outputs.report }}
    steps:
      - id: s
        env:
          STEP_WINS: step
          SECRET_LEN: \${{ secrets.MULTI }}
        run: |
          {
            printf 'report='
            printf '%s|' "$(cat tracked.txt)" "$(cat untracked.txt)"
            for f in deleted.txt ignored/x .secrets; do test -e "$f" && printf 'has:%s|' "$f" || printf 'no:%s|' "$f"; done
            printf '%s|' "$(git rev-parse HEAD)" "\${{ github.sha }}" "\${{ github.ref }}"
            printf '%s|' "$(git status --porcelain | sort | tr '\\n' ',')"
            printf '%s|' "$FROM_ENV_FILE" "$OVERRIDE" "$STEP_WINS" "$LITERAL" "$EXTRA" "\${{ vars.FROM_VARS }}" "\${#SECRET_LEN}"
            echo
          } >> "$GITHUB_OUTPUT"
  after:
    needs: check
    runs-on: ubuntu-latest
    steps:
      - run: echo after
`;

const repo = makeRepo({
  ".github/workflows/local.yml": WORKFLOW,
  ".gitignore": "ignored/\n.secrets\n",
  "tracked.txt": "committed\n",
  "deleted.txt": "gone soon\n",
});
after(() => repo.remove());
const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repo.dir, encoding: "utf8" }).trim();
// The working tree: one file changed, one new, one deleted, one ignored, and the local files.
writeFileSync(join(repo.dir, "tracked.txt"), "changed\n");
writeFileSync(join(repo.dir, "untracked.txt"), "new\n");
unlinkSync(join(repo.dir, "deleted.txt"));
mkdirSync(join(repo.dir, "ignored"));
writeFileSync(join(repo.dir, "ignored", "x"), "not copied\n");
const SECRETS = 'MULTI="first line\nsecond line"\n';
writeFileSync(join(repo.dir, ".secrets"), SECRETS);
writeFileSync(join(repo.dir, ".vars"), "FROM_VARS=vars-file\n");
writeFileSync(
  join(repo.dir, ".env"),
  'export FROM_ENV_FILE=env-file\nOVERRIDE=env-file\nSTEP_WINS=env-file\nLITERAL="${{ github.sha }}"\n',
);

interface Doc {
  conclusion: string;
  jobs: Array<{
    id: string;
    name: string;
    conclusion: string;
    matrix: unknown;
    outputs: Record<string, string>;
  }>;
}

describe("airlock run on the working tree", () => {
  it("runs the uncommitted working tree, with .env/.vars/.secrets, only the --matrix leg asked", async () => {
    const machines = mkdtempSync(join(tmpdir(), "airlock-run-local-machines-"));
    try {
      const r = await runAirlock(
        repo.dir,
        ["run", "push", "--json", "--matrix", "os:mac", "--env", "EXTRA=flag"],
        {
          AIRLOCK_MACHINES_DIR: machines,
        },
      );
      assert.equal(r.code, 0, r.stderr + r.stdout);
      // .vars, .env, .secrets (4) and the three changes: untracked.txt, tracked.txt, deleted.txt.
      const first = r.stderr.split("\n")[0];
      assert.equal(
        first,
        `airlock: running the working tree of ${repo.dir} (5 uncommitted changes) at commit ${head.slice(0, 7)} on main`,
      );
      assert.match(r.stderr, /^airlock: reading \.secrets, \.vars, \.env from the repository's root$/m);
      const doc = JSON.parse(r.stdout) as Doc;
      assert.equal(doc.conclusion, "success");
      assert.deepEqual(
        doc.jobs.map((j) => [j.id, j.name, j.conclusion]),
        [
          ["check", "check mac ", "success"],
          ["after", "after", "success"],
        ],
      );
      const fields = (doc.jobs[0]?.outputs.report ?? "").split("|");
      assert.deepEqual(fields, [
        "changed",
        "new",
        "no:deleted.txt",
        "no:ignored/x",
        "no:.secrets",
        head,
        head,
        "refs/heads/main",
        " D deleted.txt, M tracked.txt,?? .env,?? .vars,?? untracked.txt,",
        "env-file",
        "env-file",
        "step",
        "${{ github.sha }}",
        "flag",
        "vars-file",
        "22",
        "",
      ]);
    } finally {
      rmSync(machines, { recursive: true, force: true });
    }
  });

  it("-n plans and prints every job and step without a machine, exit 0; inputs from .input, --input wins", async () => {
    writeFileSync(join(repo.dir, ".input"), "greeting=from-file\n");
    const machines = mkdtempSync(join(tmpdir(), "airlock-run-local-machines-"));
    try {
      const r = await runAirlock(repo.dir, ["run", "workflow_dispatch", "-n", "--matrix", "os:linux"], {
        AIRLOCK_MACHINES_DIR: machines,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^airlock: dry run \(no machine is created\) of the working tree of /m);
      assert.match(r.stderr, /^airlock: dry run: nothing was run$/m);
      assert.match(
        r.stdout,
        /^\[check linux from-file\] {3}\| dry run: would run on a new machine for runs-on: ubuntu-latest$/m,
      );
      assert.match(r.stdout, /^\[check linux from-file\] {3}\| {3}step 1: Run \{$/m);
      assert.match(r.stdout, /^\[after\] {3}\| {3}step 1: Run echo after$/m);
      assert.doesNotMatch(r.stdout, /check mac/);
      assert.deepEqual(readdirSync(machines), []);
      const flag = await runAirlock(repo.dir, [
        "run",
        "workflow_dispatch",
        "-n",
        "--json",
        "--input",
        "greeting=flag",
      ]);
      assert.equal(flag.code, 0, flag.stderr);
      const doc = JSON.parse(flag.stdout) as Doc;
      assert.deepEqual(
        doc.jobs.map((j) => j.name),
        ["check linux flag", "check mac flag", "after"],
      );
    } finally {
      unlinkSync(join(repo.dir, ".input"));
      rmSync(machines, { recursive: true, force: true });
    }
  });
});

describe("airlock run without an event", () => {
  it("takes the only event the workflows have, and says so (act's default)", async () => {
    const only = makeRepo({
      ".github/workflows/pr.yml":
        "on: pull_request\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo pr\n",
    });
    try {
      const r = await runAirlock(only.dir, ["run", "-n", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^airlock: event 'pull_request', the only one the workflows run on$/m);
      assert.match(r.stderr, /\(no uncommitted changes\) at commit [0-9a-f]{7} on main$/m);
      assert.deepEqual(
        (JSON.parse(r.stdout) as Doc).jobs.map((j) => [j.id, j.conclusion]),
        [["t", "success"]],
      );
    } finally {
      only.remove();
    }
  });
});

describe("airlock run -l, -g, --version", () => {
  it("-l lists every job with its stage, name, workflow and events", async () => {
    const r = await runAirlock(repo.dir, ["run", "-l"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        "STAGE  JOB ID  JOB NAME                                       WORKFLOW NAME  WORKFLOW FILE                EVENTS",
        "0      check   check ${{ matrix.os }} ${{ inputs.greeting }}  Local          .github/workflows/local.yml  push,workflow_dispatch",
        "1      after   after                                          Local          .github/workflows/local.yml  push,workflow_dispatch",
        "",
      ].join("\n"),
    );
    const none = await runAirlock(repo.dir, ["run", "-l", "pull_request"]);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, "");
    assert.equal(none.stderr, "airlock: no workflow runs on event 'pull_request'\n");
  });

  it("-g draws the graph, -j narrows it to a job and what it needs", async () => {
    const r = await runAirlock(repo.dir, ["run", "-g"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        ".github/workflows/local.yml (Local)",
        "    ┌───────┐",
        "    │ check │",
        "    └───────┘",
        "        ↓",
        "┌───────────────┐",
        "│ after ← check │",
        "└───────────────┘",
        "",
      ].join("\n"),
    );
    const one = await runAirlock(repo.dir, ["run", "-g", "-j", "check"]);
    assert.equal(
      one.stdout,
      [".github/workflows/local.yml (Local)", "┌───────┐", "│ check │", "└───────┘", ""].join("\n"),
    );
  });

  it("--version: the same line for airlock and airlock run", async () => {
    const top = await runAirlock(repo.dir, ["--version"]);
    const run = await runAirlock(repo.dir, ["run", "--version"]);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /^airlock \d+\.\d+\.\d+\n$/);
    assert.equal(run.stdout, top.stdout);
    assert.equal(run.code, 0);
  });
});

describe("airlock run refuses mistakes in one line, exit 2", () => {
  const cases: Array<[string, string[], () => void, RegExp]> = [
    [
      "-W missing",
      ["-W", "missing.yml"],
      () => undefined,
      /^airlock: No workflow file or folder at missing\.yml\n$/,
    ],
    [
      "--matrix without a colon",
      ["--matrix", "os"],
      () => undefined,
      /^airlock: --matrix expects key:value, got 'os'\n$/,
    ],
    [
      "a malformed .secrets",
      [],
      () => writeFileSync(join(repo.dir, ".secrets"), 'OK=1\nBAD="hunter2 value\n'),
      /^airlock: \.secrets:2: the value's " quote is never closed\n$/,
    ],
    [
      "--var-file missing",
      ["--var-file", "nope"],
      () => undefined,
      /^airlock: --var-file nope: no such file\n$/,
    ],
    [
      "--input-file missing",
      ["--input-file", "nope"],
      () => undefined,
      /^airlock: --input-file nope: no such file\n$/,
    ],
    [
      "a malformed --env-file",
      ["--env-file", "bad.env"],
      () => writeFileSync(join(repo.dir, "bad.env"), "A=1\n\nnot an entry\n"),
      /^airlock: bad\.env:3: expected NAME=value\n$/,
    ],
    [
      "-j unknown with -l",
      ["-l", "-j", "nope"],
      () => undefined,
      /^airlock: no job 'nope' in the workflows\n$/,
    ],
  ];
  for (const [name, args, setup, stderr] of cases) {
    it(name, async () => {
      setup();
      const r = await runAirlock(repo.dir, ["run", ...args]);
      writeFileSync(join(repo.dir, ".secrets"), SECRETS);
      assert.match(r.stderr, stderr);
      assert.doesNotMatch(r.stderr, /hunter2/);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, "");
    });
  }

  it("a folder that is not a git repository", async () => {
    const dir = mkdtempSync(join(tmpdir(), "airlock-not-a-repo-"));
    try {
      const r = await runAirlock(dir, ["run"]);
      assert.equal(
        r.stderr,
        `airlock: ${dir} is not inside a git repository: airlock run runs a git repository's working tree (git init, then commit once)\n`,
      );
      assert.equal(r.code, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
