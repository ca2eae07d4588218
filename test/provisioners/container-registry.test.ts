// The container provisioner pulling workflow images from a REAL registry (Debian's docker-registry
// on loopback, TLS with a self-signed CA given as the provisioner's certDir, htpasswd auth): the
// job container and a service with the right credentials start; wrong or missing ones fail in one
// line with REGISTRY_UNAUTHORIZED even after the image is in local storage (the registry checks
// every use); the password is in no process's argv or environment, no warning, no error; a name
// on another host is refused before any credentials are asked for.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import {
  createContainerProvisioner,
  type Machine,
  type MachineSpec,
  type Provisioner,
  type RegistryCredentials,
} from "../../src/provisioners/index.js";
import { jobImageRootfs } from "../helpers/job-image.js";
import {
  buildFromBase,
  ensureBaseImage,
  PODMAN_GLOBAL,
  startRegistry,
  type TestRegistry,
} from "../helpers/registry.js";
import { hostHasProcessWith, sh } from "./helpers.js";

const skip = process.getuid?.() === 0 ? false : "needs root (rootful podman)";
let reg: TestRegistry;
let baseDir: string;
let prov: Provisioner;
const warnings: string[] = [];
const machines: Machine[] = [];
const tag = randomBytes(4).toString("hex");
const JOB = `airlock-test/job:${tag}`;
const SERVICE = `airlock-test/service:${tag}`;

before(
  async () => {
    if (skip) return;
    reg = await startRegistry();
    const base = await ensureBaseImage();
    reg.push(base, JOB);
    const local = buildFromBase(`localhost/airlock-test/service:${tag}`, ['CMD ["sleep", "600"]']);
    reg.push(local, SERVICE);
    baseDir = await mkdtemp(path.join(os.tmpdir(), "airlock-ctr-reg-"));
    prov = createContainerProvisioner({
      baseDir,
      diskPool: { warm: 0 },
      registry: { address: reg.host, certDir: reg.certDir },
      warn: (line) => warnings.push(line),
    });
  },
  { timeout: 300_000 },
);
after(async () => {
  if (skip) return;
  for (const m of machines) await m.destroy();
  await prov?.close?.();
  // What the tests pulled or built (the layers stay: they are the base image's).
  for (const ref of [`${reg.host}/${JOB}`, `${reg.host}/${SERVICE}`, `localhost/airlock-test/service:${tag}`])
    spawnSync("podman", [...PODMAN_GLOBAL, "rmi", ref], { stdio: "ignore" });
  await reg?.stop();
  if (baseDir) await rm(baseDir, { recursive: true, force: true });
});

/** A job-container machine; `asked` records the machine ids the credentials were asked for. */
async function jobMachine(image: string, creds: RegistryCredentials | undefined, asked: string[] = []) {
  const spec: MachineSpec = {
    name: "t",
    root: { kind: "image", path: jobImageRootfs() },
    jobContainer: {
      image,
      env: {},
      options: [],
      volumes: [],
      credentials(id) {
        asked.push(id);
        return Promise.resolve(creds);
      },
    },
  };
  const m = await prov.create(spec);
  machines.push(m);
  return m;
}

/** Runs `fn` while watching every host process's argv and environment for the password. */
async function watchingForPassword<T>(fn: () => Promise<T>): Promise<{ value: T; seen: boolean }> {
  let seen = false;
  let done = false;
  const watcher = (async () => {
    while (!done) {
      if (await hostHasProcessWith(reg.password)) seen = true;
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    return { value: await fn(), seen };
  } finally {
    done = true;
    await watcher;
  }
}

function oneLineWithoutPassword(e: unknown): boolean {
  const m = (e as Error).message;
  console.log(`${(e as { code?: string }).code}: ${m}`);
  return (
    !m.includes("\n") &&
    !m.includes(reg.password) &&
    !m.includes(Buffer.from(reg.password).toString("base64"))
  );
}

void test(
  "the job container's image is pulled with the job's credentials, asked for with the machine's id",
  { skip, timeout: 300_000 },
  async () => {
    const asked: string[] = [];
    const right = { username: reg.username, password: reg.password };
    const { value: m, seen } = await watchingForPassword(() => jobMachine(JOB, right, asked));
    assert.deepEqual(asked, [m.id], "asked once, with the id the machine got");
    assert.equal(seen, false, "the password was in some process's argv or environment");
    const r = await sh(m, "grep -m1 '^ID=' /etc/os-release; id -u");
    assert.equal(r.stdout, "ID=debian\n1001\n", r.stderr);
    // The full name, under the registry's address, is the same image.
    const full = await jobMachine(`${reg.host}/${JOB}`, right);
    assert.equal((await sh(full, "echo ok")).stdout, "ok\n");
    assert.ok(!warnings.join("\n").includes(reg.password));
  },
);

void test(
  "wrong or missing credentials: REGISTRY_UNAUTHORIZED in one line, even with the image in storage",
  { skip, timeout: 300_000 },
  async () => {
    // The first test pulled JOB into local storage: the registry still decides at every use.
    const cases: Array<[string, RegistryCredentials | undefined]> = [
      ["wrong password", { username: reg.username, password: `${reg.password}-wrong` }],
      ["unknown user", { username: "nobody", password: reg.password }],
      ["no credentials", undefined],
      ["empty credentials (unset secrets)", { username: "", password: "" }],
    ];
    for (const [what, creds] of cases) {
      await assert.rejects(
        jobMachine(JOB, creds),
        (e) =>
          isAirlockError(e, "REGISTRY_UNAUTHORIZED") &&
          e.message.includes(`${reg.host}/${JOB}`) &&
          oneLineWithoutPassword(e),
        what,
      );
    }
    // Right credentials, an image the registry does not have: a pull failure, not an auth one.
    await assert.rejects(
      jobMachine("airlock-test/missing:1", { username: reg.username, password: reg.password }),
      (e) => isAirlockError(e, "CONTAINER_PULL_FAILED") && oneLineWithoutPassword(e),
    );
    assert.ok(!warnings.join("\n").includes(reg.password));
  },
);

void test("an image on another host is refused before credentials are asked for", { skip }, async () => {
  const asked: string[] = [];
  for (const image of ["evil.example/x:1", "127.0.0.1:1/x:1", `${reg.host.replace(/:\d+$/, ":1")}/${JOB}`]) {
    await assert.rejects(
      jobMachine(image, { username: reg.username, password: reg.password }, asked),
      (e) => isAirlockError(e, "CONTAINER_OPTION_REFUSED") && /other than this node's/.test(e.message),
      image,
    );
  }
  assert.deepEqual(asked, []);
});

void test(
  "a service image is pulled with the service's credentials; wrong ones are refused",
  { skip, timeout: 300_000 },
  async () => {
    const m = await jobMachine(JOB, { username: reg.username, password: reg.password });
    const spec = { image: SERVICE, env: {}, options: [], volumes: [] };
    await assert.rejects(
      m.containers!.startService("bad", {
        ...spec,
        credentials: { username: reg.username, password: "nope" },
      }),
      (e) => isAirlockError(e, "REGISTRY_UNAUTHORIZED") && oneLineWithoutPassword(e),
    );
    const { value: svc, seen } = await watchingForPassword(() =>
      m.containers!.startService("svc", {
        ...spec,
        credentials: { username: reg.username, password: reg.password },
      }),
    );
    assert.equal(seen, false);
    assert.equal(await svc.health(), "none");
    // Started, and reachable by its name from the job's machine.
    assert.equal((await sh(m, "getent hosts svc | cut -d' ' -f1")).stdout, "127.0.0.1\n");
  },
);
