// Behaviour of the fake provisioner: private folders, exact env, process-group kill, destroy.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { symlink } from "node:fs/promises";
import path from "node:path";
import { after, test } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { HOST_ROOT, createFakeProvisioner, type Machine } from "../../src/provisioners/index.js";
import { hostHasProcessWith, sh, waitFor } from "./helpers.js";

const prov = createFakeProvisioner();
const machines: Machine[] = [];
async function machine(): Promise<Machine> {
  const m = await prov.create({ name: "t", root: HOST_ROOT });
  machines.push(m);
  return m;
}
after(async () => {
  for (const m of machines) await m.destroy();
});

void test("paths are real, private host folders; files round-trip", async () => {
  const a = await machine();
  const b = await machine();
  assert.notEqual(a.paths.workspace, b.paths.workspace);
  for (const p of Object.values(a.paths)) assert.ok(existsSync(p), p);
  await a.writeFile(path.join(a.paths.temp, "x/y.txt"), "hi");
  assert.equal((await a.readFile(path.join(a.paths.temp, "x/y.txt")))?.toString(), "hi");
  assert.equal(await b.readFile(path.join(b.paths.temp, "x/y.txt")), undefined);
  assert.equal(a.hostPath?.(a.paths.home), a.paths.home);
});

void test("exec gets exactly the given env and cwd", async () => {
  const m = await machine();
  const r = await sh(m, 'echo "$FOO|$HOME|$(pwd)"', { FOO: "bar" });
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdout.trim(), `bar||${m.paths.workspace}`);
});

void test("exit code and missing program are reported", async () => {
  const m = await machine();
  assert.equal((await sh(m, "exit 3")).exitCode, 3);
  const h = m.exec({ argv: ["/nonexistent/prog"], env: {}, cwd: m.paths.workspace });
  assert.equal((await h.wait()).exitCode, 127);
});

void test("kill() kills the step's process group", async () => {
  const m = await machine();
  const cookie = `airlock-test-${randomBytes(6).toString("hex")}`;
  const h = m.exec({
    argv: ["/bin/sh", "-c", `sleep 1000 & sleep 1000; echo never`],
    env: { PATH: "/usr/bin:/bin", COOKIE: cookie },
    cwd: m.paths.workspace,
  });
  await waitFor(() => hostHasProcessWith(cookie));
  h.kill();
  const r = await h.wait();
  assert.equal(r.signal, "SIGKILL");
  await waitFor(async () => !(await hostHasProcessWith(cookie)));
});

void test("destroy kills background processes, removes the folder, and is idempotent", async () => {
  const m = await machine();
  const cookie = `airlock-test-${randomBytes(6).toString("hex")}`;
  const r = await sh(m, "sleep 1000 >/dev/null 2>&1 &", { COOKIE: cookie });
  assert.equal(r.exitCode, 0);
  assert.ok(await hostHasProcessWith(cookie));
  await m.destroy();
  await m.destroy();
  assert.ok(!existsSync(m.paths.workspace));
  await waitFor(async () => !(await hostHasProcessWith(cookie)));
});

void test("wait() does not hang on a background process holding stdout", async () => {
  const m = await machine();
  const r = await sh(m, "sleep 1000 & echo done");
  assert.equal(r.stdout.trim(), "done");
  await m.destroy();
});

void test("readFile/writeFile refuse symlinks leading out of the machine", async () => {
  const m = await machine();
  await symlink("/etc/passwd", path.join(m.paths.temp, "env"));
  await symlink("/etc", path.join(m.paths.temp, "dir"));
  await assert.rejects(m.readFile(path.join(m.paths.temp, "env")), (e) =>
    isAirlockError(e, "MACHINE_PATH_ESCAPE"),
  );
  await assert.rejects(m.writeFile(path.join(m.paths.temp, "env"), "x"), (e) =>
    isAirlockError(e, "MACHINE_PATH_ESCAPE"),
  );
  await assert.rejects(m.readFile(path.join(m.paths.temp, "dir/passwd")), (e) =>
    isAirlockError(e, "MACHINE_PATH_ESCAPE"),
  );
  await assert.rejects(m.readFile("/etc/passwd"), (e) => isAirlockError(e, "MACHINE_PATH_ESCAPE"));
});

void test("readFile refuses a file larger than maxBytes without reading it", async () => {
  const m = await machine();
  const file = path.join(m.paths.temp, "big");
  await m.writeFile(file, Buffer.alloc(4096, 1));
  assert.equal((await m.readFile(file, { maxBytes: 4096 }))?.length, 4096);
  await assert.rejects(m.readFile(file, { maxBytes: 4095 }), (e) =>
    isAirlockError(e, "MACHINE_FILE_TOO_LARGE"),
  );
});
