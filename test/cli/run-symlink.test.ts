// A local `airlock run` reads workflow files only from inside the repository: a workflow file, a
// workflows folder or a called (reusable) workflow that is a symlink leading out of it is refused
// with one line and exit status 2, and nothing of the outside file is shown or run.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeRepo, runAirlock, type TempRepo } from "../helpers/repo.js";

const outside = mkdtempSync(join(tmpdir(), "airlock-outside-"));
const SECRET = "outside-secret-text-7f3a";
writeFileSync(
  join(outside, "ci.yml"),
  `on: push\njobs:\n  leak:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${SECRET}\n`,
);
writeFileSync(
  join(outside, "reuse.yml"),
  `on: workflow_call\njobs:\n  inner:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${SECRET}\n`,
);
const repos: TempRepo[] = [];
after(() => {
  for (const r of repos) r.remove();
  rmSync(outside, { recursive: true, force: true });
});

function repo(files: Record<string, string>, link: (dir: string) => void): string {
  const r = makeRepo(files);
  repos.push(r);
  link(r.dir);
  return r.dir;
}

function assertRefused(res: { code: number | null; stdout: string; stderr: string }): void {
  assert.equal(res.code, 2, res.stderr + res.stdout);
  const lines = res.stderr.trim().split("\n");
  assert.equal(lines.length, 1, res.stderr);
  assert.match(lines[0]!, /leads out of the repository/);
  assert.ok(!(res.stdout + res.stderr).includes(SECRET));
}

describe("airlock run and symlinks", () => {
  it("refuses a workflow file that is a symlink out of the repository", async () => {
    const dir = repo({ "README.md": "x\n" }, (d) => {
      mkdirSync(join(d, ".github/workflows"), { recursive: true });
      symlinkSync(join(outside, "ci.yml"), join(d, ".github/workflows/ci.yml"));
    });
    assertRefused(await runAirlock(dir, ["run", "push"]));
  });

  it("refuses a workflows folder that is a symlink out of the repository", async () => {
    const dir = repo({ "README.md": "x\n" }, (d) => {
      mkdirSync(join(d, ".github"), { recursive: true });
      symlinkSync(outside, join(d, ".github/workflows"));
    });
    assertRefused(await runAirlock(dir, ["run", "push"]));
  });

  it("refuses a called workflow that is a symlink out of the repository", async () => {
    const dir = repo(
      {
        ".github/workflows/ci.yml": `on: push\njobs:\n  call:\n    uses: ./.github/shared/reuse.yml\n`,
      },
      (d) => {
        mkdirSync(join(d, ".github/shared"), { recursive: true });
        symlinkSync(join(outside, "reuse.yml"), join(d, ".github/shared/reuse.yml"));
      },
    );
    assertRefused(await runAirlock(dir, ["run", "push"]));
  });
});
