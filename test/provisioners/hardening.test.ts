// The hardened sandbox, with real bubblewrap, the real airlock-exec and real syscalls on the
// debian-12 job image: credentials of every process in the machine, the seccomp filter call by
// call, user namespaces (refused unless the pool allows nesting), /sys, /proc, /dev/shm, /tmp and
// the open-files limit.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createSandboxProvisioner, type Machine, type MachineSpec } from "../../src/provisioners/index.js";
import { jobImageRootfs } from "../helpers/job-image.js";
import { sh } from "./helpers.js";

const X86_64 = process.arch === "x64";
let baseDir: string;
let rootfs: string;
let prov: ReturnType<typeof createSandboxProvisioner>;
const machines: Machine[] = [];
const SYSCALLS = await readFile(
  path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/syscalls.py"),
  "utf8",
);

before(async () => {
  baseDir = await mkdtemp(path.join(os.tmpdir(), "airlock-harden-test-"));
  rootfs = jobImageRootfs();
  prov = createSandboxProvisioner({ baseDir });
});
after(async () => {
  for (const m of machines) await m.destroy();
  await rm(baseDir, { recursive: true, force: true });
});

async function machine(spec: Partial<MachineSpec> = {}): Promise<Machine> {
  const m = await prov.create({ name: "t", root: { kind: "image", path: rootfs }, ...spec });
  machines.push(m);
  return m;
}

/** The credential lines of /proc/<pid>/status that must read "jailed". */
function assertJailed(status: string, who: string): void {
  for (const f of ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]) {
    assert.match(status, new RegExp(`^${f}:\\s+0{16}$`, "m"), `${who}: ${f}`);
  }
  assert.match(status, /^NoNewPrivs:\s+1$/m, `${who}: NoNewPrivs`);
  assert.match(status, /^Seccomp:\s+2$/m, `${who}: Seccomp`);
  assert.match(status, /^Uid:\s+1001\s+1001\s+1001\s+1001$/m, `${who}: Uid`);
  assert.match(status, /^Gid:\s+1001\s+1001\s+1001\s+1001$/m, `${who}: Gid`);
  assert.match(status, /^Groups:\s*$/m, `${who}: Groups`);
}

void test("every process of the machine is jailed: steps, background processes, PID 1", async () => {
  const m = await machine();
  const first = await sh(m, "cat /proc/self/status; setsid sleep 1000 >/dev/null 2>&1 & echo started");
  assert.equal(first.exitCode, 0, first.stderr);
  assertJailed(first.stdout, "step");
  // A later step reads the background process (and PID 1) from /proc.
  const bg = await sh(m, 'for p in $(pgrep -x sleep) 1; do echo "== $p"; cat /proc/$p/status; done');
  const parts = bg.stdout.split(/^== /m).filter((p) => p.trim() !== "");
  assert.equal(parts.length, 2, bg.stdout + bg.stderr);
  for (const p of parts) assertJailed(p, `pid ${p.split("\n")[0]}`);
  assert.match((await sh(m, "tr '\\0' ' ' </proc/1/cmdline")).stdout, /airlock-exec --init/);
});

void test(
  "each blocked syscall fails with EPERM (clone3: ENOSYS); allowed ones still work",
  { skip: !X86_64 },
  async () => {
    const m = await machine();
    await m.writeFile("/airlock/temp/syscalls.py", SYSCALLS);
    const r = await sh(m, "python3 /airlock/temp/syscalls.py");
    assert.equal(r.exitCode, 0, r.stderr);
    const got = new Map(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(" ") as [string, string]),
    );
    assert.ok(got.size > 40, r.stdout);
    for (const [name, res] of got) {
      const want =
        name === "clone3"
          ? "ENOSYS"
          : name.startsWith("personality_query") || name === "getpid"
            ? "ok"
            : "EPERM";
      assert.equal(res, want, `${name}: ${res}`);
    }
  },
);

void test(
  "the filter, not missing capabilities, stops mounts: root of a nested user namespace is refused too",
  { skip: !X86_64 },
  async () => {
    // With nesting allowed, `unshare -rm` makes the process root of its own user and mount
    // namespaces, where mount/fsopen/pivot_root... would work without the filter (--propagation
    // unchanged: unshare's own mount(MS_PRIVATE) is refused as well).
    const m = await machine({ nestedUserns: true });
    await m.writeFile("/airlock/temp/syscalls.py", SYSCALLS);
    const names = "mount umount2 fsopen fspick open_tree setns pivot_root".split(" ");
    const r = await sh(
      m,
      `unshare -rm --propagation unchanged sh -c 'id -u; mkdir -p /tmp/x; python3 /airlock/temp/syscalls.py ${names.join(" ")}'`,
    );
    assert.equal(r.exitCode, 0, r.stderr);
    const [uid, ...lines] = r.stdout.trim().split("\n");
    assert.equal(uid, "0");
    assert.deepEqual(
      lines,
      names.map((n) => `${n} EPERM`),
    );
  },
);

void test("x32 and foreign-architecture syscalls kill the process", { skip: !X86_64 }, async () => {
  const m = await machine();
  const r = await sh(
    m,
    'python3 -c \'import ctypes; ctypes.CDLL(None).syscall(0x40000000 | 39); print("survived")\'; echo "exit $?"',
  );
  assert.equal(r.stdout, "exit 159\n", r.stderr); // 128 + SIGSYS
});

void test("user namespaces: refused by default, allowed when the pool allows nesting", async () => {
  const probe =
    "unshare -U true && echo U-ok || echo U-refused; unshare -r id -u && echo r-ok || echo r-refused";
  const refused = await sh(await machine(), probe);
  assert.equal(refused.stdout, "U-refused\nr-refused\n", refused.stderr);
  const nested = await sh(await machine({ nestedUserns: true }), probe);
  assert.equal(nested.stdout, "U-ok\n0\nr-ok\n", nested.stderr);
});

void test("/sys holds only what tools read; /proc only the machine's processes", async () => {
  const m = await machine();
  const r = await sh(
    m,
    'for d in /sys/class/net /sys/kernel /sys/firmware /sys/block /sys/devices/virtual; do test -e $d && echo "seen $d"; done;' +
      // only the machine's own cgroup folders: no host or sibling cgroups below them
      "find /sys/fs/cgroup -mindepth 2 -type d | head -n 3;" +
      "cat /sys/devices/system/cpu/online >/dev/null && echo cpu-ok; touch /sys/x 2>/dev/null && echo sys-writable; echo done",
  );
  assert.equal(r.stdout, "cpu-ok\ndone\n", r.stderr);
  // A host process with a cookie in its environment: invisible from inside, by pid or by content.
  const cookie = `airlock-${randomBytes(6).toString("hex")}`;
  const host = spawn("sleep", ["1000"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", COOKIE: cookie },
  });
  try {
    const p = await sh(
      m,
      `ls /proc | grep -c '^[0-9]'; cat /proc/${host.pid}/environ 2>/dev/null | grep -c ${cookie}; cat /proc/[0-9]*/environ 2>/dev/null | grep -ac ${cookie}; cat /proc/[0-9]*/cmdline | tr '\\0' ' '`,
    );
    const [count, byPid, byContent] = p.stdout.split("\n");
    assert.ok(Number(count) < 8, p.stdout);
    assert.equal(byPid, "0");
    assert.equal(byContent, "0");
    assert.doesNotMatch(p.stdout, /sleep 1000|node|postgres/);
  } finally {
    host.kill("SIGKILL");
  }
});

void test("/dev/shm and /tmp are private and size-limited; the open-files limit holds", async () => {
  const m = await machine({ limits: { shmMb: 8, tmpMb: 16, nofile: 64 } });
  const r = await sh(
    m,
    "df -k /dev/shm /tmp | tail -n 2 | awk '{print $2}';" +
      "dd if=/dev/zero of=/dev/shm/big bs=1M count=9 2>/dev/null && echo shm-overfilled;" +
      "dd if=/dev/zero of=/tmp/big bs=1M count=17 2>/dev/null && echo tmp-overfilled;" +
      "ulimit -n; ulimit -Hn; ulimit -n 65 2>/dev/null && echo raised",
  );
  assert.equal(r.stdout, "8192\n16384\n64\n64\n", r.stderr);
  // Defaults when the machine's limits name no size.
  const d = await sh(await machine(), "df -k /dev/shm | tail -n 1 | awk '{print $2}'");
  assert.equal(d.stdout, "65536\n");
});

void test(
  "control: outside the filter the same calls succeed or fail otherwise (so EPERM above is the filter's)",
  { skip: !X86_64 || process.getuid?.() !== 0 || !existsSync("/usr/bin/python3") },
  async () => {
    // The host's python as an unprivileged user, with no seccomp filter.
    const dir = await mkdtemp(path.join(os.tmpdir(), "airlock-syscalls-"));
    try {
      await chmod(dir, 0o755);
      await writeFile(path.join(dir, "syscalls.py"), SYSCALLS, { mode: 0o644 });
      const r = spawnSync("/usr/bin/python3", [path.join(dir, "syscalls.py")], {
        uid: 65534,
        gid: 65534,
        encoding: "utf8",
      });
      assert.equal(r.status, 0, r.stderr);
      const got = new Map(
        r.stdout
          .trim()
          .split("\n")
          .map((l) => l.split(" ") as [string, string]),
      );
      for (const name of ["keyctl", "open_tree", "adjtimex", "personality_exec"])
        assert.equal(got.get(name), "ok", name);
      for (const name of ["setns", "fsconfig", "perf_event_open", "name_to_handle_at"]) {
        assert.notEqual(got.get(name), "EPERM", name);
      }
      assert.notEqual(got.get("clone3"), "ENOSYS");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../dist");
/** Run with `node -e` as an unprivileged user: machines of the built provisioner, what a step sees. */
const UNPRIVILEGED_SCRIPT = `
const [dist, baseDir] = process.argv.slice(1);
const { createSandboxProvisioner, HOST_ROOT } = await import(\`\${dist}/src/provisioners/index.js\`);
const prov = createSandboxProvisioner({ baseDir, warn: () => undefined });
for (const nestedUserns of [false, true]) {
  const m = await prov.create({ name: "t", root: HOST_ROOT, nestedUserns, limits: { nofile: 512 } });
  const h = m.exec({
    argv: [
      "/bin/sh",
      "-c",
      "id -u; grep -E '^(CapBnd|CapEff|NoNewPrivs|Seccomp):' /proc/self/status; ulimit -n; unshare -U true 2>/dev/null && echo userns-ok || echo userns-refused; pwd",
    ],
    env: { PATH: "/usr/bin:/bin" },
    cwd: "/airlock/temp",
  });
  h.stdout.on("data", (b) => process.stdout.write(b));
  h.stderr.on("data", (b) => process.stderr.write(b));
  const r = await h.wait();
  console.log(\`exit \${r.exitCode}\`);
  await m.destroy();
}
await prov.close?.();
`;
void test(
  "Airlock not running as root: steps are jailed the same (the nested user namespace is entered through its parent)",
  { skip: process.getuid?.() !== 0 || !existsSync(`${DIST}/src/provisioners/index.js`) },
  async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "airlock-unpriv-"));
    try {
      await chmod(dir, 0o777);
      const args = ["--input-type=module", "-e", UNPRIVILEGED_SCRIPT, DIST, path.join(dir, "machines")];
      const r = spawnSync(process.execPath, args, {
        uid: 65534,
        gid: 65534,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
        encoding: "utf8",
        timeout: 60_000,
      });
      if (r.status !== 0 && /EACCES|permission denied/i.test(r.stderr)) {
        t.skip("this checkout is not readable by uid 65534");
        return;
      }
      assert.equal(r.status, 0, r.stderr);
      const jailed =
        "1001\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n512\n";
      assert.equal(
        r.stdout,
        `${jailed}userns-refused\n/airlock/temp\nexit 0\n${jailed}userns-ok\n/airlock/temp\nexit 0\n`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
