// Container variables and podman's own environment, with real rootful podman behind a recording
// wrapper (it writes down every argv, podman's environment and the env-file's modes, then execs
// podman): a secret-like value given to a job container, a service and a Docker-action run never
// appears in any argv, reaches the container exactly, and podman itself runs with a fixed
// environment whatever the agent's holds (glibc's, Docker's, proxy and registry variables).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { loadOptions } from "../../src/config/index.js";
import { isAirlockError } from "../../src/errors/index.js";
import { ImageStore } from "../../src/images/index.js";
import { envFileText, MAX_ENV_LINE } from "../../src/provisioners/container/env-file.js";
import { rootfsTag } from "../../src/provisioners/container/image.js";
import { ensureWorkflowImage } from "../../src/provisioners/container/registry.js";
import { isPodmanSensitive, Podman, PODMAN_PATH } from "../../src/provisioners/container/podman.js";
import {
  createContainerProvisioner,
  type ExecHandle,
  type Machine,
  type Provisioner,
} from "../../src/provisioners/index.js";
import { sh, waitFor } from "./helpers.js";

const SECRET = `tok${randomBytes(8).toString("hex")}`;
/** `=`, quotes, spaces (leading and trailing), `#`, `$`, backslashes, unicode: all kept as they are. */
const VALUE = ` ${SECRET}=a "dq" 'sq' #x $HOME \\n \\ é✓ `;
/** Variables of the agent that podman, Go or glibc would obey: none may reach podman. */
const HOSTILE: Record<string, string> = {
  GCONV_PATH: "/nonexistent-gconv",
  GLIBC_TUNABLES: "glibc.malloc.check=0",
  LOCPATH: "/nonexistent-locales",
  HOSTALIASES: "/nonexistent-aliases",
  MALLOC_ARENA_MAX: "1",
  DOCKER_HOST: "unix:///nonexistent.sock",
  HTTPS_PROXY: "http://127.0.0.1:9",
  REGISTRY_AUTH_FILE: "/nonexistent-auth.json",
};
const WRAPPER = `#!/bin/sh
d=$(dirname "$0")
for a in "$@"; do printf '%s\\0' "$a"; done >> "$d/argv.log"
printf '\\n' >> "$d/argv.log"
/usr/bin/env > "$d/env.$$"
for a in "$@"; do
  case "$a" in --env-file=*) f=\${a#--env-file=}; stat -c '%a %u' "$f" "$(dirname "$f")" >> "$d/modes.log";; esac
done
exec /usr/bin/podman "$@"
`;

let dir: string;
let baseDir: string;
let prov: Provisioner;
let m: Machine;
const saved: Record<string, string | undefined> = {};

function rootfs(): string {
  const img = new ImageStore(loadOptions().imagesDir).resolve("debian-12");
  if (!img) throw new Error("no debian-12 image: run airlock image build debian-12");
  return img.rootfs;
}

async function collect(h: ExecHandle): Promise<{ code: number | null; out: string; err: string }> {
  let out = "";
  let err = "";
  h.stdout.on("data", (b: Buffer) => (out += b.toString()));
  h.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const r = await h.wait();
  return { code: r.exitCode, out, err };
}

/** Lines `NAME=value` of an `env` output as a map. */
function envLines(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "airlock-ctr-env-"));
  await chmod(dir, 0o755);
  baseDir = path.join(dir, "base");
  await writeFile(path.join(dir, "podman"), WRAPPER, { mode: 0o755 });
  for (const [k, v] of Object.entries(HOSTILE)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  prov = createContainerProvisioner({ baseDir, podmanPath: path.join(dir, "podman"), diskPool: { warm: 0 } });
  m = await prov.create({ name: "t", root: { kind: "image", path: rootfs() } });
});
after(async () => {
  await m?.destroy();
  await prov?.close?.();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await rm(dir, { recursive: true, force: true });
});

void test("container variables reach the container exactly and never podman's argv or environment", async () => {
  const c = m.containers!;
  const base = rootfsTag(rootfs());
  // A service: `env:` and `-e` of its options, names podman or glibc would obey among them.
  const svc = await c.startService("envsvc", {
    image: base,
    env: { SVC_SECRET: VALUE, HTTPS_PROXY: VALUE, GCONV_PATH: VALUE, EMPTY: "" },
    options: ["--entrypoint=/usr/bin/env", "--env", `OPT_SECRET=${VALUE}`],
    volumes: [],
  });
  let logs = "";
  await waitFor(async () => (logs = await svc.logs(100_000)).includes("OPT_SECRET="));
  const seen = envLines(logs);
  for (const k of ["SVC_SECRET", "HTTPS_PROXY", "GCONV_PATH", "OPT_SECRET"])
    assert.equal(seen.get(k), VALUE, k);
  assert.equal(seen.get("EMPTY"), "");
  // A Docker-action run: INPUT_* and the rest of the step's variables.
  const run = await collect(
    c.run({
      image: base,
      entrypoint: "/usr/bin/env",
      args: [],
      env: { INPUT_TOKEN: VALUE, DOCKER_HOST: VALUE, LD_LIBRARY_PATH: VALUE },
      workdir: "/github/workspace",
    }),
  );
  assert.equal(run.code, 0, run.err);
  const ran = envLines(run.out);
  for (const k of ["INPUT_TOKEN", "DOCKER_HOST", "LD_LIBRARY_PATH"]) assert.equal(ran.get(k), VALUE, k);
  // A job container: its `env` and the `-e` of its options reach its PID 1.
  const job = await prov.create({
    name: "j",
    root: { kind: "image", path: rootfs() },
    jobContainer: {
      image: base,
      env: { JOB_SECRET: VALUE },
      options: [`--env=JOB_OPT=${VALUE}`, "--hostname=jobbox"],
      volumes: [],
    },
  });
  try {
    const r = await sh(job, "tr '\\0' '\\n' < /proc/1/environ; echo; hostname");
    const pid1 = envLines(r.stdout);
    assert.equal(pid1.get("JOB_SECRET"), VALUE, r.stderr);
    assert.equal(pid1.get("JOB_OPT"), VALUE);
    assert.match(r.stdout, /\njobbox\n$/);
  } finally {
    await job.destroy();
  }

  // Every podman command line the code built: the secret is in none.
  const calls = (await readFile(path.join(dir, "argv.log"), "utf8")).split("\0\n").filter((l) => l !== "");
  assert.ok(calls.length > 10, `${calls.length} podman calls`);
  for (const argv of calls) assert.ok(!argv.includes(SECRET), argv.split("\0").join(" "));
  assert.ok(calls.some((a) => a.includes("--env-file=")));
  // The env-files: 0600 in a 0700 folder, root's; all gone now.
  const modes = (await readFile(path.join(dir, "modes.log"), "utf8")).trim().split("\n");
  assert.ok(modes.length >= 6, modes.join("|"));
  for (let i = 0; i < modes.length; i += 2) assert.deepEqual(modes.slice(i, i + 2), ["600 0", "700 0"]);
  assert.deepEqual(
    (await readdir(baseDir)).filter((n) => n.startsWith("env-")),
    [],
    "no env-file left behind",
  );
  // podman's own environment: the same fixed two variables at every call, nothing of the agent's.
  const envs = (await readdir(dir)).filter((n) => n.startsWith("env."));
  assert.ok(envs.length === calls.length, `${envs.length} environments for ${calls.length} calls`);
  for (const name of envs) {
    const env = envLines(await readFile(path.join(dir, name), "utf8"));
    for (const shell of ["PWD", "OLDPWD", "SHLVL", "_"]) env.delete(shell);
    assert.deepEqual([...env.keys()].sort(), ["CONTAINERS_CONF", "PATH"]);
    assert.equal(env.get("PATH"), PODMAN_PATH);
    assert.ok(![...env.values()].some((v) => v.includes(SECRET)));
  }
});

void test("a value podman's env-file cannot carry is refused in one line, never cut", async () => {
  const c = m.containers!;
  const base = rootfsTag(rootfs());
  const unsupported = (e: unknown): boolean =>
    isAirlockError(e, "CONTAINER_ENV_UNSUPPORTED") &&
    !e.message.includes("\n") &&
    !e.message.includes(SECRET);
  await assert.rejects(
    c.startService("nl", { image: base, env: { A: `${SECRET}\nB=1` }, options: [], volumes: [] }),
    unsupported,
  );
  assert.throws(() => c.run({ image: base, args: [], env: { A: `${SECRET}\r` }, workdir: "/" }), unsupported);
  assert.throws(() => envFileText({ A: "x".repeat(MAX_ENV_LINE) }), unsupported);
  assert.equal(envFileText({ A: "x".repeat(MAX_ENV_LINE - 2) }).length, MAX_ENV_LINE + 1);
  assert.throws(
    () => envFileText({ "A B": "1" }),
    (e) => isAirlockError(e, "CONTAINER_OPTION_REFUSED"),
  );
  assert.deepEqual(
    (await readdir(baseDir)).filter((n) => n.startsWith("env-")),
    [],
  );
});

void test("registry credentials: a private auth file named in argv, the password in no argv, gone after", async () => {
  const wrapped = new Podman(path.join(dir, "podman"), path.join(baseDir, "containers.conf"), baseDir);
  const before = (await readFile(path.join(dir, "argv.log"), "utf8")).length;
  await assert.rejects(
    ensureWorkflowImage(wrapped, "airlock-test/nothing:1", { address: "127.0.0.1:9" }, () =>
      Promise.resolve({ username: "u", password: VALUE }),
    ),
    (e) => isAirlockError(e) && !e.message.includes(SECRET),
  );
  const calls = (await readFile(path.join(dir, "argv.log"), "utf8")).slice(before).split("\0\n");
  const pull = calls.find((c) => c.includes("\0pull\0"));
  assert.ok(pull?.includes("--authfile="), calls.join("|"));
  assert.ok(!calls.some((c) => c.includes(SECRET)));
  assert.deepEqual(
    (await readdir(baseDir)).filter((n) => n.startsWith("auth-")),
    [],
  );
});

void test("the names podman and glibc obey are known as such", () => {
  for (const name of [
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "GCONV_PATH",
    "GLIBC_TUNABLES",
    "LOCPATH",
    "NLSPATH",
    "HOSTALIASES",
    "RESOLV_HOST_CONF",
    "MALLOC_CHECK_",
    "MALLOC_ARENA_MAX",
    "TMPDIR",
    "DOCKER_HOST",
    "REGISTRY_AUTH_FILE",
    "CONTAINERS_STORAGE_CONF",
    "HTTPS_PROXY",
    "no_proxy",
    "GODEBUG",
  ])
    assert.ok(isPodmanSensitive(name), name);
  for (const name of ["INPUT_TOKEN", "DB_PASSWORD", "MY_GCONV_PATH", "PATHX"])
    assert.ok(!isPodmanSensitive(name), name);
});
