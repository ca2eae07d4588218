// An alias-bomb workflow pushed to a repository while another run proceeds: the bomb gets a
// failed run naming one problem with file:line:col, the other run succeeds, and /healthz answers
// while the bomb is being handled (its parse runs in a worker: test/workflow/bounds.test.ts).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeRepo, type TempRepo } from "../helpers/repo.js";
import { eventually, startTestService, type TestService } from "../helpers/service.js";

let t: TestService;
let repo: TempRepo;

const BOMB = `on: push
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: echo \${{ toJSON(github) }}
`;

before(async () => {
  t = await startTestService();
  await t.startAgent(await t.addNode("node-bomb"));
  repo = makeRepo({
    ".github/workflows/ci.yml": `on: push
jobs:
  slow:
    runs-on: ubuntu-latest
    steps:
      - run: for i in $(seq 1 20); do echo "tick $i"; sleep 0.1; done
`,
  });
});
after(async () => {
  await t.stop();
  repo.remove();
});

describe("hostile workflow file", () => {
  it("an alias bomb is one clear problem while another run proceeds", async () => {
    const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
      name: "acme/bomb",
      cloneUrl: repo.dir,
    });
    const first = await t.api<{ runs: Array<{ id: number }> }>(
      "POST",
      `/api/v1/repositories/${r.body.id}/runs`,
      {},
    );
    const firstId = first.body.runs[0]?.id ?? -1;
    await eventually(async () => {
      const run = await t.api<{ jobs: Array<{ state: string }> }>("GET", `/api/v1/runs/${firstId}`);
      return run.body.jobs?.[0]?.state === "running" ? true : undefined;
    }, "the first run's job to run");

    writeFileSync(join(repo.dir, ".github/workflows/bomb.yml"), BOMB);
    const git = (...args: string[]): void => {
      execFileSync("git", args, { cwd: repo.dir, stdio: "ignore" });
    };
    git("add", "-A");
    git("-c", "user.name=Test", "-c", "user.email=test@airlock.invalid", "commit", "-qm", "bomb");
    const [second, health] = await Promise.all([
      t.api<{ runs: Array<{ id: number }> }>("POST", `/api/v1/repositories/${r.body.id}/runs`, {}),
      fetch(`${t.service.url}/healthz`),
    ]);
    assert.equal(health.status, 200);
    assert.equal(second.status, 201, JSON.stringify(second.body));

    const { rows } = await t.db.pool.query<{ workflow_file: string; conclusion: string; error: string }>(
      `SELECT workflow_file, conclusion, error FROM runs WHERE workflow_file LIKE '%bomb.yml'`,
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.conclusion, "failure");
    const lines = rows[0]!.error.trim().split("\n");
    assert.equal(lines.length, 1, rows[0]!.error);
    assert.match(lines[0]!, /^\.github\/workflows\/bomb\.yml:\d+:\d+: .*expands to more than \d+ YAML nodes/);

    const done = await t.waitRun(firstId);
    assert.equal(done.conclusion, "success", JSON.stringify(done));
  });

  it("a workflow file over the size cap is not read: one problem naming its size, the other files still run", async () => {
    const r = await t.api<{ id: number }>("POST", "/api/v1/repositories", {
      name: "acme/huge",
      cloneUrl: repo.dir,
    });
    // 2 MiB of comment lines: valid YAML, so only the cap (not the parser) can refuse it.
    writeFileSync(
      join(repo.dir, ".github/workflows/huge.yml"),
      `on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n${"# padding padding padding padding padding padding padding padding\n".repeat(32 * 1024)}`,
    );
    const git = (...args: string[]): void => {
      execFileSync("git", args, { cwd: repo.dir, stdio: "ignore" });
    };
    git("add", "-A");
    git("-c", "user.name=Test", "-c", "user.email=test@airlock.invalid", "commit", "-qm", "huge");
    const runs = await t.api<{ runs: Array<{ id: number; workflowFile?: string }> }>(
      "POST",
      `/api/v1/repositories/${r.body.id}/runs`,
      {},
    );
    assert.equal(runs.status, 201, JSON.stringify(runs.body));
    const { rows } = await t.db.pool.query<{ conclusion: string; error: string }>(
      `SELECT conclusion, error FROM runs WHERE repository_id = $1 AND workflow_file LIKE '%huge.yml'`,
      [r.body.id],
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.conclusion, "failure");
    assert.match(
      rows[0]!.error.trim(),
      /^\.github\/workflows\/huge\.yml:1:1: \.github\/workflows\/huge\.yml is \d+ bytes; at most 1048576 bytes are read$/,
    );
    const { rows: others } = await t.db.pool.query<{ workflow_file: string }>(
      `SELECT workflow_file FROM runs WHERE repository_id = $1 AND workflow_file LIKE '%ci.yml'`,
      [r.body.id],
    );
    assert.equal(others.length, 1, "ci.yml still got its run");
  });
});
