// What makes a sandbox start fast without cutting a corner: warm slots (cgroups and waiting
// airlock-exec zygotes made ahead, sandbox/warm.ts), the one-bind root of an image that holds its
// mount points (images/mount-points.ts), and the sweep of cgroups a dead process left behind.
// Real bubblewrap, real cgroups (as root), real processes.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync, symlinkSync, writeFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { addMountPoints, hasMountPoints } from "../../src/images/index.js";
import { nativeBinary } from "../../src/native/index.js";
import { detectCgroups, sweepStale } from "../../src/provisioners/common/cgroups/index.js";
import { createSandboxProvisioner, type Machine, type MachineSpec } from "../../src/provisioners/index.js";
import { WarmSlots } from "../../src/provisioners/sandbox/warm.js";
import { buildTinyRootfs } from "../helpers/rootfs.js";
import { sh } from "./helpers.js";

const asRoot = process.getuid?.() === 0;
const layout = asRoot ? detectCgroups() : undefined;
const cgroups = layout !== undefined && layout.mode !== "none";
const parent = `airlock-warm-test-${process.pid}`;
let baseDir: string;

before(async () => {
  baseDir = await mkdtemp(path.join(os.tmpdir(), "airlock-warm-test-"));
  await chmod(baseDir, 0o755); // the sandbox's host uid reads the images below
});
after(async () => {
  await rm(baseDir, { recursive: true, force: true });
  for (const m of [layout?.v2, ...(layout?.v1.values() ?? [])]) {
    const d = m && path.join(m, parent);
    if (d && existsSync(d)) rmdirSync(d);
  }
});

async function tinyImage(name: string, withMountPoints: boolean): Promise<string> {
  const root = path.join(baseDir, name);
  await mkdir(root);
  await buildTinyRootfs(root, ["/bin/sh", "/usr/bin/cat", "/usr/bin/ls", "/usr/bin/tr", "/usr/bin/sleep"]);
  if (withMountPoints) addMountPoints(root);
  await chmod(root, 0o755);
  return root;
}

/** Host pids in the machine's memory/pids cgroup (any hierarchy this host has). */
function machineCgroupPids(id: string): number[] {
  const dirs = [layout?.v2, ...(layout?.v1.values() ?? [])].filter((d): d is string => d !== undefined);
  for (const d of dirs) {
    const f = path.join(d, parent, id, "cgroup.procs");
    if (existsSync(f)) return readFileSync(f, "utf8").trim().split("\n").filter(Boolean).map(Number);
  }
  return [];
}

void test("mount points: added to a rootfs as real folders and files; a symlink in the way is left alone", () => {
  const good = path.join(baseDir, "mp-good");
  mkdirSync(good);
  assert.equal(hasMountPoints(good), false);
  const fresh = path.join(baseDir, "mp-fresh");
  mkdirSync(fresh);
  addMountPoints(fresh);
  assert.equal(hasMountPoints(fresh), true);
  assert.ok(existsSync(path.join(fresh, "airlock/externals/node/bin/node")));
  // /airlock pointing out of the rootfs: nothing is created through it.
  const evil = path.join(baseDir, "mp-evil");
  const outside = path.join(baseDir, "outside");
  mkdirSync(evil);
  mkdirSync(outside);
  symlinkSync(outside, path.join(evil, "airlock"));
  addMountPoints(evil);
  assert.equal(hasMountPoints(evil), false);
  assert.equal(existsSync(path.join(outside, "workspace")), false, "nothing written through the symlink");
});

for (const withMountPoints of [true, false]) {
  void test(`an image ${withMountPoints ? "with" : "without"} mount points runs jobs the same (one root bind or entry by entry)`, async () => {
    const prov = createSandboxProvisioner({ baseDir: path.join(baseDir, `p-${withMountPoints}`) });
    const root = await tinyImage(`img-${withMountPoints}`, withMountPoints);
    try {
      const m = await prov.create({ name: "t", root: { kind: "image", path: root } });
      try {
        const r = await sh(
          m,
          "echo hi > /airlock/workspace/x && cat /airlock/workspace/x; echo x > /usr/y 2>/dev/null || echo ro; ls /airlock",
        );
        assert.equal(r.exitCode, 0, r.stderr);
        assert.match(r.stdout, /^hi\nro\n/);
        assert.match(r.stdout, /workspace/);
      } finally {
        await m.destroy();
      }
    } finally {
      await prov.close?.();
    }
  });
}

for (const warmSlots of [2, 0]) {
  void test(
    `${warmSlots ? "warm" : "cold"} slots: PID 1 and every step start inside the machine's cgroups, with exactly their environment`,
    { skip: cgroups ? false : "needs root and cgroups" },
    async () => {
      const prov = createSandboxProvisioner({
        baseDir: path.join(baseDir, `slots-${warmSlots}`),
        cgroupParent: parent,
        warmSlots,
      });
      const spec: MachineSpec = {
        name: "t",
        root: { kind: "image", path: await tinyImage(`slots-${warmSlots}`, true) },
        limits: { pids: 64 },
      };
      const ms: Machine[] = [];
      try {
        for (let i = 0; i < 3; i++) ms.push(await prov.create(spec)); // more than the warm slots
        for (const m of ms) {
          for (let step = 0; step < 3; step++) {
            const h = m.exec({
              argv: [
                "/bin/sh",
                "-c",
                'echo "$$ $FOO"; /usr/bin/cat /proc/$$/environ | /usr/bin/tr "\\0" " "',
              ],
              env: { FOO: `step ${step}` },
              cwd: m.paths.workspace,
            });
            let out = "";
            h.stdout.on("data", (b: Buffer) => (out += b.toString()));
            const r = await h.wait();
            assert.equal(r.exitCode, 0);
            assert.match(out, new RegExp(`^\\d+ step ${step}\\n`));
            assert.equal(out.split("\n")[1], `FOO=step ${step} `, "nothing but the given environment");
          }
          // A step left running is in the machine's cgroup, seen from the host (found by its pid
          // inside the machine, the last field of NSpid).
          const h = m.exec({
            argv: ["/bin/sh", "-c", "echo $$; exec /usr/bin/sleep 1000"],
            env: {},
            cwd: m.paths.workspace,
          });
          const inner = (await new Promise<Buffer>((r) => h.stdout.once("data", r))).toString().trim();
          const pids = machineCgroupPids(m.id);
          const nspid = (p: number): string => {
            try {
              return /^NSpid:.*\s(\d+)$/m.exec(readFileSync(`/proc/${p}/status`, "utf8"))?.[1] ?? "";
            } catch {
              return "";
            }
          };
          assert.ok(
            pids.some((p) => nspid(p) === inner),
            `step ${inner} among the machine cgroup's ${pids.join(",")}`,
          );
          h.kill();
          await h.wait();
        }
      } finally {
        for (const m of ms) await m.destroy();
        await prov.close?.();
      }
      for (const m of ms) assert.deepEqual(machineCgroupPids(m.id), []);
    },
  );
}

void test("a warm slot whose helper died while waiting is never handed out", async () => {
  const slots = new WarmSlots({
    exec: nativeBinary("airlock-exec"),
    layout: undefined,
    cgroupParent: parent,
    user: undefined,
    warm: 1,
    warn: () => undefined,
  });
  slots.start();
  await slots.whenIdle();
  assert.equal(slots.readyCount, 1);
  const first = slots.take();
  assert.equal(first.cold, false);
  await slots.whenIdle();
  assert.equal(slots.readyCount, 1);
  // Kill the ready slot's init zygote from outside.
  const next = (
    slots as unknown as {
      ready: Array<{ init: { child: { pid: number; ref(): void; once(e: string, f: () => void): void } } }>;
    }
  ).ready[0]!;
  next.init.child.ref(); // waiting zygotes do not keep a process alive: this test waits for its exit
  const gone = new Promise<void>((r) => next.init.child.once("exit", () => r()));
  process.kill(next.init.child.pid, "SIGKILL");
  await gone;
  const second = slots.take();
  assert.equal(second.cold, true, "a fresh slot, not the dead one");
  assert.ok(second.init.alive && second.step.alive);
  for (const s of [first, second]) {
    s.init.cancel();
    s.step.cancel();
  }
  await slots.whenIdle();
  await slots.close();
});

void test(
  "sweepStale removes empty left-over machine cgroups and never one with a process",
  { skip: cgroups ? false : "needs root and cgroups" },
  async () => {
    const root = layout!.v2 ?? [...layout!.v1.values()][0]!;
    const dir = path.join(root, parent);
    mkdirSync(dir, { recursive: true });
    const empty = path.join(dir, "sbx-empty");
    const busy = path.join(dir, "sbx-busy");
    const other = path.join(dir, "not-ours");
    for (const d of [empty, busy, other]) mkdirSync(d);
    const sleeper = spawn("sleep", ["1000"], { stdio: "ignore" });
    try {
      writeFileSync(path.join(busy, "cgroup.procs"), String(sleeper.pid));
      assert.equal(sweepStale(layout!, parent, "sbx-"), 0, "young cgroups are left alone");
      assert.equal(sweepStale(layout!, parent, "sbx-", 0), 1);
      assert.equal(existsSync(empty), false);
      assert.equal(existsSync(busy), true);
      assert.equal(existsSync(other), true);
    } finally {
      sleeper.kill("SIGKILL");
      await new Promise((r) => sleeper.once("exit", r));
      for (const d of [busy, other]) {
        for (;;) {
          try {
            rmdirSync(d);
            break;
          } catch (e) {
            // EBUSY: the kernel frees a cgroup shortly after its last process is gone.
            if ((e as NodeJS.ErrnoException).code !== "EBUSY") break;
            await new Promise((r) => setImmediate(r));
          }
        }
      }
    }
  },
);
