// Rootless mode of the container provisioner: the suite runs as root, so this file makes (once,
// idempotently) an unprivileged system user with a subordinate id range and one without, and runs
// fixtures/rootless-machine.ts as each of them (setpriv, a clean environment): real rootless
// podman, runc, newuidmap, airlock-exec entering the container as its unprivileged owner.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chownSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, symlink, copyFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { subordinateCount } from "../../src/provisioners/container/rootless.js";

const WITH_RANGE = "airlock-rootless";
const NO_RANGE = "airlock-nosubids";
const RANGE = 2 * 65536;
/** podman's runtime folders of the provisioner (rootless.ts ensureRunDir). */
const RUN_DIRS = "/tmp/airlock-podman-"; // the user runs with a clean environment: no TMPDIR
const REPO = path.resolve(import.meta.dirname, "../..");
const APPLETS = [
  "sh",
  "id",
  "touch",
  "cat",
  "tail",
  "cut",
  "tr",
  "grep",
  "readlink",
  "wget",
  "sleep",
  "ps",
  "echo",
  "httpd",
  "mkdir",
  "seq",
];

interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

const why = ((): string | undefined => {
  if (process.getuid?.() !== 0) return "needs root to create the test users";
  for (const b of ["podman", "newuidmap", "useradd", "usermod", "setpriv"]) {
    if (spawnSync("sh", ["-c", `command -v ${b}`]).status !== 0) return `${b} is not installed`;
  }
  if (!existsSync("/bin/busybox")) return "busybox-static is not installed";
  return undefined;
})();

function account(name: string, range: boolean): Account {
  // usermod refuses --add-subuids when the files do not exist yet (a fresh host).
  for (const f of ["/etc/subuid", "/etc/subgid"]) if (!existsSync(f)) writeFileSync(f, "", { mode: 0o644 });
  const home = `/var/lib/${name}`;
  if (spawnSync("id", ["-u", name]).status !== 0) {
    execFileSync("useradd", [
      "--system",
      "--create-home",
      "--home-dir",
      home,
      "--shell",
      "/usr/sbin/nologin",
      name,
    ]);
  }
  const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }));
  const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }));
  const who = { name, uid };
  const have = Math.min(subordinateCount("/etc/subuid", who), subordinateCount("/etc/subgid", who));
  if (range && have < RANGE) {
    // Above every range already given out, so that no two users share subordinate ids.
    let end = 100000;
    for (const f of ["/etc/subuid", "/etc/subgid"]) {
      for (const l of existsSync(f) ? readFileSync(f, "utf8").split("\n") : []) {
        const [, s, c] = l.split(":");
        if (s && c) end = Math.max(end, Number(s) + Number(c));
      }
    }
    const first = Math.ceil(end / 65536) * 65536;
    const ids = `${first}-${first + RANGE - 1}`;
    execFileSync("usermod", ["--add-subuids", ids, "--add-subgids", ids, name]);
  }
  if (!range && have > 0) throw new Error(`${name} has a subordinate range; remove it from /etc/subuid`);
  return {
    name,
    uid,
    gid,
    home: execFileSync("sh", ["-c", `getent passwd ${name} | cut -d: -f6`], { encoding: "utf8" }).trim(),
  };
}

function runAs(a: Account, cwd: string, argv: string[]): ReturnType<typeof spawnSync> {
  return spawnSync(
    "setpriv",
    [
      `--reuid=${a.uid}`,
      `--regid=${a.gid}`,
      "--init-groups",
      "--",
      "env",
      "-i",
      `HOME=${a.home}`,
      "PATH=/usr/local/bin:/usr/bin:/bin",
      ...argv,
    ],
    { cwd, encoding: "utf8", timeout: 300_000 },
  );
}

let tmp: string;
let runDir = REPO;
let user: Account;
let nobody: Account;
let rootfs: string;

/** Where the user can run the repository's code from: the repository itself, or a copy. */
async function runnableRepo(a: Account): Promise<string> {
  const readable = runAs(a, "/", ["test", "-r", path.join(REPO, "src/provisioners/index.ts")]).status === 0;
  if (readable && process.env.AIRLOCK_ROOTLESS_TEST_COPY !== "1") return REPO;
  const copy = path.join(tmp, "repo");
  await mkdir(copy);
  for (const d of ["src", "test", "dist", "package.json", "tsconfig.json"]) {
    execFileSync("cp", ["-a", path.join(REPO, d), path.join(copy, d)]);
  }
  execFileSync("chmod", ["-R", "a+rX", copy]);
  // Hard links when the copy is on the same file system (instant; only its folders are new, so
  // only they are opened up: the files are the repository's own), else a real copy.
  const nm = path.join(copy, "node_modules");
  const real = path.join(REPO, "node_modules");
  if (spawnSync("cp", ["-al", `${real}/.`, nm]).status === 0) {
    execFileSync("find", [nm, "-type", "d", "-exec", "chmod", "a+rx", "{}", "+"]);
  }
  if (runAs(a, "/", ["test", "-r", path.join(nm, "tsx/package.json")]).status !== 0) {
    await rm(nm, { recursive: true, force: true });
    execFileSync("cp", ["-a", `${real}/.`, nm]);
    execFileSync("chmod", ["-R", "a+rX", nm]);
  }
  return copy;
}

before(async () => {
  if (why) return;
  tmp = await mkdtemp(path.join(os.tmpdir(), "airlock-rootless-test-"));
  await chmod(tmp, 0o755);
  user = account(WITH_RANGE, true);
  nobody = account(NO_RANGE, false);
  runDir = await runnableRepo(user);
  // A busybox rootfs named by a digest of its content: the same image tag every run.
  const digest = createHash("sha256")
    .update(readFileSync("/bin/busybox"))
    .update(APPLETS.join())
    .digest("hex");
  rootfs = path.join(tmp, digest);
  await mkdir(path.join(rootfs, "bin"), { recursive: true });
  await copyFile("/bin/busybox", path.join(rootfs, "bin/busybox"));
  for (const a of APPLETS) await symlink("busybox", path.join(rootfs, "bin", a));
  for (const d of ["etc", "tmp", "proc", "dev", "sys", "usr"]) await mkdir(path.join(rootfs, d));
  execFileSync("chmod", ["-R", "a+rX", rootfs]);
});
after(async () => {
  if (!tmp) return;
  // Rootless podman leaves a pause process per runtime folder (it holds the user's namespace):
  // end the test user's, by pid (this file's runs started them), then remove the folders.
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
      const mine = statSync(`/proc/${pid}`).uid === user.uid;
      if (mine && env.some((v) => v.startsWith(`XDG_RUNTIME_DIR=${RUN_DIRS}`)))
        process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone, or not readable
    }
  }
  await rm(tmp, { recursive: true, force: true });
});

function script(a: Account, args: string[]): Record<string, unknown> {
  const r = runAs(a, runDir, [
    process.execPath,
    "--import",
    "tsx",
    "test/provisioners/fixtures/rootless-machine.ts",
    ...args,
  ]);
  const line = String(r.stdout).trim().split("\n").pop() ?? "";
  assert.ok(line.startsWith("{"), `no result (status ${r.status}): ${String(r.stderr).slice(0, 2000)}`);
  return JSON.parse(line) as Record<string, unknown>;
}

function ownedDir(a: Account, name: string): string {
  const d = path.join(tmp, name);
  execFileSync("mkdir", ["-m", "0700", d]);
  chownSync(d, a.uid, a.gid);
  return d;
}

void test(
  "rootless: steps, user namespace in the subordinate range, no network, relays, files, kill, cleanup",
  { skip: why },
  () => {
    const base = ownedDir(user, "base");
    const r = script(user, [rootfs, base]);
    assert.equal(r.error, undefined, String(r.error));
    assert.match(
      String(r.describe),
      /^podman \S+ rootless containers \(runc\) as airlock-rootless, a user namespace per machine/,
    );
    const warnings = r.warnings as string[];
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? "", /rootless podman as airlock-rootless \(not root\): no memory, CPU/);
    const first = r.first as { exitCode: number; stdout: string; stderr: string };
    assert.equal(first.exitCode, 3);
    assert.equal(first.stdout, "out\n1001\n1001\nro\n");
    assert.equal(first.stderr, "err\n");
    assert.equal(r.net, "lo\n"); // --network none: loopback only
    assert.match(String(r.caps), /CapEff:\s+0+\n/);
    assert.match(String(r.init), /airlock-exec --init/);
    assert.equal(r.services, "services-ok");
    assert.equal(r.hostWrite, "hello\n");
    assert.equal(r.jobWrite, "job\n");
    assert.equal(r.before, "1");
    assert.equal(r.after, "0");
    assert.equal(r.service, "0\n"); // the service runs as its root: a subordinate uid, like uid 0 above
    // Container uid 0 is a subordinate uid of the user's range (unprivileged, not the user's own);
    // the job's user (1001) and PID 1 are the user itself.
    const rows = String(r.uidMap)
      .trim()
      .split("\n")
      .map((l) => l.trim().split(/\s+/).map(Number));
    const zero = rows.find((x) => x[0] === 0);
    assert.ok(zero && (zero[1] ?? 0) >= 65536 && zero[1] !== user.uid, String(r.uidMap));
    const line =
      readFileSync("/etc/subuid", "utf8")
        .split("\n")
        .find((l) => l.startsWith(`${user.name}:`)) ?? "";
    const [, start = "0", count = "0"] = line.split(":");
    assert.ok((zero[1] ?? 0) >= Number(start) && (zero[1] ?? 0) < Number(start) + Number(count));
    assert.deepEqual(
      rows.find((x) => x[0] === 1001),
      [1001, user.uid, 1],
    );
    assert.equal(Number(r.initUid), user.uid);
    // Nothing left: no container of the machine, no folder of it.
    const storage = path.join(user.home, ".local/share/airlock/containers");
    const ps = runAs(user, "/", [
      "env",
      `XDG_RUNTIME_DIR=${RUN_DIRS}${user.uid}-${createHash("sha256").update(storage).digest("hex").slice(0, 12)}`,
      `CONTAINERS_CONF=${base}/containers.conf`,
      `CONTAINERS_STORAGE_CONF=${base}/storage.conf`,
      "podman",
      "--runtime",
      "runc",
      "--cgroup-manager",
      "cgroupfs",
      "ps",
      "--all",
      "--quiet",
      "--filter",
      `label=airlock.machine=${String(r.id)}`,
    ]);
    assert.equal(ps.status, 0, String(ps.stderr));
    assert.equal(String(ps.stdout).trim(), "");
    for (const d of readdirSync(base)) {
      if (/^\d+\.\d+$/.test(d)) assert.deepEqual(readdirSync(path.join(base, d)), []);
    }
  },
);

void test(
  "rootless: a user without a subordinate range gets one line naming what is missing",
  { skip: why },
  () => {
    const r = script(nobody, ["--describe", ownedDir(nobody, "nobody")]);
    assert.equal(r.code, "SANDBOX_UNAVAILABLE");
    const message = String(r.message);
    assert.doesNotMatch(message, /\n/);
    assert.match(message, /airlock-nosubids has no subordinate uids\/gids in \/etc\/subuid/);
  },
);

void test("rootless: missing podman or newuidmap/newgidmap is one line naming it", async () => {
  const { checkRootlessHost } = await import("../../src/provisioners/container/rootless.js");
  const found = (name: string): string | undefined => `/usr/bin/${name}`;
  const refusal = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      assert.equal((e as { code?: string }).code, "SANDBOX_UNAVAILABLE");
      assert.doesNotMatch((e as Error).message, /\n/);
      return (e as Error).message;
    }
    return assert.fail("no refusal");
  };
  assert.match(
    refusal(() => checkRootlessHost(undefined, found)),
    /podman is not installed/,
  );
  for (const b of ["newuidmap", "newgidmap"]) {
    const msg = refusal(() => checkRootlessHost("/usr/bin/podman", (n) => (n === b ? undefined : found(n))));
    assert.match(msg, new RegExp(`${b} is missing \\(install uidmap\\)`));
  }
  // Ranges are counted per file: one too small in either is a refusal; enough in both is a slot count.
  const dir = await mkdtemp(path.join(os.tmpdir(), "airlock-subid-"));
  const me = os.userInfo().username;
  const subuid = path.join(dir, "subuid");
  const subgid = path.join(dir, "subgid");
  writeFileSync(subuid, `other:100000:65536\n${me}:200000:65536\n${me}:400000:131072\n`);
  writeFileSync(subgid, `${me}:200000:1000\n`);
  assert.match(
    refusal(() => checkRootlessHost("/usr/bin/podman", found, { subuid, subgid })),
    new RegExp(`user ${me} has only 1000 subordinate uids/gids`),
  );
  writeFileSync(subgid, `${me}:200000:196608\n`);
  assert.equal(checkRootlessHost("/usr/bin/podman", found, { subuid, subgid }).slots, 3);
  await rm(dir, { recursive: true, force: true });
});
