// Node.js takes a script argument `--env-file <file>` for its own option (nodejs/node#54232): it
// reads the file and applies a NODE_OPTIONS line in it before airlock runs. The `airlock` command
// (bin/airlock, the package's bin, also through a symlink) starts Node with `--` so it never
// does; `node bin/airlock.js` cannot be protected and says so.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { envFilesNodeRead } from "../../src/cli/node-argv.js";
import { projectRoot } from "../helpers/repo.js";

const dir = mkdtempSync(join(tmpdir(), "airlock-node-argv-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const script = join(projectRoot, "bin", "airlock.js");

describe("which --env-file Node read itself", () => {
  it("the script's own --env-file arguments, both spellings", () => {
    assert.deepEqual(envFilesNodeRead(["node", script, "run", "--env-file", "a", "--env-file=b"], script), [
      "a",
      "b",
    ]);
  });

  it("none after `--`, none when `--` came before the script, Node's own options not counted", () => {
    assert.deepEqual(envFilesNodeRead(["node", "--", script, "run", "--env-file", "a"], script), []);
    assert.deepEqual(envFilesNodeRead(["node", script, "--", "--env-file", "a"], script), []);
    assert.deepEqual(envFilesNodeRead(["node", "--env-file=x", script, "run"], script), []);
  });
});

describe("airlock run --env-file under Node", () => {
  // A file Node would apply: its NODE_OPTIONS makes Node load `evil.cjs`, which leaves a mark.
  const mark = join(dir, "mark");
  writeFileSync(
    join(dir, "evil.cjs"),
    `require("node:fs").writeFileSync(${JSON.stringify(mark)}, "node read it");\n`,
  );
  const envFile = join(dir, "job.env");
  writeFileSync(envFile, `NODE_OPTIONS="--require ${join(dir, "evil.cjs")}"\nA=1\n`);
  mkdirSync(join(dir, ".github", "workflows"), { recursive: true });
  writeFileSync(
    join(dir, ".github", "workflows", "ci.yml"),
    "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n",
  );
  const git = (...args: string[]): void => {
    execFileSync("git", args, { cwd: dir, stdio: "ignore" });
  };
  git("init", "-q", "-b", "main");
  git("add", ".github");
  git("-c", "user.name=T", "-c", "user.email=t@airlock.invalid", "commit", "-qm", "init");
  symlinkSync(join(projectRoot, "bin", "airlock"), join(dir, "airlock-link"));

  const run = (cmd: string, args: string[]): { code: number | null; stderr: string; marked: boolean } => {
    rmSync(mark, { force: true });
    const r = spawnSync(cmd, args, { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    let marked = true;
    try {
      readFileSync(mark);
    } catch {
      marked = false;
    }
    return { code: r.status, stderr: r.stderr, marked };
  };

  for (const [name, cmd, pre] of [
    ["bin/airlock", join(projectRoot, "bin", "airlock"), []],
    ["the package's bin through a symlink", join(dir, "airlock-link"), []],
  ] as const) {
    it(`${name}: Node never reads the file; a missing one is airlock's one-line error`, () => {
      const r = run(cmd, [...pre, "run", "-n", "--env-file", envFile]);
      assert.equal(r.marked, false, "Node applied the file's NODE_OPTIONS");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^airlock: dry run /m);
      assert.doesNotMatch(r.stderr, /warning: Node/);
      const missing = run(cmd, [...pre, "run", "-n", "--env-file=nope.env"]);
      assert.equal(missing.stderr, "airlock: --env-file nope.env: no such file\n");
      assert.equal(missing.code, 2);
    });
  }

  it("node bin/airlock.js: Node reads it (its bug), and airlock says so", () => {
    const r = run(process.execPath, [script, "run", "-n", "--env-file", envFile]);
    assert.match(r.stderr, /^airlock: warning: Node\.js itself read .*job\.env before airlock started/m);
    assert.equal(r.code, 0, r.stderr);
  });
});
