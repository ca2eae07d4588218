// The VM provisioner with real QEMU (KVM when it works here, else TCG) on the debian-12 image.
// Slow (a guest boot is seconds under TCG): runs only with AIRLOCK_VM_TESTS=1 (scripts/test-vm.sh).
// One machine carries most checks; a second create is refused before anything boots.
import assert from "node:assert/strict";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  mkdirSync,
  utimesSync,
} from "node:fs";
import { spawn } from "node:child_process";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { loadOptions } from "../../src/config/index.js";
import { DEFAULT_IMAGE, ImageStore } from "../../src/images/index.js";
import { createVmProvisioner, describeVm, HOST_ROOT, type Machine } from "../../src/provisioners/index.js";
import { GRACE_MS } from "../../src/provisioners/vm/cache.js";
import { SANDBOX } from "../../src/provisioners/vm/qemu.js";
import { BASE_ENV, hostHasProcessWith, sh } from "./helpers.js";

const enabled = process.env.AIRLOCK_VM_TESTS === "1";
const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "vm-orphan.ts");
const image = enabled ? new ImageStore(loadOptions().imagesDir).resolve(DEFAULT_IMAGE) : undefined;
const skip = !enabled
  ? "VM tests run with AIRLOCK_VM_TESTS=1 (scripts/test-vm.sh)"
  : !image
    ? `no ${DEFAULT_IMAGE} image: run airlock image build ${DEFAULT_IMAGE}`
    : false;

/** Host pid of the QEMU process of machine `id` (its folder is in QEMU's argv). */
function qemuPid(id: string): number {
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmd.startsWith("/usr/bin/qemu-system") && cmd.includes(id)) return Number(pid);
    } catch {
      // gone
    }
  }
  throw new Error(`no QEMU process for ${id}`);
}

/** An HTTP server on a unix socket answering `name path`. */
function unixHttp(sock: string, name: string): Promise<http.Server> {
  const s = http.createServer((req, res) => res.end(`${name} ${req.url ?? ""}`));
  return new Promise((res) => s.listen(sock, () => res(s)));
}

describe("vm provisioner", { skip, concurrency: 1 }, () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "airlock-vm-test-"));
  const baseDir = path.join(tmp, "machines");
  const prov = createVmProvisioner({ baseDir });
  const servers: http.Server[] = [];
  let m: Machine;
  let bootMs = 0;
  // A stale initramfs build (no agent's current one, unused for longer than the grace period).
  const stale = image
    ? path.join(path.dirname(path.dirname(image.rootfs)), "vm", "initramfs-00000000deadbeef.cpio")
    : "";

  before(async () => {
    servers.push(await unixHttp(path.join(tmp, "proxy.sock"), "proxy"));
    servers.push(await unixHttp(path.join(tmp, "services.sock"), "services"));
    mkdirSync(path.dirname(stale), { recursive: true });
    writeFileSync(stale, "old");
    const old = new Date(Date.now() - GRACE_MS - 60_000);
    utimesSync(stale, old, old);
    const t0 = performance.now();
    m = await prov.create({
      name: "vm-test",
      root: { kind: "image", path: image!.rootfs },
      limits: { memoryMb: 512, cpus: 2, pids: 64, nofile: 256, diskMb: 300 },
      egress: { allow: [], proxySocket: path.join(tmp, "proxy.sock") },
      services: { socket: path.join(tmp, "services.sock") },
    });
    bootMs = performance.now() - t0;
  });
  after(async () => {
    await m?.destroy();
    await prov.close?.();
    for (const s of servers) s.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("says how it boots here (KVM or TCG) in one line", async (t) => {
    const line = await describeVm();
    t.diagnostic(`${line}; first machine ready in ${Math.round(bootMs)} ms`);
    assert.match(line, /^vm: (KVM|TCG)/);
    // The same line goes into the node's report (Provisioner.describe, without the prefix).
    assert.equal(await prov.describe?.(), line.replace(/^vm: /, ""));
  });

  it("runs a command: output, exit code, exactly the given environment and folder, as the job user", async () => {
    assert.ok(await hostHasProcessWith(m.id), "QEMU runs while the machine lives");
    const r = await sh(m, 'echo "out $FOO"; echo err >&2; id -u; pwd; env | sort | tr "\\n" " "; exit 7', {
      FOO: "bar",
    });
    assert.equal(r.exitCode, 7);
    assert.equal(r.signal, null);
    assert.equal(r.stderr, "err\n");
    const [first, uid, cwd, env] = r.stdout.split("\n");
    assert.equal(first, "out bar");
    assert.equal(uid, "1001");
    assert.equal(cwd, m.paths.workspace);
    assert.doesNotMatch(env ?? "", /AIRLOCK|HOME=|NODE/);
    const other = m.exec({ argv: ["pwd"], env: BASE_ENV, cwd: m.paths.temp });
    let out = "";
    other.stdout.on("data", (b: Buffer) => (out += b.toString()));
    assert.deepEqual(await other.wait(), { exitCode: 0, signal: null });
    assert.equal(out, `${m.paths.temp}\n`);
    const missing = await sh(m, "exec /no/such/binary");
    assert.equal(missing.exitCode, 127);
  });

  it("reads and writes files, copies folders in, refuses a file over maxBytes; no host path", async () => {
    assert.ok(!("hostPath" in m), "no host path behind a VM's files");
    await m.writeFile(`${m.paths.temp}/a/b/c.txt`, "hello");
    assert.equal((await m.readFile(`${m.paths.temp}/a/b/c.txt`))?.toString(), "hello");
    assert.equal(await m.readFile(`${m.paths.temp}/absent`), undefined);
    await assert.rejects(m.readFile(`${m.paths.temp}/a/b/c.txt`, { maxBytes: 3 }), {
      code: "MACHINE_FILE_TOO_LARGE",
    });
    const big = Buffer.alloc(200_000, 7);
    await m.writeFile(`${m.paths.workspace}/big.bin`, big);
    assert.ok((await m.readFile(`${m.paths.workspace}/big.bin`))?.equals(big));
    const src = path.join(tmp, "action");
    mkdirSync(path.join(src, "dist"), { recursive: true });
    writeFileSync(path.join(src, "dist", "index.js"), "console.log(process.version)\n");
    writeFileSync(path.join(src, "run.sh"), "#!/bin/sh\necho ran\n", { mode: 0o755 });
    symlinkSync("dist/index.js", path.join(src, "main.js"));
    await m.copyIn(src, `${m.paths.actions}/a`);
    const r = await sh(m, `cd ${m.paths.actions}/a && ./run.sh && readlink main.js && id -u -n < /dev/null`);
    assert.equal(r.stdout, "ran\ndist/index.js\nrunner\n");
    // JavaScript actions: the host's node, inside the guest.
    const n = m.exec({ argv: [m.nodePath, `${m.paths.actions}/a/main.js`], env: BASE_ENV, cwd: "/" });
    let v = "";
    n.stdout.on("data", (b: Buffer) => (v += b.toString()));
    assert.equal((await n.wait()).exitCode, 0);
    assert.equal(v.trim(), process.version);
    // Outside the job user's folders nothing is writable.
    await assert.rejects(m.writeFile("/etc/evil", "x"), { code: "MACHINE_FAILED" });
  });

  it("the actions folder is read-only for the job, writable by copyIn", async () => {
    await m.writeFile(`${m.paths.actions}/x/action.yml`, "name: x\n");
    const r = await sh(m, `cat ${m.paths.actions}/x/action.yml; touch ${m.paths.actions}/x/evil`);
    assert.match(r.stdout, /name: x/);
    assert.match(r.stderr, /Read-only file system/);
    assert.notEqual(r.exitCode, 0);
  });

  it("a job sees only its own processes", async () => {
    const r = await sh(m, "ls /proc | grep -c '^[0-9]'");
    assert.ok(Number(r.stdout) <= 4, `${r.stdout.trim()} processes visible`);
  });

  it("kill() ends a command and everything it started", async () => {
    const h = m.exec({
      argv: ["/bin/sh", "-c", "setsid sleep 1001 & sleep 1002 & echo started; wait"],
      env: BASE_ENV,
      cwd: "/",
    });
    await new Promise<void>((res) => h.stdout.once("data", () => res()));
    h.kill();
    const r = await h.wait();
    assert.equal(r.signal, "SIGKILL");
    const ps = await sh(m, "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '");
    assert.doesNotMatch(ps.stdout, /sleep 100[12]/);
  });

  it("limits: memory is the guest's RAM, cpus its vCPUs, open files, processes and disk inside", async () => {
    const r = await sh(
      m,
      "grep MemTotal /proc/meminfo | tr -s ' ' | cut -d' ' -f2; nproc; ulimit -n; df -m --output=size . | tail -1",
    );
    const [memKb, cpus, nofile, diskMb] = r.stdout.trim().split("\n").map(Number);
    // Guest RAM = the limit + 256 MiB for the guest kernel (GUEST_KERNEL_MB).
    assert.ok(memKb! > 640 * 1024 && memKb! <= 768 * 1024, `MemTotal ${memKb} kB`);
    assert.equal(cpus, 2);
    assert.equal(nofile, 256);
    assert.ok(diskMb! > 200 && diskMb! <= 300, `disk ${diskMb} MiB`);
  });

  it("has no network device but loopback; egress and job services reach their host sockets", async () => {
    const r = await sh(
      m,
      "ls /sys/class/net; curl -s http://127.0.0.1:3129/token; echo; curl -s http://127.0.0.1:3128/x",
    );
    assert.equal(r.stdout, "lo\nservices /token\nproxy /x");
    assert.equal(m.servicesUrl, "http://127.0.0.1:3129");
    assert.equal(m.env?.HTTPS_PROXY, "http://127.0.0.1:3128");
  });

  it("the first machine pruned the disk cache of what no one uses", () => {
    assert.equal(existsSync(stale), false);
  });

  it("QEMU runs under its seccomp sandbox", () => {
    const pid = qemuPid(m.id);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    assert.match(status, /^Seccomp:\s+2$/m, "seccomp filter mode");
    assert.ok(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(SANDBOX));
  });

  it("refuses the host's root and job containers before booting anything", async () => {
    await assert.rejects(prov.create({ name: "x", root: HOST_ROOT }), { code: "MACHINE_UNSUPPORTED" });
  });

  it("a limit hit is reported in one line and kills the machine", async () => {
    // More processes than pids allows: the fork fails; kill() then takes every one of them down.
    const bomb = m.exec({
      argv: ["/bin/sh", "-c", "(for i in $(seq 80); do sleep 30 & done) 2>&1; echo rc=$?; exec sleep 1000"],
      env: BASE_ENV,
      cwd: "/",
    });
    let said = "";
    await new Promise<void>((res) =>
      bomb.stdout.on("data", (b: Buffer) => {
        said += b.toString();
        if (said.includes("rc=")) res();
      }),
    );
    bomb.kill();
    await bomb.wait();
    assert.match(said, /fork|Resource temporarily unavailable/i);
    assert.doesNotMatch(said, /rc=0/);
    assert.equal(await m.limitExceeded?.(), "process limit 64 exceeded");
    assert.equal(await m.limitExceeded?.(), "process limit 64 exceeded");
    assert.throws(() => m.exec({ argv: ["true"], env: {}, cwd: "/" }), /process limit 64 exceeded/);
  });

  it("a VM whose agent dies powers itself off", async () => {
    const dir = path.join(tmp, "orphans");
    const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, dir, image!.rootfs], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const id = await new Promise<string>((res, rej) => {
      let out = "";
      child.stdout.on("data", (b: Buffer) => {
        out += b.toString();
        if (out.includes("\n")) res(out.trim());
      });
      child.once("exit", (code) => rej(new Error(`child exited ${code}`)));
    });
    assert.ok(await hostHasProcessWith(id), "QEMU runs while its agent lives");
    child.kill("SIGKILL");
    // Safety net only: the guest sees the port close at once and powers off.
    for (let i = 0; i < 600 && (await hostHasProcessWith(id)); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(await hostHasProcessWith(id), false, "QEMU outlived its agent");
  });

  it("destroy() leaves no process and no file, and is idempotent", async () => {
    const id = m.id;
    await Promise.all([m.destroy(), m.destroy()]);
    await m.destroy();
    assert.equal(await hostHasProcessWith(id), false);
    assert.equal(existsSync(path.join(baseDir, id)), false);
    assert.deepEqual(readdirSync(baseDir), []);
    assert.throws(() => m.exec({ argv: ["true"], env: {}, cwd: "/" }), { code: "MACHINE_FAILED" });
  });
});
