// Behaviour of the bubblewrap sandbox provisioner, with real bubblewrap and airlock-exec.
import assert from "node:assert/strict";
import { buildTinyRootfs } from "../helpers/rootfs.js";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { AirlockError, ErrorCode, isAirlockError } from "../../src/errors/index.js";
import {
  HOST_ROOT,
  createSandboxProvisioner,
  type Machine,
  type MachineSpec,
} from "../../src/provisioners/index.js";
import { addMountPoints } from "../../src/images/index.js";
import { isMountRace } from "../../src/provisioners/sandbox/index.js";
import { identityFiles, mountable } from "../../src/provisioners/sandbox/identity.js";
import { hostHasProcessWith, hostPidOfInit, sh, waitFor } from "./helpers.js";

let baseDir: string;
let prov: ReturnType<typeof createSandboxProvisioner>;
const machines: Machine[] = [];

before(async () => {
  baseDir = await mkdtemp(path.join(os.tmpdir(), "airlock-sbx-test-"));
  prov = createSandboxProvisioner({ baseDir });
});
after(async () => {
  for (const m of machines) await m.destroy();
  await rm(baseDir, { recursive: true, force: true });
});

async function machine(spec: Partial<MachineSpec> = {}): Promise<Machine> {
  const m = await prov.create({ name: "t", root: HOST_ROOT, ...spec });
  machines.push(m);
  return m;
}

const escapes = (e: unknown) => isAirlockError(e, "MACHINE_PATH_ESCAPE");

void test("host filesystem is read-only, private folders are writable, no capabilities", async () => {
  const m = await machine();
  const r = await sh(
    m,
    "touch /usr/airlock-x 2>/dev/null && echo usr-writable; mount -o remount,rw / 2>/dev/null && echo remounted;" +
      "touch /usr/airlock-x 2>/dev/null && echo usr-writable; echo ok > /airlock/workspace/w; echo t > /airlock/temp/t;" +
      "cat /etc/shadow >/dev/null 2>&1 && echo shadow-readable; grep CapEff /proc/self/status; id -u",
  );
  assert.equal(r.exitCode, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /usr-writable|remounted|shadow-readable/);
  assert.match(r.stdout, /CapEff:\s+0+\n/);
  assert.equal(r.stdout.trim().split("\n").at(-1), "1001");
  assert.ok(!existsSync("/usr/airlock-x"));
  assert.equal((await m.readFile("/airlock/workspace/w"))?.toString(), "ok\n");
});

void test("actions folder is read-only inside; copyIn fills it", async () => {
  const m = await machine();
  const src = await mkdtemp(path.join(os.tmpdir(), "airlock-act-"));
  await mkdir(path.join(src, "sub"));
  await writeFile(path.join(src, "sub/action.yml"), "name: x\n");
  await m.copyIn(src, "/airlock/actions/owner/repo");
  await rm(src, { recursive: true });
  const r = await sh(
    m,
    "cat /airlock/actions/owner/repo/sub/action.yml; touch /airlock/actions/x 2>/dev/null || echo ro",
  );
  assert.equal(r.stdout, "name: x\nro\n");
  // copyIn onto the workspace itself replaces its contents, owned by the job's user.
  const ws = await mkdtemp(path.join(os.tmpdir(), "airlock-ws-"));
  await writeFile(path.join(ws, "README"), "v1");
  await sh(m, "echo old > /airlock/workspace/stale");
  await m.copyIn(ws, "/airlock/workspace");
  await rm(ws, { recursive: true });
  const w = await sh(m, "ls; echo v2 >> README && cat README");
  assert.equal(w.stdout, "README\nv1v2\n", w.stderr);
});

void test("workspaces are private per machine", async () => {
  const a = await machine();
  const b = await machine();
  await sh(a, "echo secret > /airlock/workspace/s");
  const r = await sh(b, "cat /airlock/workspace/s 2>/dev/null || echo absent; ls /tmp | wc -l");
  assert.equal(r.stdout, "absent\n0\n");
  assert.equal(await b.readFile("/airlock/workspace/s"), undefined);
});

void test("no network: only loopback, and the host's listeners are out of reach", async () => {
  const server = net.createServer((s) => s.end());
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const probe = `cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '; bash -c 'echo > /dev/tcp/127.0.0.1/${port}' 2>/dev/null && echo connected || echo refused`;
    const none = await sh(await machine(), probe);
    assert.equal(none.stdout, "lo\nrefused\n");
  } finally {
    server.close();
  }
});

void test("own PID namespace, uts and env; steps share the machine", async () => {
  const m = await machine();
  const cookie = `airlock-test-${randomBytes(6).toString("hex")}`;
  const first = await sh(m, `echo $$; hostname; echo "$X"; sleep 1000 & echo started`, {
    X: "y",
    COOKIE: cookie,
  });
  const [pid, host, x] = first.stdout.split("\n");
  assert.ok(Number(pid) < 10, `pid ${pid}`);
  assert.equal(host, "airlock");
  assert.equal(x, "y");
  const second = await sh(m, "ps -eo args | grep -c '^sleep 1000' ; ls /proc | grep -c '^[0-9]'");
  const [sleeps, procs] = second.stdout.trim().split("\n").map(Number);
  assert.equal(sleeps, 1);
  assert.ok((procs ?? 99) < 10, `saw ${procs} processes`);
  assert.ok(await hostHasProcessWith(cookie));
  await m.destroy();
  assert.ok(!(await hostHasProcessWith(cookie)), "processes left after destroy");
  await m.destroy();
  assert.ok(!existsSync(m.hostPath?.("/airlock/workspace") ?? "/nonexistent-x"));
});

void test("cwd outside the workspace and exit codes", async () => {
  const m = await machine();
  const h = m.exec({ argv: ["/bin/sh", "-c", "pwd; exit 7"], env: {}, cwd: "/airlock/temp" });
  const out: Buffer[] = [];
  h.stdout.on("data", (b: Buffer) => out.push(b));
  assert.deepEqual(await h.wait(), { exitCode: 7, signal: null });
  assert.equal(Buffer.concat(out).toString(), "/airlock/temp\n");
});

void test("kill() ends a step and everything it started", async () => {
  const m = await machine();
  const cookie = `airlock-test-${randomBytes(6).toString("hex")}`;
  const h = m.exec({
    argv: ["/bin/sh", "-c", "sleep 1000 & sleep 1000"],
    env: { PATH: "/usr/bin:/bin", COOKIE: cookie },
    cwd: m.paths.workspace,
  });
  await waitFor(() => hostHasProcessWith(cookie));
  h.kill();
  h.kill();
  assert.equal((await h.wait()).signal, "SIGKILL");
  await waitFor(async () => !(await hostHasProcessWith(cookie)));
  assert.equal((await sh(m, "echo alive")).stdout, "alive\n");
});

void test("readFile/writeFile never follow a symlink out of the machine", async () => {
  const m = await machine();
  await writeFile(path.join(baseDir, "outside"), "host secret");
  const r = await sh(
    m,
    `ln -s /etc/passwd /airlock/temp/env; ln -s / /airlock/temp/root; ln -s ${baseDir} /airlock/temp/base;` +
      "echo in > /airlock/workspace/f; ln -s /airlock/workspace/f /airlock/temp/inside; ln -s ../workspace /airlock/temp/ws",
  );
  assert.equal(r.exitCode, 0, r.stderr);
  await assert.rejects(m.readFile("/airlock/temp/env"), escapes);
  await assert.rejects(m.writeFile("/airlock/temp/env", "x"), escapes);
  await assert.rejects(m.readFile("/airlock/temp/root/etc/passwd"), escapes);
  await assert.rejects(m.readFile("/airlock/temp/base/outside"), escapes);
  await assert.rejects(m.writeFile("/airlock/temp/root/tmp/x", "x"), escapes);
  await assert.rejects(m.readFile("/airlock/temp/../../etc/passwd"), escapes);
  // Links that stay inside the machine are followed.
  assert.equal((await m.readFile("/airlock/temp/inside"))?.toString(), "in\n");
  assert.equal((await m.readFile("/airlock/temp/ws/f"))?.toString(), "in\n");
  await m.writeFile("/airlock/temp/ws/new/g", "g");
  assert.equal((await sh(m, "cat /airlock/workspace/new/g")).stdout, "g");
});

void test("image mode: a rootfs folder becomes / and the host is not visible", async () => {
  const rootfs = await mkdtemp(path.join(os.tmpdir(), "airlock-rootfs-"));
  try {
    await buildTinyRootfs(rootfs);
    await chmod(rootfs, 0o755); // the sandbox's host uid must be able to read the image
    const m = await machine({ root: { kind: "image", path: rootfs } });
    const r = await sh(
      m,
      "echo hi > /airlock/workspace/x; cat /airlock/workspace/x; test -f /etc/group && cat /etc/passwd",
    );
    // The image has no /etc: the only accounts are the generated job user's (identity.ts).
    assert.equal(r.stdout, "hi\nrunner:x:1001:1001:Airlock runner:/airlock/home:/bin/bash\n", r.stderr);
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
});

void test("create fails with SANDBOX_UNAVAILABLE when bwrap cannot run", async () => {
  const bad = createSandboxProvisioner({ baseDir, bwrapPath: "/bin/false" });
  await assert.rejects(bad.create({ name: "t", root: HOST_ROOT }), (e) =>
    isAirlockError(e, "SANDBOX_UNAVAILABLE"),
  );
  const missing = createSandboxProvisioner({ baseDir, bwrapPath: "/nonexistent/bwrap" });
  await assert.rejects(missing.create({ name: "t", root: HOST_ROOT }), (e) =>
    isAirlockError(e, "SANDBOX_UNAVAILABLE"),
  );
});

void test("a machine whose init was killed refuses exec with MACHINE_FAILED", async () => {
  const m = await machine();
  // PID 1 ignores SIGKILL from inside its namespace: kill it from the host, as a crash would.
  process.kill(await hostPidOfInit(m), "SIGKILL");
  const refused = () => {
    try {
      void m.exec({ argv: ["/bin/true"], env: {}, cwd: m.paths.workspace }).wait();
      return false;
    } catch (e) {
      return isAirlockError(e, "MACHINE_FAILED");
    }
  };
  await waitFor(() => Promise.resolve(refused()));
  await m.destroy();
});

const ACCOUNT_PROBE =
  'id -un; id -gn; whoami; getent passwd "$(id -u)"; getent group "$(id -g)"; getent passwd 0 | cut -d: -f1;' +
  'home=$(getent passwd "$(id -u)" | cut -d: -f6); touch "$home/probe" && echo home-writable';

void test("the job user is in passwd on the host root: runner, its home, /bin/bash; the host's /etc untouched", async () => {
  const before = await readFile("/etc/passwd", "utf8");
  const m = await machine();
  const r = await sh(m, ACCOUNT_PROBE);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), [
    "runner",
    "runner",
    "runner",
    `runner:x:1001:1001:Airlock runner:${m.paths.home}:/bin/bash`,
    "runner:x:1001:",
    "root",
    "home-writable",
  ]);
  assert.equal(await readFile("/etc/passwd", "utf8"), before);
  // Read-only: the job cannot rename itself or add accounts.
  const w = await sh(m, "echo 'x:x:0:0::/:/bin/sh' >> /etc/passwd 2>/dev/null || echo refused");
  assert.equal(w.stdout, "refused\n");
});

void test("image mode: an image's own user with the runner's uid is replaced, its other entries kept, the image unchanged", async () => {
  const rootfs = await mkdtemp(path.join(os.tmpdir(), "airlock-rootfs-"));
  try {
    await buildTinyRootfs(rootfs, [
      "/bin/sh",
      "/usr/bin/cut",
      "/usr/bin/id",
      "/usr/bin/getent",
      "/usr/bin/whoami",
      "/usr/bin/touch",
    ]);
    await mkdir(path.join(rootfs, "etc"));
    await mkdir(path.join(rootfs, "home/runner"), { recursive: true });
    const passwd = "root:x:0:0:root:/root:/bin/sh\nubuntu:x:1001:1001::/home/ubuntu:/bin/sh\n";
    const group = "root:x:0:\nubuntu:x:1001:\n";
    await writeFile(path.join(rootfs, "etc/passwd"), passwd);
    await writeFile(path.join(rootfs, "etc/group"), group);
    addMountPoints(rootfs); // one read-only bind of the whole rootfs: files are bound over its own
    await chmod(rootfs, 0o755);
    const m = await machine({ root: { kind: "image", path: rootfs } });
    assert.equal(m.paths.home, "/home/runner");
    const r = await sh(m, `${ACCOUNT_PROBE}; getent passwd ubuntu || echo no-ubuntu`);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), [
      "runner",
      "runner",
      "runner",
      "runner:x:1001:1001:Airlock runner:/home/runner:/bin/bash",
      "runner:x:1001:",
      "root",
      "home-writable",
      "no-ubuntu",
    ]);
    assert.equal(await readFile(path.join(rootfs, "etc/passwd"), "utf8"), passwd);
    assert.equal(await readFile(path.join(rootfs, "etc/group"), "utf8"), group);
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
});

void test("account files: a symlinked passwd in an image is not followed, the runner entry alone is used", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "airlock-ident-"));
  try {
    const root = path.join(dir, "root");
    await mkdir(path.join(root, "etc"), { recursive: true });
    await symlink("/etc/passwd", path.join(root, "etc/passwd"));
    await writeFile(path.join(root, "etc/group"), "g:x:5:\n");
    const files = identityFiles(path.join(dir, "out"), root, false, 1001, 1001, "/airlock/home");
    assert.equal(files.mount, "none"); // nothing to bind over without following the link
    assert.equal(
      await readFile(files.passwd, "utf8"),
      "runner:x:1001:1001:Airlock runner:/airlock/home:/bin/bash\n",
    );
    assert.equal(await readFile(files.group, "utf8"), "g:x:5:\nrunner:x:1001:\n");
    assert.equal(mountable(path.join(dir, "none"), false), "create");
    assert.equal(mountable(path.join(dir, "none"), true), "none");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a host-root start that lost a race with a container's overlay mount is recognised (and retried)", () => {
  // bwrap's words when a submount of /var (podman's overlay) went away while it remounted it.
  const raced = new AirlockError(
    ErrorCode.MACHINE_FAILED,
    'bubblewrap sandbox could not start: bwrap: Can\'t bind mount /oldroot/var on /newroot/var: Unable to apply mount flags: remount "/newroot/var/lib/containers/storage/overlay/ed95/merged": Invalid argument',
  );
  assert.equal(isMountRace(raced), true);
  // Any other failure is not retried.
  assert.equal(
    isMountRace(new AirlockError(ErrorCode.MACHINE_FAILED, "bubblewrap sandbox could not start: timed out")),
    false,
  );
  assert.equal(isMountRace(new AirlockError(ErrorCode.SANDBOX_UNAVAILABLE, raced.message)), false);
  assert.equal(isMountRace(new Error(raced.message)), false);
});
