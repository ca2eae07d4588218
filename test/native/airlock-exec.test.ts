// airlock-exec's host-side mode, with the real binary: joining cgroups before exec, switching
// user, dropping groups, and its error exits. (The inside modes are tested through real machines
// in test/provisioners/hardening.test.ts.)
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import type { Writable } from "node:stream";
import { existsSync, mkdirSync, rmdirSync } from "node:fs";
import { test } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { joinArgs, nativeBinary, zygoteArgs, zygoteBlob } from "../../src/native/index.js";

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

/** Runs a zygote (its command on fd 3) with `input` written to that descriptor. */
function zygote(args: string[], input: Buffer | string) {
  return spawnSync("sh", ["-c", 'exec "$0" "$@" 3<&0', bin, ...args], { input, encoding: "utf8" });
}

void test("--args-fd: the command and exactly its environment come on the descriptor, empty arguments kept", () => {
  const blob = zygoteBlob(
    [
      "--",
      "/bin/sh",
      "-c",
      'printf "[%s]" "$1" "$2"; printf "%s|" "$FOO" "$(env | sort | tr "\\n" " ")"',
      "sh",
      "",
      "b c",
    ],
    {
      FOO: "bar baz",
      PATH: "/usr/bin:/bin",
    },
  );
  const r = zygote(zygoteArgs({ procs: [], argsFd: 3 }), blob);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(
    r.stdout,
    "[][b c]bar baz|FOO=bar baz PATH=/usr/bin:/bin PWD=/work/main |".replace("/work/main", process.cwd()),
  );
});

void test("--args-fd: the command runs without waiting for end of file", { timeout: 60_000 }, async () => {
  // We keep the descriptor open after the whole command is in: waiting for end of file would hang.
  const child = spawn(bin, ["--args-fd", "3"], { stdio: ["ignore", "pipe", "pipe", "pipe"] });
  const argsFd = child.stdio[3] as Writable;
  let out = "";
  child.stdout?.on("data", (b: Buffer) => (out += b.toString()));
  const code = new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  const ended = new Promise((r) => child.stdout?.once("end", r));
  argsFd.write(zygoteBlob(["--", "/bin/echo", "ran"], {}));
  assert.equal(await code, 0);
  await ended;
  argsFd.destroy();
  assert.equal(out, "ran\n");
});

void test("--args-fd: closed unused, the zygote exits quietly; bad blobs never run anything", () => {
  const retired = zygote(["--args-fd", "3"], "");
  assert.equal(retired.status, 0);
  assert.equal(retired.stdout + retired.stderr, "");
  const bad: Array<[string, RegExp]> = [
    ["3\u00000\u0000--\u0000/bin/echo\u0000", /end of file before the whole command/], // one string missing
    ["1\u00000\u0000--\u0000/bin/echo\u0000", /bytes after the whole command/], // counts disagree
    ["x\u00000\u0000", /needs a number/],
    ["2\u00001\u0000--\u0000/bin/echo\u0000NOEQUALS\u0000", /bad environment entry/],
    ["3\u00000\u0000--join\u0000/x\u0000--\u0000", /unknown option/], // no cgroup joins from the blob
    ["2\u00000\u0000--\u0000/bin/echo\u0000extra\u0000", /bytes after the whole command/],
  ];
  for (const [input, why] of bad) {
    const r = zygote(["--args-fd", "3"], input);
    assert.equal(r.status, 125, `${JSON.stringify(input)}: ${r.stderr}`);
    assert.equal(r.stdout, "", JSON.stringify(input));
    assert.match(r.stderr, why, JSON.stringify(input));
  }
  assert.equal(run(["--args-fd", "1"]).status, 125);
  assert.equal(run(["--args-fd", "3", "--", "true"]).status, 125); // command on the line too
  assert.throws(
    () => zygoteBlob(["--", "a\u0000b"], {}),
    (e) => isAirlockError(e, "CONFIG_INVALID"),
  );
  assert.throws(
    () => zygoteBlob(["--", "a"], { "A=B": "c" }),
    (e) => isAirlockError(e, "CONFIG_INVALID"),
  );
});

void test(
  "--args-fd: a zygote joins its cgroups before its command comes",
  { skip: !asRoot || !cgroupRoot },
  () => {
    const dir = `${cgroupRoot}/airlock-exec-zygote-${process.pid}`;
    mkdirSync(dir);
    try {
      const r = zygote(
        zygoteArgs({ procs: [`${dir}/cgroup.procs`], user: { uid: 65534, gid: 65534 }, argsFd: 3 }),
        zygoteBlob(["--", "/bin/sh", "-c", "cat /proc/self/cgroup; id -u"], { PATH: "/usr/bin:/bin" }),
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`:/airlock-exec-zygote-${process.pid}\\n`));
      assert.match(r.stdout, /^65534$/m);
    } finally {
      rmdirSync(dir);
    }
  },
);
