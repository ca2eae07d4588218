// The SSH provisioner against a real OpenSSH server on loopback (test/provisioners/sshd.ts): exec
// with exact argv/env/cwd, files without symlink escapes, kill and destroy leave no process, and
// host keys: only pinned keys are accepted, an unknown or changed key refuses the connection and
// marks the host unhealthy until the operator re-pins it. No trust on first use, ever.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { addHost, listHosts } from "../../src/cli/ssh-host.js";
import { isAirlockError } from "../../src/errors/index.js";
import {
  HOST_ROOT,
  createSshProvisioner,
  sshHostHealth,
  type Machine,
  type Provisioner,
} from "../../src/provisioners/index.js";
import { HostStore, parseHostKeys, type SshHost } from "../../src/provisioners/ssh/index.js";
import { BOOTSTRAP } from "../../src/provisioners/ssh/helper.js";
import { sshArgv } from "../../src/provisioners/ssh/ssh.js";
import { eventText, runJobOnNewMachine, type RunnerEvent } from "../../src/runner/index.js";
import { folderSource, jobFromWorkflow, workspaceLoader } from "../runner/helpers.js";
import { BASE_ENV, hostHasProcessWith, sh, waitFor } from "./helpers.js";
import { startSshd, type Sshd } from "../../bench/lib/sshd.js";

const isRoot = process.getuid?.() === 0;
let sshd: Sshd;
let dataDir: string;
let store: HostStore;
let host: SshHost;
const machines: Machine[] = [];

before(async () => {
  if (!isRoot) return;
  sshd = await startSshd();
  dataDir = mkdtempSync(path.join(os.tmpdir(), "airlock-ssh-data-"));
  store = new HostStore(dataDir);
  host = {
    name: "loop",
    address: "127.0.0.1",
    port: sshd.port,
    user: sshd.user,
    identity: sshd.identity,
    baseDir: `.airlock/test-${randomBytes(4).toString("hex")}`,
    nodePath: process.execPath,
    jobs: 4,
  };
  store.add(host, parseHostKeys(sshd.hostKey()));
});

after(async () => {
  for (const m of machines) await m.destroy().catch(() => undefined);
  for (const p of provisioners) await p.close?.();
  // The machines' parent folders on the host, in the dedicated test user's home.
  if (sshd) rmSync(path.join(sshd.home, ".airlock"), { recursive: true, force: true });
  await sshd?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** The machine's control socket (ssh/index.ts: m-<hex of the id> in a tmp folder airlock-ssh-XXXX). */
function controlSocketOf(m: Machine): string {
  const hex = m.id.split("-").pop()!;
  const dir = readdirSync(os.tmpdir()).find(
    (d) => d.startsWith("airlock-ssh-") && existsSync(path.join(os.tmpdir(), d, `m-${hex}`)),
  );
  assert.ok(dir, "control socket");
  return path.join(os.tmpdir(), dir, `m-${hex}`);
}

/** Kills, by pid, the sshd session processes of the test's dedicated user (its open connections). */
function killTestUserSshd(): void {
  const uid = Number(execFileSync("id", ["-u", sshd.user], { encoding: "utf8" }).trim());
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (statSync(`/proc/${pid}`).uid === uid && readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "sshd")
        process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone
    }
  }
}

const provisioners: Provisioner[] = [];
/** A provisioner of the test's node (or of another data folder); all closed at the end. */
function prov(dir = dataDir): Provisioner {
  const p = createSshProvisioner({ dataDir: dir, warn: () => undefined });
  provisioners.push(p);
  return p;
}
async function machine(): Promise<Machine> {
  const m = await prov().create({ name: "t", root: HOST_ROOT });
  machines.push(m);
  return m;
}
const opts = { skip: isRoot ? false : "needs root (starts sshd, adds a test user)" };

async function run(
  m: Machine,
  argv: string[],
  env: Record<string, string> = BASE_ENV,
  cwd = m.paths.workspace,
) {
  const h = m.exec({ argv, env, cwd });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  h.stdout.on("data", (b: Buffer) => out.push(b));
  h.stderr.on("data", (b: Buffer) => err.push(b));
  const r = await h.wait();
  return { ...r, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() };
}

void test("exec: output, exit code, exactly the given env and cwd", opts, async () => {
  const m = await machine();
  const r = await sh(m, 'echo out; echo err >&2; echo "$FOO|${HOME-unset}|$(pwd)"; exit 7', { FOO: "bar" });
  assert.equal(r.exitCode, 7);
  assert.equal(r.stdout, `out\nbar|unset|${m.paths.workspace}\n`);
  assert.equal(r.stderr, "err\n");
  const env = await run(m, ["/usr/bin/env"], { ONLY: "this" });
  assert.equal(env.stdout.toString(), "ONLY=this\n");
  const missing = await run(m, ["/nonexistent/prog"]);
  assert.equal(missing.exitCode, 127);
  const badCwd = await run(m, ["/bin/true"], BASE_ENV, path.posix.join(m.paths.workspace, "nope"));
  assert.equal(badCwd.exitCode, 127);
  const big = await run(m, ["/bin/sh", "-c", "head -c 3000000 /dev/zero"]);
  assert.equal(big.stdout.length, 3_000_000);
});

void test("exec: hostile argv and env arrive byte-exact, no shell sees them", opts, async () => {
  const m = await machine();
  const marker = `/tmp/airlock-pwned-${randomBytes(4).toString("hex")}`;
  const hostile = [
    "-n",
    "--help",
    `$(touch ${marker})`,
    `\`touch ${marker}\``,
    `'; touch ${marker}; '`,
    `"; touch ${marker}; "`,
    "line1\nline2\r\n",
    "a;b&&c||d|e>f<g",
    "",
    " spaced  out ",
    "\t\\\\x\\'",
    "\x01\x02\x1b[31m\x7f",
    "é ünïcødé \u{1f600}",
    "*",
    "~root",
    "${HOME}",
  ];
  const r = await run(m, ["/bin/sh", "-c", 'printf "%s\\0" "$@"', "sh", ...hostile], {
    ...BASE_ENV,
    WEIRD: `$(touch ${marker})\n'"\\`,
  });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(r.stdout.toString("utf8").split("\0").slice(0, -1), hostile);
  const env = await run(m, ["/bin/sh", "-c", 'printf "%s" "$WEIRD"'], {
    ...BASE_ENV,
    WEIRD: `$(touch ${marker})\n'"\\`,
  });
  assert.equal(env.stdout.toString(), `$(touch ${marker})\n'"\\`);
  const dash = await run(m, ["-oProxyCommand=touch " + marker]);
  assert.equal(dash.exitCode, 127);
  assert.equal(existsSync(marker), false);
});

void test("files: round trip, absence, size limit, copyIn; symlinks out are refused", opts, async () => {
  const m = await machine();
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const f = path.posix.join(m.paths.temp, "deep/er/file.bin");
  await m.writeFile(f, bytes);
  assert.deepEqual(await m.readFile(f), bytes);
  assert.equal(await m.readFile(path.posix.join(m.paths.temp, "absent")), undefined);
  await assert.rejects(m.readFile(f, { maxBytes: 100 }), (e) => isAirlockError(e, "MACHINE_FILE_TOO_LARGE"));
  // The job plants symlinks out of its folder; the host's files must stay out of reach.
  const outside = mkdtempSync(path.join(os.tmpdir(), "airlock-ssh-outside-"));
  writeFileSync(path.join(outside, "secret"), "host secret");
  const ws = m.paths.workspace;
  assert.equal(
    (await sh(m, `ln -s /etc etc && ln -s ${outside}/secret s && ln -s ${outside}/new n`)).exitCode,
    0,
  );
  const escape = (e: unknown) => isAirlockError(e, "MACHINE_PATH_ESCAPE");
  await assert.rejects(m.readFile(`${ws}/etc/passwd`), escape);
  await assert.rejects(m.readFile(`${ws}/s`), escape);
  await assert.rejects(m.writeFile(`${ws}/n`, "x"), escape);
  await assert.rejects(m.writeFile(`${ws}/etc/x`, "x"), escape);
  await assert.rejects(m.readFile("/etc/passwd"), escape);
  await assert.rejects(m.readFile(`${ws}/../../../../etc/passwd`), escape);
  await assert.rejects(m.copyIn(outside, `${ws}/etc/copied`), escape);
  assert.equal(existsSync(path.join(outside, "new")), false);
  // copyIn: a folder (replacing what is there) and a single executable file.
  const src = path.join(outside, "tree");
  mkdirSync(path.join(src, "sub"), { recursive: true });
  writeFileSync(path.join(src, "sub", "a.txt"), "A");
  writeFileSync(path.join(src, "run.sh"), "#!/bin/sh\necho ran\n", { mode: 0o755 });
  await m.writeFile(`${ws}/dst/stale`, "old");
  await m.copyIn(src, `${ws}/dst`);
  assert.equal((await m.readFile(`${ws}/dst/sub/a.txt`))?.toString(), "A");
  assert.equal(await m.readFile(`${ws}/dst/stale`), undefined);
  await m.copyIn(path.join(src, "run.sh"), `${ws}/bin/run.sh`);
  assert.equal((await run(m, [`${ws}/bin/run.sh`])).stdout.toString(), "ran\n");
  rmSync(outside, { recursive: true, force: true });
});

void test(
  "kill() ends the process group; destroy() kills every process and removes the folder",
  opts,
  async () => {
    const m = await machine();
    const cookie = `airlock-ssh-${randomBytes(6).toString("hex")}`;
    const h = m.exec({
      argv: ["/bin/sh", "-c", "sleep 1000 & sleep 1000"],
      env: { ...BASE_ENV, COOKIE: cookie },
      cwd: m.paths.workspace,
    });
    await waitFor(() => hostHasProcessWith(cookie));
    h.kill();
    assert.equal((await h.wait()).signal, "SIGKILL");
    await waitFor(async () => !(await hostHasProcessWith(cookie)));
    // Background processes outliving their step, one of them in a session of its own.
    const c2 = `${cookie}-bg`;
    const bg = await run(m, ["/bin/sh", "-c", "sleep 1000 & setsid sleep 1000 & echo started"], {
      ...BASE_ENV,
      COOKIE: c2,
    });
    assert.equal(bg.stdout.toString(), "started\n");
    await waitFor(() => hostHasProcessWith(c2));
    const root = path.posix.dirname(m.paths.workspace);
    assert.ok(existsSync(root));
    await m.destroy();
    await m.destroy();
    assert.equal(existsSync(root), false);
    assert.equal(await hostHasProcessWith(c2), false);
    assert.throws(
      () => m.exec({ argv: ["/bin/true"], env: {}, cwd: "/" }),
      (e) => isAirlockError(e, "MACHINE_FAILED"),
    );
  },
);

void test("job containers are refused", opts, async () => {
  await assert.rejects(
    prov().create({
      name: "t",
      root: HOST_ROOT,
      jobContainer: { image: "x", env: {}, options: [], volumes: [] },
    }),
    (e) => isAirlockError(e, "MACHINE_UNSUPPORTED"),
  );
});

void test("a host takes `jobs` machines at once; the next create waits for a destroy", opts, async () => {
  store.add({ ...host, jobs: 1 }, parseHostKeys(sshd.hostKey()), true);
  try {
    const p = prov();
    const a = await p.create({ name: "a", root: HOST_ROOT });
    let bDone = false;
    const b = p.create({ name: "b", root: HOST_ROOT }).then((m) => ((bDone = true), m));
    await a.exec({ argv: ["/bin/true"], env: {}, cwd: "/" }).wait();
    assert.equal(bDone, false);
    await a.destroy();
    const mb = await b;
    await mb.destroy();
  } finally {
    store.add(host, parseHostKeys(sshd.hostKey()), true);
  }
});

void test("an unknown host key is refused, nothing is learnt, the host turns unhealthy", opts, async () => {
  // A node of its own whose only host is pinned to a key the server does not have.
  const dir = path.join(dataDir, "other-node");
  const s2 = new HostStore(dir);
  const wrongKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
  s2.add({ ...host, name: "other" }, parseHostKeys(wrongKey));
  const known = readFileSync(s2.knownHosts, "utf8");
  const p2 = prov(dir);
  assert.match((await p2.describe?.()) ?? "", /not single-use: 1 host\(s\), 1 healthy/);
  await assert.rejects(p2.create({ name: "t", root: HOST_ROOT }), (e) =>
    isAirlockError(e, "HOST_KEY_MISMATCH"),
  );
  assert.equal(readFileSync(s2.knownHosts, "utf8"), known);
  assert.equal(s2.health("other").healthy, false);
  // The node's report says so.
  assert.match((await p2.describe?.()) ?? "", /1 host\(s\), 0 healthy/);
  // No key at all for the host: refused as well (never trust on first use), nothing written.
  s2.pin("other", parseHostKeys(wrongKey));
  writeFileSync(s2.knownHosts, "");
  await assert.rejects(p2.create({ name: "t", root: HOST_ROOT }), (e) =>
    isAirlockError(e, "HOST_KEY_MISMATCH"),
  );
  assert.equal(readFileSync(s2.knownHosts, "utf8"), "");
  assert.match(s2.health("other").reason ?? "", /not pinned/);
  // Unhealthy: the next create is refused without connecting, naming the host and why.
  await assert.rejects(
    p2.create({ name: "t", root: HOST_ROOT }),
    (e) => isAirlockError(e, "HOST_KEY_MISMATCH") && /other: host key not pinned/.test(e.message),
  );
});

void test(
  "a CHANGED host key refuses the connection and marks the host unhealthy until re-pinned",
  opts,
  async () => {
    const m = await machine();
    const oldKey = sshd.hostKey();
    await sshd.rekey();
    assert.notEqual(sshd.hostKey(), oldKey);
    // A running machine keeps the connection it verified at its start...
    assert.equal((await sh(m, "echo still")).stdout, "still\n");
    // ...but every new connection is refused: a new machine, and the running one once its connection
    // is gone (its sshd session processes killed, its master connection ended).
    await assert.rejects(prov().create({ name: "t", root: HOST_ROOT }), (e) =>
      isAirlockError(e, "HOST_KEY_MISMATCH"),
    );
    assert.equal(store.health("loop").healthy, false);
    assert.match(store.health("loop").reason ?? "", /changed/);
    const socket = controlSocketOf(m);
    killTestUserSshd();
    await waitFor(() => Promise.resolve(!existsSync(socket)));
    const r = await run(m, ["/bin/echo", "must not run"]);
    assert.equal(r.exitCode, 255);
    assert.equal(r.stdout.length, 0);
    assert.match(r.stderr, /host key changed/);
    await assert.rejects(
      prov().create({ name: "t", root: HOST_ROOT }),
      (e) => isAirlockError(e, "HOST_KEY_MISMATCH") && /loop: host key changed/.test(e.message),
    );
    const listed = sshHostHealth(dataDir).find((h) => h.host.name === "loop");
    assert.equal(listed?.healthy, false);
    // The operator re-pins the new key: healthy again, jobs run.
    store.pin("loop", parseHostKeys(sshd.hostKey()));
    assert.equal(store.health("loop").healthy, true);
    const m2 = await machine();
    assert.equal((await sh(m2, "echo ok")).stdout, "ok\n");
  },
);

void test(
  "operator commands: add --scan --yes pins what the host offers, list shows health, remove",
  opts,
  async () => {
    const dir = path.join(dataDir, "cli-node");
    const s3 = new HostStore(dir);
    const lines: string[] = [];
    const o = {
      address: `127.0.0.1:${sshd.port}`,
      user: sshd.user,
      identity: sshd.identity,
      scan: true,
      yes: true,
    };
    assert.equal(await addHost(s3, "scanned", o, (l) => lines.push(l)), 0);
    // The fingerprint shown is the host key's, and that key is what got pinned.
    assert.match(lines.join("\n"), /SHA256:\S+/);
    assert.deepEqual(s3.keyLines("scanned"), [`scanned ${sshd.hostKey().split(" ").slice(0, 2).join(" ")}`]);
    await assert.rejects(
      addHost(s3, "scanned", o, () => undefined),
      (e) => isAirlockError(e, "CONFLICT"),
    );
    await assert.rejects(
      addHost(s3, "both", { ...o, hostKey: sshd.hostKey() }, () => undefined),
      (e) => isAirlockError(e, "USAGE"),
    );
    const m = await prov(dir).create({ name: "t", root: HOST_ROOT });
    await m.destroy();
    assert.match(listHosts(s3, false), /scanned .* healthy/);
    s3.markUnhealthy("scanned", "host key changed: it is not the pinned one");
    assert.match(listHosts(s3, false), /UNHEALTHY since .*: host key changed/);
    assert.equal(s3.remove("scanned"), true);
    assert.deepEqual(s3.list(), []);
    assert.deepEqual(s3.keyLines("scanned"), []);
  },
);

void test("a workflow job runs on an SSH machine (run steps, GITHUB_ENV, outputs, HOME)", opts, async () => {
  const job = jobFromWorkflow(
    "ssh.yml",
    `on: push
jobs:
  remote:
    runs-on: x
    steps:
      - run: echo "GREETING=hello 'quoted' \\$(not run)" >> "$GITHUB_ENV"
      - id: s
        run: |
          echo "greeting: $GREETING"
          echo "home: $HOME" "ws: $GITHUB_WORKSPACE"
          echo "answer=42" >> "$GITHUB_OUTPUT"
      - run: test "\${{ steps.s.outputs.answer }}" = 42 && echo "output ok"
`,
  );
  const events: RunnerEvent[] = [];
  const result = await runJobOnNewMachine(prov(), { name: "remote", root: HOST_ROOT }, job, {
    actions: workspaceLoader(),
    source: folderSource("/nonexistent"),
    onEvent: (e) => events.push(e),
  });
  const lines = events.flatMap((e) => eventText(e).split("\n"));
  assert.equal(result.conclusion, "success", lines.join("\n"));
  const text = lines.join("\n");
  assert.match(text, /greeting: hello 'quoted' \$\(not run\)$/m);
  assert.match(text, /home: \/\S+\/m-[0-9a-f]+\/home ws: \/\S+\/m-[0-9a-f]+\/workspace$/m);
  assert.match(text, /\| output ok$/m);
});

void test("every ssh call: no config, only Airlock's known-hosts file, strict checking, no TOFU", () => {
  const store = new HostStore("/nonexistent-data");
  const h: SshHost = {
    name: "h",
    address: "192.0.2.1",
    port: 2222,
    user: "ci",
    identity: "/keys/id",
    baseDir: "m",
    nodePath: "/usr/bin/node",
    jobs: 1,
  };
  for (const control of [undefined, { path: "/run/x", master: true }]) {
    const argv = sshArgv(h, store, control);
    const opts = argv.flatMap((a, i) => (argv[i - 1] === "-o" ? [a] : []));
    assert.deepEqual(argv.slice(0, 2), ["-F", "/dev/null"]);
    for (const o of [
      `UserKnownHostsFile=${store.knownHosts}`,
      "GlobalKnownHostsFile=/dev/null",
      "StrictHostKeyChecking=yes",
      "HostKeyAlias=h",
      "UpdateHostKeys=no",
      "BatchMode=yes",
      "IdentitiesOnly=yes",
      "IdentityFile=/keys/id",
      "ForwardAgent=no",
    ])
      assert.ok(opts.includes(o), o);
    assert.equal(opts.filter((o) => o.startsWith("StrictHostKeyChecking")).length, 1);
    // The remote command is the constant bootstrap, after "--" and the address.
    assert.deepEqual(argv.slice(-3), ["--", "192.0.2.1", BOOTSTRAP]);
  }
});
