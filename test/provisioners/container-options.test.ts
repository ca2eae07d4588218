// `options:` end to end with real podman: what the node's check (checkContainer, the one table of
// src/containers) accepts is what a real container gets — --init, --read-only, --hostname, --env,
// the health-check family and a pool-allowed --memory on a service; --hostname and --env on a job
// container — and every flag the table passes on is one this node's podman knows.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { loadOptions } from "../../src/config/index.js";
import { checkContainer, OPTIONS, splitWords } from "../../src/containers/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import { ImageStore } from "../../src/images/index.js";
import { containerCgroups } from "../../src/provisioners/container/cgroup.js";
import { rootfsTag } from "../../src/provisioners/container/image.js";
import {
  createContainerProvisioner,
  type ContainerSpec,
  type Machine,
  type Provisioner,
  type ServiceContainer,
} from "../../src/provisioners/index.js";
import { sh, waitFor } from "./helpers.js";

let baseDir: string;
let prov: Provisioner;
let m: Machine;
let base: string;

const podman = (...args: string[]): string =>
  execFileSync("podman", ["--runtime", "runc", "--cgroup-manager", "cgroupfs", ...args], {
    encoding: "utf8",
    env: { ...process.env, CONTAINERS_CONF: path.join(baseDir, "containers.conf") },
  });

function rootfs(): string {
  const img = new ImageStore(loadOptions().imagesDir).resolve("debian-12");
  if (!img) throw new Error("no debian-12 image: run airlock image build debian-12");
  return img.rootfs;
}

/** A service spec as the node passes it on: `options` through checkContainer with `allow`. */
function checked(what: string, options: string[], allow: string[] = []): ContainerSpec {
  return checkContainer(
    { image: base, env: {}, options, volumes: [] },
    { allowOptions: allow },
    what,
    "service",
  );
}

async function settled(svc: ServiceContainer): Promise<string> {
  let h = await svc.health();
  await waitFor(async () => (h = await svc.health()) !== "starting");
  return h;
}

before(async () => {
  baseDir = await mkdtemp(path.join(os.tmpdir(), "airlock-ctr-opt-"));
  prov = createContainerProvisioner({ baseDir, diskPool: { warm: 0 } });
  m = await prov.create({ name: "t", root: { kind: "image", path: rootfs() } });
  base = rootfsTag(rootfs());
});
after(async () => {
  await m?.destroy();
  await prov?.close?.();
  await rm(baseDir, { recursive: true, force: true });
});

void test("every flag the table passes on is one this podman knows", () => {
  const help = execFileSync("podman", ["run", "--help"], { encoding: "utf8" });
  for (const [name, def] of Object.entries(OPTIONS)) {
    if (def.never || (def.job !== "flag" && def.service !== "flag")) continue;
    assert.match(help, new RegExp(`\\s${name}[\\s=]`), `${name} is not a flag of podman run`);
  }
});

void test("service: --init, --read-only, --hostname, --env and a pool-allowed --memory take effect", async () => {
  const script = [
    "tr '\\0' ' ' < /proc/1/cmdline; echo",
    "hostname",
    "touch /made 2>/dev/null && echo writable || echo read-only",
    'echo "opt=$OPT"',
    "echo end",
    "sleep 1000",
  ].join("; ");
  const words = splitWords(`--init --read-only -h svcbox -e "OPT=a b=c" --memory 64m`);
  const spec = checked(
    "service 'opts'",
    [...words, "--entrypoint", JSON.stringify(["/bin/sh", "-c", script])],
    ["--memory"],
  );
  const svc = await m.containers!.startService("opts", spec);
  let logs = "";
  await waitFor(async () => (logs = await svc.logs(10_000)).includes("end\n"));
  const lines = logs.trim().split("\n");
  assert.match(lines[0] ?? "", /^\/run\/podman-init -- \/bin\/sh -c /, logs);
  assert.deepEqual(lines.slice(1, 4), ["svcbox", "read-only", "opt=a b=c"], logs);
  // The kernel's memory limit of the service's own cgroup, read on the host.
  const pid = Number(podman("inspect", "--format", "{{.State.Pid}}", `airlock-${m.id}-svc-opts`).trim());
  const mem = containerCgroups(pid).memory;
  assert.ok(mem, "the service has a memory cgroup");
  const limit = await readFile(path.join(mem.dir, mem.v2 ? "memory.max" : "memory.limit_in_bytes"), "utf8");
  assert.equal(limit.trim(), String(64 * 1024 * 1024));
  // Without the pool's say-so the same --memory is refused before anything starts.
  assert.throws(
    () => checked("service 'opts'", ["--memory", "64m"]),
    (e) => isAirlockError(e, "CONTAINER_OPTION_REFUSED"),
  );
});

void test("service: the health-check family decides healthy and unhealthy", async () => {
  const sleep = ["--entrypoint", JSON.stringify(["/bin/sleep", "1000"])];
  const good = await m.containers!.startService(
    "good",
    checked("service 'good'", [
      ...splitWords("--health-cmd 'test -e /etc/hostname' --health-interval 1s --health-timeout 5s"),
      ...splitWords("--health-retries 2 --health-start-period 0s"),
      ...sleep,
    ]),
  );
  assert.equal(await settled(good), "healthy");
  const bad = await m.containers!.startService(
    "bad",
    checked("service 'bad'", [
      ...splitWords("--health-cmd false --health-interval=1s --health-retries=1"),
      ...sleep,
    ]),
  );
  assert.equal(await settled(bad), "unhealthy");
  const none = await m.containers!.startService(
    "none",
    checked("service 'none'", ["--no-healthcheck", ...sleep]),
  );
  assert.equal(await none.health(), "none");
});

void test("job container: --hostname and --env on PID 1, --init and --read-only as it is anyway", async () => {
  const spec = checkContainer(
    { image: base, env: {}, options: splitWords("--init --read-only -h jobbox -e JOBOPT=x=1"), volumes: [] },
    {},
    "container",
    "job",
  );
  const { credentials: _none, ...jobContainer } = spec;
  const job = await prov.create({ name: "j", root: { kind: "image", path: rootfs() }, jobContainer });
  try {
    const r = await sh(
      job,
      "hostname; tr '\\0' '\\n' < /proc/1/environ | grep ^JOBOPT=; touch /usr/x 2>/dev/null || echo read-only; " +
        "tr '\\0' ' ' < /proc/1/cmdline",
    );
    assert.match(
      r.stdout,
      /^jobbox\nJOBOPT=x=1\nread-only\n\/airlock\/externals\/\S*airlock-exec .*--init/,
      r.stderr,
    );
  } finally {
    await job.destroy();
  }
  // What a job container's steps could not honour is refused, not dropped.
  for (const text of ["--user 0", "--entrypoint /bin/sh", "--workdir /src", "-t"])
    assert.throws(
      () =>
        checkContainer(
          { image: base, env: {}, options: splitWords(text), volumes: [] },
          {},
          "container",
          "job",
        ),
      (e) => isAirlockError(e, "CONTAINER_OPTION_REFUSED"),
      text,
    );
});
