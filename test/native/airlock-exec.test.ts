// airlock-exec's host-side mode, with the real binary: joining cgroups before exec, switching
// user, dropping groups, and its error exits. (The inside modes are tested through real machines
// in test/provisioners/hardening.test.ts.)
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmdirSync } from "node:fs";
import { test } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { joinArgs, nativeBinary } from "../../src/native/index.js";

const bin = nativeBinary("airlock-exec");
const run = (args: string[]) => spawnSync(bin, args, { encoding: "utf8" });
const asRoot = process.getuid?.() === 0;
// A v1 pids hierarchy or the v2 root, whichever this host has (tests skip when neither is writable).
const cgroupRoot = ["/sys/fs/cgroup/pids", "/sys/fs/cgroup"].find((d) => existsSync(`${d}/cgroup.procs`));

void test("--join puts the command in each cgroup before it runs", { skip: !asRoot || !cgroupRoot }, () => {
  const dir = `${cgroupRoot}/airlock-exec-test-${process.pid}`;
  mkdirSync(dir);
  try {
    const r = run(joinArgs({ procs: [`${dir}/cgroup.procs`] }, ["cat", "/proc/self/cgroup"]));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`:/airlock-exec-test-${process.pid}\\n`));
  } finally {
    rmdirSync(dir);
  }
});

void test(
  "--join --user switches to the given uid/gid with no supplementary groups",
  { skip: !asRoot },
  () => {
    const r = run(
      joinArgs({ procs: [], user: { uid: 65534, gid: 65534 } }, [
        "grep",
        "-E",
        "^(Uid|Gid|Groups|CapEff)",
        "/proc/self/status",
      ]),
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Uid:\s+65534\s+65534\s+65534\s+65534\n/);
    assert.match(r.stdout, /Gid:\s+65534\s+65534\s+65534\s+65534\n/);
    assert.match(r.stdout, /Groups:\s*\n/);
    assert.match(r.stdout, /CapEff:\s+0+\n/);
  },
);

void test("--join refuses what it cannot do, and never runs the command then", () => {
  const missing = run(["--join", "/nonexistent/cgroup.procs", "--", "sh", "-c", "echo ran"]);
  assert.equal(missing.status, 125);
  assert.equal(missing.stdout, "");
  assert.match(missing.stderr, /cannot open \/nonexistent\/cgroup.procs/);
  assert.equal(run(["--join", "relative/cgroup.procs", "--", "true"]).status, 125);
  assert.equal(run(["--join", "--", "airlock-no-such-command"]).status, 127);
  assert.equal(run(["--bogus"]).status, 125);
  assert.throws(
    () => joinArgs({ procs: ["x/cgroup.procs"] }, ["true"]),
    (e) => isAirlockError(e, "CONFIG_INVALID"),
  );
});

void test("a missing helper is SANDBOX_UNAVAILABLE", () => {
  assert.throws(
    () => nativeBinary("airlock-exec", "/nonexistent"),
    (e) => isAirlockError(e, "SANDBOX_UNAVAILABLE"),
  );
});
