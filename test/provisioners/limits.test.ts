// Resource limits of sandbox machines, with real cgroups, real bubblewrap and real loop-mounted
// filesystems (root only): each limit is visible from inside, each bomb (memory, processes, disk)
// is contained, kills its whole machine and is reported with its exact line, a machine beside it
// and the next one succeed, and nothing (cgroup, mount, loop device, process) is left afterwards.
// No test waits for a fixed time: each waits for a result.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, existsSync, statSync, rmdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { isAirlockError } from "../../src/errors/index.js";
import { detectCgroups, type CgroupLayout } from "../../src/provisioners/common/cgroups/index.js";
import {
  HOST_ROOT,
  createSandboxProvisioner,
  type Machine,
  type MachineLimits,
  type Provisioner,
} from "../../src/provisioners/index.js";
import { eventText, runJobOnNewMachine, type RunnerEvent } from "../../src/runner/index.js";
import { folderSource, jobFromWorkflow, workspaceLoader } from "../runner/helpers.js";
import { hostHasProcessWith, sh } from "./helpers.js";

const root = process.getuid?.() === 0;
const skip = root ? false : "needs root (cgroups, loop devices)";
const parent = `airlock-test-${randomBytes(4).toString("hex")}`;
const layout: CgroupLayout | undefined = root ? detectCgroups() : undefined;
let baseDir: string;
let prov: Provisioner;
const warnings: string[] = [];

before(async () => {
  baseDir = await mkdtemp(path.join(os.tmpdir(), "airlock-limits-test-"));
  prov = createSandboxProvisioner({
    baseDir,
    cgroupParent: parent,
    diskPool: { warm: 1 },
    warn: (l) => warnings.push(l),
  });
});

after(async () => {
  await prov.close?.();
  await rm(baseDir, { recursive: true, force: true });
  // The shared parent stays in production (other machines use it); the test's own one goes.
  for (const d of parentDirs()) if (existsSync(d)) rmdirSync(d);
});

function parentDirs(l: CgroupLayout | undefined = layout): string[] {
  if (!l) return [];
  return [...new Set([l.v2, ...l.v1.values()])]
    .filter((m): m is string => m !== undefined)
    .map((m) => path.join(m, parent))
    .filter((d) => existsSync(d));
}

/** Machine cgroups under the test's parent, mounts and loop devices under baseDir. */
function leftovers(): string[] {
  const out: string[] = [];
  for (const d of parentDirs()) {
    for (const e of readdirSync(d, { withFileTypes: true }))
      if (e.isDirectory()) out.push(`cgroup ${d}/${e.name}`);
  }
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const mp = line.split(" ")[4];
    if (mp?.startsWith(baseDir)) out.push(`mount ${mp}`);
  }
  for (const dev of readdirSync("/sys/block").filter((d) => d.startsWith("loop"))) {
    const f = `/sys/block/${dev}/loop/backing_file`;
    if (existsSync(f) && readFileSync(f, "utf8").startsWith(baseDir)) out.push(`loop ${dev}`);
  }
  return out;
}

/** Disk images of machines alive (taken from the pool), by their backing file. */
function liveLoops(): number {
  return leftovers().filter((l) => l.startsWith("loop")).length;
}

async function machine(limits: MachineLimits, p: Provisioner = prov): Promise<Machine> {
  return p.create({ name: "limits", root: HOST_ROOT, limits });
}

const v1 = (r: "memory" | "pids" | "cpu"): boolean => layout?.resources[r] === "v1";

void test("each limit is visible from inside the machine", { skip }, async () => {
  const m = await machine({
    memoryMb: 300,
    cpus: 0.5,
    pids: 200,
    diskMb: 128,
    tmpMb: 32,
    shmMb: 16,
    nofile: 1024,
  });
  try {
    const mem = v1("memory")
      ? "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"
      : "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max";
    const cpu = v1("cpu")
      ? "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us"
      : "cut -d' ' -f1 /sys/fs/cgroup/cpu.max";
    const pids = v1("pids") ? "cat /sys/fs/cgroup/pids/pids.max" : "cat /sys/fs/cgroup/pids.max";
    const r = await sh(
      m,
      `${mem}; ${cpu}; ${pids}; df -B1M --output=size /airlock/workspace | tail -1; df -B1M --output=size /tmp | tail -1; df -B1M --output=size /dev/shm | tail -1; ulimit -n; ulimit -Hn; touch /airlock/home/h /airlock/temp/t && echo writable`,
    );
    assert.equal(r.exitCode, 0, r.stderr);
    const [memLimit, swapLimit, quota, pidsMax, diskSize, tmpSize, shmSize, nofile, nofileHard, writable] =
      r.stdout
        .trim()
        .split("\n")
        .map((l) => l.trim());
    assert.equal(memLimit, String(300 * 1024 * 1024));
    assert.equal(swapLimit, v1("memory") ? String(300 * 1024 * 1024) : "0");
    assert.equal(quota, "50000");
    assert.equal(pidsMax, "200");
    // ext4's own metadata takes a few MiB of the 128.
    assert.ok(Number(diskSize) > 110 && Number(diskSize) <= 128, `workspace size ${diskSize}`);
    assert.equal(tmpSize, "32");
    assert.equal(shmSize, "16");
    assert.equal(nofile, "1024");
    assert.equal(nofileHard, "1024");
    assert.equal(writable, "writable");
    // No other cgroup of the host is visible where the job looks.
    const ls = await sh(m, "ls /sys/fs/cgroup/*/ /sys/fs/cgroup/ 2>/dev/null | grep -c airlock || true");
    assert.equal(ls.stdout.trim(), "0");
    assert.equal(await m.limitExceeded?.(), undefined);
  } finally {
    await m.destroy();
  }
});

void test("a job cannot raise its own limits", { skip }, async () => {
  const m = await machine({ memoryMb: 128, pids: 100 });
  try {
    const r = await sh(
      m,
      "for f in /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max; do [ -e $f ] && (echo max > $f) 2>/dev/null && echo raised $f; done; echo $$ > /sys/fs/cgroup/unified/cgroup.procs 2>/dev/null && echo moved; true",
    );
    assert.doesNotMatch(r.stdout, /raised|moved/);
  } finally {
    await m.destroy();
  }
});

void test(
  "memory bomb: the machine is killed and says so; a machine beside it and the next one succeed",
  { skip },
  async () => {
    const bomb = await machine({ memoryMb: 128, pids: 100 });
    // Made inside the try: a failed start must not leave the first machine running (a live
    // machine keeps this file's process from ever exiting).
    let beside: Machine | undefined;
    try {
      beside = await machine({ memoryMb: 256, pids: 100 });
      const [b, ok] = await Promise.all([
        sh(bomb, "python3 -c 'a = []\nwhile True: a.append(bytearray(8 << 20))'; echo survived"),
        sh(beside, "python3 -c 'a = bytearray(64 << 20); print(len(a))'"),
      ]);
      assert.notEqual(b.exitCode, 0);
      assert.doesNotMatch(b.stdout, /survived/);
      assert.equal(await bomb.limitExceeded?.(), "memory limit 128 MiB exceeded");
      assert.throws(
        () => bomb.exec({ argv: ["/bin/true"], env: {}, cwd: bomb.paths.workspace }),
        (e) => isAirlockError(e, "MACHINE_FAILED"),
      );
      assert.equal(ok.exitCode, 0, ok.stderr);
      assert.equal(ok.stdout.trim(), String(64 << 20));
      assert.equal(await beside.limitExceeded?.(), undefined);
    } finally {
      await bomb.destroy();
      await beside?.destroy();
    }
    const next = await machine({ memoryMb: 128, pids: 100 });
    try {
      assert.equal((await sh(next, "echo fine")).stdout, "fine\n");
    } finally {
      await next.destroy();
    }
  },
);

void test(
  "fork bomb: contained by the process limit, the whole machine killed, reported",
  { skip },
  async () => {
    const cookie = `forkbomb-${randomBytes(4).toString("hex")}`;
    const bomb = await machine({ memoryMb: 1024, pids: 64 });
    let beside: Machine | undefined;
    try {
      beside = await machine({ memoryMb: 256, pids: 64 });
      // The bomb never ends by itself: only the watcher killing the machine ends the step.
      const running = sh(bomb, `export C=${cookie}; f() { f | f & }; f; while :; do sleep 1; done`);
      const ok = await sh(beside, "for i in $(seq 30); do sh -c true || exit 1; done; echo fine");
      assert.equal(ok.stdout, "fine\n", ok.stderr);
      const b = await running;
      assert.notEqual(b.exitCode, 0);
      assert.equal(await bomb.limitExceeded?.(), "process limit 64 exceeded");
      assert.equal(await beside.limitExceeded?.(), undefined);
    } finally {
      await bomb.destroy();
      await beside?.destroy();
    }
    assert.equal(await hostHasProcessWith(cookie), false);
    const next = await machine({ pids: 64 });
    try {
      assert.equal((await sh(next, "echo fine")).stdout, "fine\n");
    } finally {
      await next.destroy();
    }
  },
);

void test(
  "disk fill: stops at the machine's size, the host's disk keeps the rest, reported",
  { skip },
  async () => {
    const m = await machine({ diskMb: 64 });
    let beside: Machine | undefined;
    try {
      beside = await machine({ diskMb: 64 });
      const host = machineImage(m);
      const r = await sh(m, "dd if=/dev/zero of=/airlock/workspace/big bs=1M count=1000 2>&1; echo rc=$?");
      assert.match(r.stdout, /No space left on device/);
      // The backing file holds at most the machine's size (it is sparse until written).
      assert.ok(statSync(host).blocks * 512 <= 64 * 1024 * 1024, "image grew past its size");
      assert.equal(await m.limitExceeded?.(), "disk limit 64 MiB exceeded");
      const ok = await sh(beside, "dd if=/dev/zero of=f bs=1M count=16 2>/dev/null && echo fine");
      assert.equal(ok.stdout, "fine\n");
      assert.equal(await beside.limitExceeded?.(), undefined);
    } finally {
      await m.destroy();
      await beside?.destroy();
    }
    const next = await machine({ diskMb: 64 });
    try {
      assert.equal((await sh(next, "df -B1M --output=used . | tail -1")).stdout.trim(), "1");
    } finally {
      await next.destroy();
    }
  },
);

/** The host file behind a machine's filesystem. */
function machineImage(m: Machine): string {
  const ws = m.hostPath?.("/airlock/workspace");
  assert.ok(ws);
  const mnt = path.dirname(ws);
  return `${mnt}.img`;
}

void test(
  "the runner reports the limit in one log line and as the job's failure reason",
  { skip },
  async () => {
    const job = jobFromWorkflow(
      "limits.yml",
      `on: push
jobs:
  bomb:
    runs-on: x
    steps:
      - run: |
          python3 -c 'a = []
          while True: a.append(bytearray(8 << 20))'
      - run: echo never
      - if: always()
        run: echo never-either
`,
    );
    const events: RunnerEvent[] = [];
    const result = await runJobOnNewMachine(
      prov,
      { name: "bomb", root: HOST_ROOT, limits: { memoryMb: 96, pids: 100 } },
      job,
      {
        actions: workspaceLoader(),
        source: folderSource("/nonexistent"),
        onEvent: (e) => events.push(e),
      },
    );
    assert.equal(result.conclusion, "failure");
    assert.equal(result.error, "memory limit 96 MiB exceeded");
    const lines = events.flatMap((e) => eventText(e).split("\n"));
    assert.equal(lines.filter((l) => l.includes("memory limit 96 MiB exceeded")).length, 1, lines.join("\n"));
    assert.deepEqual(
      result.steps.map((s) => s.conclusion),
      ["failure", "skipped", "skipped"],
    );
  },
);

void test("a cold start (no warm filesystem) works the same", { skip }, async () => {
  const cold = createSandboxProvisioner({ baseDir, cgroupParent: parent, diskPool: { warm: 0 } });
  try {
    const m = await machine({ diskMb: 48 }, cold);
    const r = await sh(m, "df -B1M --output=size . | tail -1");
    assert.ok(Number(r.stdout) > 36 && Number(r.stdout) <= 48, r.stdout);
    await m.destroy();
  } finally {
    await cold.close?.();
  }
});

void test(
  "pure cgroup v1 (freezer kill, no cgroup.kill): a fork bomb is killed and its cgroups removed",
  {
    skip:
      skip || (layout?.v1.has("freezer") && layout.v1.has("pids") ? false : "no v1 freezer and pids here"),
  },
  async () => {
    const only1: CgroupLayout = { ...layout!, mode: "v1", v2Controllers: new Set() };
    delete (only1 as { v2?: string }).v2;
    const p = createSandboxProvisioner({ baseDir, cgroupParent: parent, cgroupLayout: only1 });
    const freezer = path.join(layout!.v1.get("freezer")!, parent);
    const cgroups = (): string[] =>
      readdirSync(freezer).filter((e) => statSync(path.join(freezer, e)).isDirectory());
    try {
      const m = await machine({ pids: 40, memoryMb: 512 }, p);
      const b = await sh(m, "f() { f | f & }; f; while :; do sleep 1; done");
      assert.notEqual(b.exitCode, 0);
      assert.equal(await m.limitExceeded?.(), "process limit 40 exceeded");
      await m.destroy();
      assert.ok(!cgroups().includes(m.id), "the machine's cgroup is removed");
    } finally {
      await p.close?.();
    }
    assert.deepEqual(cgroups(), [], "close() removes the warm slots' cgroups too");
  },
);

void test("a process that exits without destroy or close leaves no mount behind", { skip }, async () => {
  const script = `
    import { createSandboxProvisioner, HOST_ROOT } from ${JSON.stringify(path.resolve("src/provisioners/index.ts"))};
    const p = createSandboxProvisioner({ baseDir: ${JSON.stringify(baseDir)}, cgroupParent: ${JSON.stringify(parent)}, diskPool: { warm: 1 } });
    const m = await p.create({ name: "x", root: HOST_ROOT, limits: { diskMb: 32 } });
    console.log(m.hostPath("/airlock/workspace"));
    process.exit(0);
  `;
  const before = new Set(leftovers().filter((l) => l.startsWith("cgroup")));
  const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  assert.equal(child.status, 0, child.stderr);
  const ws = child.stdout.trim();
  assert.ok(ws.startsWith(baseDir), child.stdout);
  assert.ok(!existsSync(ws), "the machine's filesystem is gone");
  assert.deepEqual(
    leftovers()
      .filter((l) => !l.startsWith("cgroup"))
      .filter((l) => l.includes(`/${child.pid}-`)),
    [],
  );
  // Its cgroups (its machine's and its warm slots', emptied: bwrap died with its parent, the waiting
  // helpers read end of file) are what a crash leaves; the next start sweeps them (sweepStale, once
  // a minute old), here they are removed at once.
  const its = leftovers().filter((l) => l.startsWith("cgroup") && !before.has(l));
  assert.ok(its.length > 0);
  for (const l of its) {
    const cg = l.slice("cgroup ".length);
    while (readFileSync(path.join(cg, "cgroup.procs"), "utf8").trim() !== "")
      await new Promise((r) => setImmediate(r));
    rmdirSync(cg);
  }
});

void test("after destroy nothing is left: no cgroup, no mount, no loop device", { skip }, async () => {
  const m = await machine({ memoryMb: 64, pids: 32, diskMb: 32 });
  await sh(m, "(sleep 1000 &) ; setsid sleep 1000 & echo started");
  assert.ok(leftovers().some((l) => l.startsWith("cgroup")));
  await m.destroy();
  await m.destroy(); // idempotent
  // Only the warm pools remain (filesystems and slots ready for the next machines) ...
  assert.deepEqual(
    leftovers().filter((l) => l.startsWith("cgroup") && l.includes(m.id)),
    [],
  );
  const warm = liveLoops();
  // One warm filesystem per size this file asked for (32, 48, 64, 128 MiB), never more.
  assert.ok(warm <= 4, `warm pool holds ${warm}`);
  // ... and close() releases those.
  await prov.close?.();
  assert.deepEqual(leftovers(), []);
  assert.deepEqual(warnings, []);
  prov = createSandboxProvisioner({ baseDir, cgroupParent: parent, diskPool: { warm: 1 } });
});
