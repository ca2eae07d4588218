// Behaviour of the container provisioner, with real rootful podman, runc and the debian-12 job
// image (imported into podman once; a tiny rootfs for the import-once test). One machine serves
// every test that does not kill it; the limit tests get their own.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { loadOptions } from "../../src/config/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import { ImageStore } from "../../src/images/index.js";
import {
  HOST_ROOT,
  createContainerProvisioner,
  type Machine,
  type MachineSpec,
  type Provisioner,
} from "../../src/provisioners/index.js";
import { buildTinyRootfs } from "../helpers/rootfs.js";
import { hostHasProcessWith, sh, waitFor } from "./helpers.js";

const podman = (...args: string[]): string =>
  execFileSync("podman", ["--runtime", "runc", "--cgroup-manager", "cgroupfs", ...args], {
    encoding: "utf8",
    env: { ...process.env, CONTAINERS_CONF: path.join(baseDir, "containers.conf") },
  });
const containersOf = (id: string): string =>
  podman("ps", "--all", "--quiet", "--filter", `label=airlock.machine=${id}`).trim();

let baseDir: string;
let rootfs: string;
let prov: Provisioner;
let m: Machine;
const machines: Machine[] = [];
const imports: number[] = [];

function image(): string {
  const img = new ImageStore(loadOptions().imagesDir).resolve("debian-12");
  if (!img) throw new Error("no debian-12 image: run airlock image build debian-12");
  return img.rootfs;
}

async function machine(spec: Partial<MachineSpec> = {}): Promise<Machine> {
  const made = await prov.create({ name: "t", root: { kind: "image", path: rootfs }, ...spec });
  machines.push(made);
  return made;
}

before(async () => {
  baseDir = await mkdtemp(path.join(os.tmpdir(), "airlock-ctr-test-"));
  rootfs = image();
  prov = createContainerProvisioner({ baseDir, diskPool: { warm: 0 }, onImport: (ms) => imports.push(ms) });
  m = await machine({ limits: { nofile: 512, tmpMb: 8, diskMb: 64 } });
});
after(async () => {
  for (const x of machines) await x.destroy();
  await prov.close?.();
  await rm(baseDir, { recursive: true, force: true });
});

void test("exec: output, exit codes, job user, read-only image, no capabilities, node", async () => {
  // What the node reports about this provisioner.
  assert.match(
    (await prov.describe?.()) ?? "",
    /^podman \d+\.\d+\S* containers \(runc\), a user namespace per machine/,
  );
  const r = await sh(
    m,
    "echo out; echo err >&2; id -u; grep CapEff /proc/self/status; touch /usr/x 2>/dev/null && echo usr-writable;" +
      "echo w > /airlock/workspace/w; echo t > /tmp/t && echo tmp-ok; awk 'NR==1{print $2}' /proc/self/uid_map; exit 3",
  );
  assert.equal(r.exitCode, 3);
  assert.equal(r.stderr, "err\n");
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines[0], "out");
  assert.equal(lines[1], "1001");
  assert.match(r.stdout, /CapEff:\s+0+\n/);
  assert.doesNotMatch(r.stdout, /usr-writable/);
  assert.match(r.stdout, /tmp-ok/);
  // uid 0 inside is an unprivileged host uid (the machine's own range)
  assert.ok(Number(lines.at(-1)) >= 1 << 30, r.stdout);
  assert.equal((await m.readFile("/airlock/workspace/w"))?.toString(), "w\n");
  const node = await sh(m, `${m.nodePath} -e 'console.log(1 + 1)'`);
  assert.equal(node.stdout, "2\n", node.stderr);
  assert.equal(m.paths.home, "/home/runner");
  assert.equal((await sh(m, "whoami; echo $HOME", { HOME: m.paths.home })).stdout, "runner\n/home/runner\n");
});

void test("limits: open files, /tmp size, disk size", async () => {
  // A machine of its own: a full disk may (rightly) get the machine killed by the limit watcher.
  const own = await machine({ limits: { nofile: 512, tmpMb: 8, diskMb: 64 } });
  const r = await sh(
    own,
    "ulimit -n; dd if=/dev/zero of=/tmp/big bs=1M count=32 2>/dev/null || echo tmp-full; rm -f /tmp/big",
  );
  assert.equal(r.stdout, "512\ntmp-full\n", r.stderr);
  // The disk: the write fails with ENOSPC, and the watcher may also have ended the machine for it
  // (whichever it sees first); either way the limit held and nothing else is said.
  const d = await sh(
    own,
    "dd if=/dev/zero of=/airlock/workspace/big bs=1M count=128 2>/dev/null || echo disk-full",
  ).catch((e: unknown) => e as Error);
  const over = await own.limitExceeded?.();
  if (over !== undefined) assert.equal(over, "disk limit 64 MiB exceeded");
  else assert.equal(d instanceof Error ? d.message : d.stdout, "disk-full\n");
});

void test("no network but loopback; egress through the relay", async () => {
  const r = await sh(m, "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '");
  assert.equal(r.stdout, "lo\n");
  const canary = randomBytes(8).toString("hex");
  const socket = path.join(baseDir, "proxy.sock");
  const server = net.createServer((c) => {
    c.once("data", () => c.end(`HTTP/1.0 200 OK\r\nContent-Length: ${canary.length}\r\n\r\n${canary}`));
  });
  await new Promise<void>((res) => server.listen(socket, res));
  try {
    const e = await machine({ egress: { allow: ["example.com"], proxySocket: socket } });
    const out = await sh(e, "curl -s --max-time 20 http://example.com/", { ...e.env });
    assert.equal(out.stdout, canary, out.stderr);
    const direct = await sh(e, "curl -s --max-time 5 --noproxy '*' http://93.184.216.34/ || echo refused");
    assert.match(direct.stdout, /refused/);
    // A Dockerfile's RUN steps go out through the same relay (and nowhere else).
    const base = execFileSync(
      "podman",
      [
        "--runtime",
        "runc",
        "--cgroup-manager",
        "cgroupfs",
        "inspect",
        "--format",
        "{{.ImageName}}",
        `airlock-${e.id}`,
      ],
      { encoding: "utf8", env: { ...process.env, CONTAINERS_CONF: path.join(baseDir, "containers.conf") } },
    ).trim();
    const ctx = path.join(baseDir, "egress-build");
    await mkdir(ctx, { recursive: true });
    await writeFile(
      path.join(ctx, "Dockerfile"),
      `FROM ${base}\nRUN curl -s --max-time 20 http://example.com/ > /tmp/got && ` +
        `(curl -s --max-time 5 --noproxy '*' http://93.184.216.34/ || echo refused) >> /tmp/got\n`,
    );
    const built = await e.containers!.build({ contextDir: ctx, dockerfile: "Dockerfile", tag: "egress" });
    const run = e.containers!.run({
      image: built,
      entrypoint: "cat",
      args: ["/tmp/got"],
      env: {},
      workdir: "/",
    });
    let got = "";
    run.stdout.on("data", (b: Buffer) => (got += b.toString()));
    assert.equal((await run.wait()).exitCode, 0);
    assert.equal(got, `${canary}refused\n`);
    await e.destroy();
  } finally {
    server.close();
  }
});

void test("files: write, read, copyIn, symlinks out refused", async () => {
  await m.writeFile("/airlock/temp/a/b.txt", "hello");
  assert.equal(
    (await sh(m, "cat /airlock/temp/a/b.txt; stat -c %u /airlock/temp/a/b.txt")).stdout,
    "hello1001\n",
  );
  const src = path.join(baseDir, "src");
  await mkdir(src);
  await writeFile(path.join(src, "action.yml"), "name: x\n");
  await m.copyIn(src, "/airlock/actions/x");
  assert.equal(
    (await sh(m, "cat /airlock/actions/x/action.yml; touch /airlock/actions/y 2>/dev/null || echo ro"))
      .stdout,
    "name: x\nro\n",
  );
  await sh(m, "ln -s /etc /airlock/workspace/out");
  await assert.rejects(m.writeFile("/airlock/workspace/out/passwd", "x"), (e) =>
    isAirlockError(e, "MACHINE_PATH_ESCAPE"),
  );
  const host = m.hostPath?.("/airlock/workspace/w");
  assert.ok(host && existsSync(host));
  assert.equal(await m.readFile("/airlock/workspace/missing"), undefined);
});

void test("kill() kills the step's whole process tree", async () => {
  const cookie = `c${randomBytes(8).toString("hex")}`;
  const h = m.exec({
    argv: ["sh", "-c", "sleep 1000 & (sleep 1000 & wait) & echo up; wait"],
    env: { PATH: "/usr/bin:/bin", COOKIE: cookie },
    cwd: "/",
  });
  await new Promise((res) => h.stdout.once("data", res));
  assert.ok(await hostHasProcessWith(cookie));
  h.kill();
  const r = await h.wait();
  assert.equal(r.signal, "SIGKILL");
  await waitFor(async () => !(await hostHasProcessWith(cookie)));
});

void test("memory limit: the machine is killed and says why", async () => {
  const x = await machine({ limits: { memoryMb: 64 } });
  const r = await sh(x, "python3 -c 'b = bytearray(256 << 20); print(len(b))'");
  assert.notEqual(r.exitCode, 0);
  assert.equal(await x.limitExceeded?.(), "memory limit 64 MiB exceeded");
  assert.throws(
    () => x.exec({ argv: ["true"], env: {}, cwd: "/" }),
    (e) => isAirlockError(e, "MACHINE_FAILED"),
  );
  await x.destroy();
});

void test("process limit: a fork bomb is stopped", async () => {
  const x = await machine({ limits: { pids: 32 } });
  const r = await sh(x, "for i in $(seq 1 64); do sleep 60 & done; wait");
  assert.notEqual(r.exitCode, 0);
  assert.equal(await x.limitExceeded?.(), "process limit 32 exceeded");
  await x.destroy();
});

void test("destroy removes the container, its volumes and folders; idempotent", async () => {
  // An open-files limit above what runc may set in a user namespace: the machine still starts, and
  // steps get it (capped, as in the sandbox, where the agent may not raise its own hard limit).
  const x = await machine({ limits: { nofile: 100_000 } });
  const hard = (await readFile("/proc/self/limits", "utf8")).match(/^Max open files\s+\S+\s+(\d+)/m)?.[1];
  const canRaise = (await readFile("/proc/self/status", "utf8")).match(/^CapEff:\s+(\S+)/m)?.[1];
  const expected =
    canRaise && (BigInt(`0x${canRaise}`) & (1n << 24n)) !== 0n ? 100_000 : Math.min(100_000, Number(hard));
  assert.equal((await sh(x, "ulimit -n")).stdout, `${expected}\n`);
  assert.notEqual(containersOf(x.id), "");
  const host = x.hostPath?.("/airlock/workspace");
  assert.ok(host && existsSync(host));
  const t0 = Date.now();
  await x.destroy();
  const ms = Date.now() - t0;
  await x.destroy();
  assert.equal(containersOf(x.id), "");
  assert.equal(podman("volume", "ls", "--quiet", "--filter", `label=airlock.machine=${x.id}`).trim(), "");
  assert.ok(!existsSync(host));
  console.log(`# destroy: ${ms} ms`);
});

void test("refusals: host root, a job container image not in local storage", async () => {
  await assert.rejects(prov.create({ name: "t", root: HOST_ROOT }), (e) =>
    isAirlockError(e, "MACHINE_UNSUPPORTED"),
  );
  await assert.rejects(
    machine({
      jobContainer: { image: "localhost/airlock-test/missing:1", env: {}, options: [], volumes: [] },
    }),
    (e: Error) =>
      isAirlockError(e, "MACHINE_FAILED") &&
      /not in this node's local podman storage/.test(e.message) &&
      !e.message.includes("\n"),
  );
});

void test("job container: the image from local storage replaces the root; env and volumes", async () => {
  const tag = `localhost/airlock-test/job:${randomBytes(4).toString("hex")}`;
  podman("tag", machineImage() ?? "", tag);
  try {
    const volumes = [
      { source: "cache", target: "/cache", readOnly: false },
      { source: "/airlock/workspace/sub", target: "/sub", readOnly: false },
    ];
    const x = await machine({
      jobContainer: { image: tag, env: { GREETING: "hi there" }, options: ["--env", "B=2"], volumes },
    });
    const r = await sh(
      x,
      "cat /proc/1/environ | tr '\\0' '\\n' | grep -E '^(GREETING|B)=' | sort; touch /sub/y && echo sub-ok; ls -ld /cache >/dev/null && echo cache-ok",
    );
    assert.equal(r.stdout, "B=2\nGREETING=hi there\nsub-ok\ncache-ok\n", r.stderr);
    assert.ok(existsSync(x.hostPath?.("/airlock/workspace/sub/y") ?? ""));
    const vol = `label=airlock.machine=${x.id}`;
    assert.equal(podman("volume", "ls", "--quiet", "--filter", vol).trim(), `airlock-${x.id}-cache`);
    await x.destroy();
    assert.equal(podman("volume", "ls", "--quiet", "--filter", vol).trim(), "");
    const outside = [{ source: "/etc", target: "/etc2", readOnly: true }];
    await assert.rejects(
      machine({ jobContainer: { image: tag, env: {}, options: [], volumes: outside } }),
      (e) => isAirlockError(e, "CONTAINER_OPTION_REFUSED"),
    );
  } finally {
    podman("rmi", tag);
  }
});

function machineImage(): string | undefined {
  const name = podman("inspect", "--format", "{{.ImageName}}", `airlock-${m.id}`).trim();
  return name || undefined;
}

void test("two concurrent creates import a new rootfs once; a leftover of a dead agent is swept", async () => {
  const tiny = path.join(baseDir, `tiny-${randomBytes(4).toString("hex")}`);
  await buildTinyRootfs(tiny);
  const before = imports.length;
  const [a, b] = await Promise.all([
    machine({ root: { kind: "image", path: tiny } }),
    machine({ root: { kind: "image", path: tiny } }),
  ]);
  assert.equal(imports.length - before, 1);
  assert.equal((await sh(a, "echo a")).stdout, "a\n");
  assert.equal((await sh(b, "echo b")).stdout, "b\n");
  const ref = podman("inspect", "--format", "{{.ImageName}}", `airlock-${a.id}`).trim();
  await a.destroy();
  await b.destroy();
  // A container left by an agent that is gone (its owner label names no live process).
  const leftover = `airlock-test-leftover-${randomBytes(4).toString("hex")}`;
  podman(
    "create",
    "--name",
    leftover,
    "--label",
    "airlock.machine=ctr-dead",
    "--label",
    "airlock.owner=999999999.1",
    ref,
    "/bin/sh",
  );
  const again = createContainerProvisioner({ baseDir, diskPool: { warm: 0 } });
  const c = await again.create({ name: "t", root: { kind: "image", path: tiny } });
  assert.equal(podman("ps", "--all", "--quiet", "--filter", `name=${leftover}`).trim(), "");
  await c.destroy();
  await again.close?.();
  podman("rmi", ref);
});

void test("time from create() to a step's first output (median of 5)", async () => {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    const x = await machine();
    const h = x.exec({ argv: ["echo", "x"], env: { PATH: "/usr/bin:/bin" }, cwd: "/" });
    await new Promise((res) => h.stdout.once("data", res));
    times.push(Date.now() - t0);
    await h.wait();
    await x.destroy();
  }
  times.sort((p, q) => p - q);
  console.log(
    `# create→first output: median ${times[2]} ms (${times.join(", ")}); imports: ${imports.join(", ") || "none (cached)"} ms`,
  );
  assert.equal(times.length, 5);
});
