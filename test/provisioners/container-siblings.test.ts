// Sibling containers of a container machine (Machine.containers): a service reachable by name on
// loopback, a Dockerfile built from a host folder with no network, a one-shot run with the
// workspace and temp parts mounted as GitHub mounts them, killable; all gone after destroy().
// Real podman; images come from the debian-12 job image (imported once) and a build on top of it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { loadOptions } from "../../src/config/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import { ImageStore } from "../../src/images/index.js";
import {
  createContainerProvisioner,
  type ExecHandle,
  type Machine,
  type MachineContainers,
  type Provisioner,
} from "../../src/provisioners/index.js";
import { hostHasProcessWith, sh, waitFor } from "./helpers.js";

let baseDir: string;
let prov: Provisioner;
let m: Machine;
let c: MachineContainers;
let base: string;
let svcImage: string;

const podman = (...args: string[]): string =>
  execFileSync("podman", ["--runtime", "runc", "--cgroup-manager", "cgroupfs", ...args], {
    encoding: "utf8",
    env: { ...process.env, CONTAINERS_CONF: path.join(baseDir, "containers.conf") },
  });

async function collect(h: ExecHandle): Promise<{ code: number | null; out: string; err: string }> {
  let out = "";
  let err = "";
  h.stdout.on("data", (b: Buffer) => (out += b.toString()));
  h.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const r = await h.wait();
  return { code: r.exitCode, out, err };
}

before(async () => {
  baseDir = await mkdtemp(path.join(os.tmpdir(), "airlock-ctr-sib-"));
  const img = new ImageStore(loadOptions().imagesDir).resolve("debian-12");
  if (!img) throw new Error("no debian-12 image: run airlock image build debian-12");
  prov = createContainerProvisioner({ baseDir, diskPool: { warm: 0 } });
  m = await prov.create({ name: "t", root: { kind: "image", path: img.rootfs } });
  if (!m.containers) throw new Error("a container machine has sibling containers");
  c = m.containers;
  base = podman("inspect", "--format", "{{.ImageName}}", `airlock-${m.id}`).trim();
  // The service image: an HTTP server on loopback with a health check that passes once it listens.
  const ctx = path.join(baseDir, "svc");
  await rm(ctx, { recursive: true, force: true });
  execFileSync("mkdir", ["-p", ctx]);
  await writeFile(
    path.join(ctx, "Dockerfile"),
    [
      `FROM ${base}`,
      "RUN mkdir -p /srv && echo service-page > /srv/index.html",
      'HEALTHCHECK --interval=1s CMD ["curl", "-sf", "http://127.0.0.1:8080/"]',
      'CMD ["python3", "-m", "http.server", "8080", "--bind", "127.0.0.1", "--directory", "/srv"]',
      "",
    ].join("\n"),
  );
  svcImage = await c.build({ contextDir: ctx, dockerfile: "Dockerfile", tag: "svc" });
});
after(async () => {
  await m?.destroy();
  await prov?.close?.();
  await rm(baseDir, { recursive: true, force: true });
});

void test("build: a Dockerfile from a host folder, no registry, no network", async () => {
  assert.match(svcImage, /^localhost\/airlock\/build:/);
  const ctx = path.join(baseDir, "nonet");
  execFileSync("mkdir", ["-p", ctx]);
  await writeFile(
    path.join(ctx, "Dockerfile"),
    `FROM ${base}\nRUN curl -s --max-time 5 http://93.184.216.34/ || (echo no-network; false)\n`,
  );
  await assert.rejects(c.build({ contextDir: ctx, dockerfile: "Dockerfile", tag: "nonet" }), (e) =>
    isAirlockError(e, "MACHINE_FAILED"),
  );
  await assert.rejects(c.build({ contextDir: ctx, dockerfile: "../x/Dockerfile", tag: "out" }), (e) =>
    isAirlockError(e, "CONTAINER_OPTION_REFUSED"),
  );
});

void test("service: reachable by name on loopback from the job, healthy, logs, limited like the machine", async () => {
  const svc = await c.startService("web", {
    image: svcImage,
    env: { SECRET_X: "s3cr3t" },
    options: [],
    volumes: [],
  });
  let health = await svc.health();
  for (let i = 0; i < 100 && health !== "healthy"; i++) {
    await new Promise((r) => setTimeout(r, 100)); // a health check polls: the service starts in the background
    health = await svc.health();
  }
  assert.equal(health, "healthy");
  const r = await sh(m, "curl -s http://web:8080/; getent hosts web");
  assert.match(r.stdout, /^service-page\n127\.0\.0\.1\s+web/, r.stderr);
  assert.match(await svc.logs(10_000), /GET \/ /);
  const inspect = podman(
    "inspect",
    "--format",
    "{{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}}",
    `airlock-${m.id}-svc-web`,
  );
  assert.match(inspect, /no-new-privileges/);
  const env = podman("inspect", "--format", "{{.Config.Env}}", `airlock-${m.id}-svc-web`);
  assert.match(env, /SECRET_X=s3cr3t/);
  const noCheck = await c.startService("plain", {
    image: base,
    env: {},
    options: ["--entrypoint=/bin/true"],
    volumes: [],
  });
  assert.equal(await noCheck.health(), "none");
  await assert.rejects(
    c.startService("bad", { image: base, env: {}, options: ["--privileged"], volumes: [] }),
    (e) => isAirlockError(e, "CONTAINER_OPTION_REFUSED"),
  );
});

void test("service: entrypoint and command replace the image's; a published port (18081:8081) answers too", async () => {
  await c.startService("alt", {
    image: svcImage,
    env: {},
    options: [],
    volumes: [],
    ports: ["18081:8081"],
    entrypoint: "python3",
    command: ["-m", "http.server", "8081", "--bind", "127.0.0.1", "--directory", "/srv"],
  });
  const cmd = podman("inspect", "--format", "{{.Path}} {{.Args}}", `airlock-${m.id}-svc-alt`);
  assert.match(cmd, /^python3 \[-m http\.server 8081 --bind 127\.0\.0\.1 --directory \/srv\]/);
  // The service starts in the background: the job polls for it as a workflow would.
  const r = await sh(
    m,
    "for i in $(seq 600); do curl -sf http://127.0.0.1:18081/ >/dev/null && break; sleep 0.1; done; " +
      "curl -s http://127.0.0.1:18081/; curl -s http://alt:8081/",
  );
  assert.equal(r.stdout, "service-page\nservice-page\n", r.stderr);
  // The host has no such port: the forward lives in the machine's network namespace only.
  assert.equal(podman("port", `airlock-${m.id}-svc-alt`).trim(), "");
  // The same host port again cannot be bound: a clear error, nothing half-started is kept running.
  await assert.rejects(
    c.startService("clash", {
      image: base,
      env: {},
      options: [],
      volumes: [],
      ports: ["18081:9"],
      entrypoint: "/bin/true",
    }),
    (e) => isAirlockError(e, "MACHINE_FAILED") && /18081/.test((e as Error).message),
  );
  await assert.rejects(
    c.startService("rsv", { image: base, env: {}, options: [], volumes: [], ports: ["3128:80"] }),
    (e) => isAirlockError(e, "CONTAINER_OPTION_REFUSED"),
  );
});

void test("run: workspace and temp parts mounted as GitHub does, output streamed, exit code kept", async () => {
  await m.writeFile("/airlock/workspace/in.txt", "from-the-job");
  const h = c.run({
    image: base,
    entrypoint: "/bin/sh",
    args: [
      "-c",
      "cat in.txt; echo; echo $GREETING; echo err >&2; echo done > /github/file_commands/out; ls -d /github/home /github/workflow; exit 7",
    ],
    env: { GREETING: "hello" },
    workdir: "/github/workspace",
  });
  const r = await collect(h);
  assert.equal(r.code, 7, r.err);
  assert.equal(r.out, "from-the-job\nhello\n/github/home\n/github/workflow\n");
  assert.match(r.err, /err/);
  assert.equal((await m.readFile("/airlock/temp/_runner_file_commands/out"))?.toString(), "done\n");
});

void test("run: kill() stops the container and everything in it", async () => {
  const cookie = `k${randomBytes(6).toString("hex")}`;
  const h = c.run({
    image: base,
    args: ["sh", "-c", "sleep 1000 & echo up; wait"],
    env: { COOKIE: cookie },
    workdir: "/",
  });
  await new Promise((res) => h.stdout.once("data", res));
  assert.ok(await hostHasProcessWith(cookie));
  h.kill();
  await h.wait();
  await waitFor(async () => !(await hostHasProcessWith(cookie)));
});

void test("destroy removes every sibling container and the images the machine built", async () => {
  const x = await prov.create({
    name: "t",
    root: { kind: "image", path: new ImageStore(loadOptions().imagesDir).resolve("debian-12")?.rootfs ?? "" },
  });
  await x.containers?.startService("db", {
    image: base,
    env: {},
    options: ["--entrypoint", "/bin/true"],
    volumes: [],
  });
  assert.equal(
    podman("ps", "--all", "--quiet", "--filter", `label=airlock.machine=${x.id}`).trim().split("\n").length,
    2,
  );
  await x.destroy();
  assert.equal(podman("ps", "--all", "--quiet", "--filter", `label=airlock.machine=${x.id}`).trim(), "");
  await m.destroy();
  assert.equal(podman("images", "--quiet", "--filter", `reference=${svcImage}`).trim(), "");
  await assert.rejects(c.startService("late", { image: base, env: {}, options: [], volumes: [] }), (e) =>
    isAirlockError(e, "MACHINE_FAILED"),
  );
});
